"""Token authentication with expiry. Its own module, importing no DRF view: DRF's settings import it while
rest_framework.views is still loading."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication


def token_expires_at(token: Any) -> dt.datetime:
    return token.created + dt.timedelta(days=settings.HOTLINE_API_TOKEN_DAYS)


def token_is_expired(token: Any) -> bool:
    return timezone.now() >= token_expires_at(token)


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        user, token = super().authenticate_credentials(key)
        if token_is_expired(token):
            raise exceptions.AuthenticationFailed(_("令牌已过期，请重新获取"))
        return user, token
