"""Credentials of third-party systems using the knowledge search API (KB-8): one key per client."""

from __future__ import annotations

import hmac
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from hotline.common import clock

from .models import ApiClient
from .services import hash_key


class ApiClientAuthentication(BaseAuthentication):
    """`X-Api-Key: <prefix>.<secret>` or `Authorization: ApiKey <prefix>.<secret>`."""

    def authenticate(self, request: Request) -> tuple[Any, ApiClient] | None:
        key = request.META.get("HTTP_X_API_KEY", "")
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not key and header.lower().startswith("apikey "):
            key = header[7:]
        key = key.strip()
        if not key:
            return None
        prefix, _dot, secret = key.partition(".")
        client = ApiClient.objects.filter(key_prefix=prefix, is_active=True).first()
        if client is None or not secret or not hmac.compare_digest(client.key_hash, hash_key(secret)):
            raise exceptions.AuthenticationFailed(_("接口密钥无效或已停用"))
        now = clock.now()
        if client.last_used_at is None or (now - client.last_used_at).total_seconds() > 60:
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        return AnonymousUser(), client

    def authenticate_header(self, request: Request) -> str:
        return "ApiKey"


class ApiClientAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "hotline.knowledge.auth.ApiClientAuthentication"
    name = "kbApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": "X-Api-Key"}


def client_of(request: Request) -> ApiClient:
    client = request.auth
    if not isinstance(client, ApiClient):
        raise exceptions.NotAuthenticated(_("请在请求头 X-Api-Key 中提供接口密钥"))
    return client
