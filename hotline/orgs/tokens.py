"""API tokens (DRF's one token per user): they expire after `HOTLINE_API_TOKEN_DAYS`, die when the user's password
changes, and a user can see and revoke their own. `POST /api/v1/auth/token/` issues a fresh one when the old one
has expired."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hotline.common.audit import audit_record

from .authentication import token_expires_at, token_is_expired
from .models import User

PREFIX_LENGTH = 8


def token_issue(*, user: User) -> Token:
    """The user's live token, or a new one in place of an expired one."""
    with transaction.atomic():
        token, created = Token.objects.select_for_update().get_or_create(user=user)
        if not created and token_is_expired(token):
            token.delete()
            token = Token.objects.create(user=user)
            created = True
        if created:
            audit_record(actor=user, action="create", obj=user, summary="签发 API 令牌")
    return token


def token_list(*, user: User) -> list[dict[str, Any]]:
    return [
        {
            "prefix": t.key[:PREFIX_LENGTH],
            "created": t.created,
            "expires_at": token_expires_at(t),
            "expired": token_is_expired(t),
        }
        for t in Token.objects.filter(user=user)
    ]


def token_revoke(*, user: User, prefix: str) -> bool:
    """Revoke the user's token starting with `prefix`; False when they have none such."""
    if len(prefix) != PREFIX_LENGTH:
        return False
    with transaction.atomic():
        deleted, _rows = Token.objects.filter(user=user, key__startswith=prefix).delete()
        if deleted:
            audit_record(actor=user, action="delete", obj=user, summary="撤销 API 令牌")
    return bool(deleted)


def revoke_on_password_change(sender: Any, instance: User, **kwargs: Any) -> None:
    """pre_save of User: a changed password hash revokes the user's token (whoever changed it, however)."""
    if instance.pk is None or kwargs.get("raw"):
        return
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and "password" not in update_fields:
        return
    if (
        getattr(instance, "_password", None) is None
        and update_fields is not None
        and set(update_fields) == {"password"}
    ):
        # Django re-hashing the same password at login (a newer hasher or more iterations) saves exactly this way,
        # after clearing `_password`; a password set with set_password() still carries it when saved.
        return
    old = User._default_manager.filter(pk=instance.pk).values_list("password", flat=True).first()
    if old is not None and old != instance.password:
        Token.objects.filter(user_id=instance.pk).delete()


class ObtainTokenApi(ObtainAuthToken):
    """Username and password → the user's token (a new one when the old one has expired)."""

    @extend_schema(
        summary="获取 API 令牌",
        responses=inline_serializer(
            "TokenOutput", {"token": serializers.CharField(), "expires_at": serializers.DateTimeField()}
        ),
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token = token_issue(user=serializer.validated_data["user"])
        return Response({"token": token.key, "expires_at": token_expires_at(token)})


TokenInfo = inline_serializer(
    "TokenInfo",
    {
        "prefix": serializers.CharField(),
        "created": serializers.DateTimeField(),
        "expires_at": serializers.DateTimeField(),
        "expired": serializers.BooleanField(),
    },
    many=True,
)


class TokenListApi(APIView):
    @extend_schema(summary="我的 API 令牌", responses=TokenInfo)
    def get(self, request: Request) -> Response:
        return Response(token_list(user=request.user))  # type: ignore[arg-type]


class TokenRevokeApi(APIView):
    @extend_schema(summary="撤销我的 API 令牌", request=None, responses={204: None})
    def delete(self, request: Request, prefix: str) -> Response:
        if not token_revoke(user=request.user, prefix=prefix):  # type: ignore[arg-type]
            raise exceptions.NotFound(_("令牌不存在"))
        return Response(status=204)
