"""Token authentication with expiry. Its own module, importing no DRF view: DRF's settings import it while
rest_framework.views is still loading."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication


def token_expires_at(token: Any) -> dt.datetime:
    return token.created + dt.timedelta(days=settings.HOTLINE_API_TOKEN_DAYS)


def token_is_expired(token: Any) -> bool:
    return timezone.now() >= token_expires_at(token)


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token check (unknown key, inactive user), then the expiry. The token is read together with its user,
    the user's unit and roles, in one query (as the session backend, `UserWithUnitBackend`, reads the user): every
    scoped query and permission check reads them, and each was a query of its own."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        from hotline.common.db import JoinedText

        from .models import UserRole

        model = self.get_model()
        roles = (
            UserRole.objects.filter(user_id=OuterRef("user_id"))
            .order_by()
            .values("user_id")
            .annotate(joined=JoinedText("role"))
            .values("joined")
        )
        token = (
            model.objects.select_related("user", "user__unit")
            .annotate(role_csv=Subquery(roles))
            .filter(key=key)
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = token.user
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        user.__dict__["role_set"] = frozenset(filter(None, (token.role_csv or "").split(",")))
        if token_is_expired(token):
            raise exceptions.AuthenticationFailed(_("令牌已过期，请重新获取"))
        return user, token
