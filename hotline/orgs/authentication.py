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

from hotline.common.db import JoinedText


def token_expires_at(token: Any) -> dt.datetime:
    return token.created + dt.timedelta(days=settings.HOTLINE_API_TOKEN_DAYS)


def token_is_expired(token: Any) -> bool:
    return timezone.now() >= token_expires_at(token)


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token check (unknown key, inactive user), then the expiry. The token is read together with its user
    and the user's roles in one query (as the session backend, `UserWithUnitBackend`, reads the user): every
    permission check reads the roles, which were a query of their own. On PostgreSQL the statement is written
    once per process (compiling the ORM query cost more than running it, on every API request)."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        token = _token_with_user(self.get_model(), key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = token.user
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if token_is_expired(token):
            raise exceptions.AuthenticationFailed(_("令牌已过期，请重新获取"))
        return user, token


_sql: dict[type, tuple[str, list[str]]] = {}


def _token_with_user(model: Any, key: str) -> Any:
    """The token of `key` with `.user` loaded and the user's `role_set` filled, or None."""
    from django.db import connection

    from .models import User, UserRole

    if connection.vendor != "postgresql":
        roles = (
            UserRole.objects.filter(user_id=OuterRef("user_id"))
            .order_by()
            .values("user_id")
            .annotate(joined=JoinedText("role"))
            .values("joined")
        )
        token = (
            model.objects.select_related("user").annotate(role_csv=Subquery(roles)).filter(key=key).first()
        )
        if token is not None:
            token.user.__dict__["role_set"] = _roles(token.role_csv)
        return token
    if model not in _sql:
        q = connection.ops.quote_name
        fields = User._meta.concrete_fields
        names = [f.attname for f in fields]
        columns = ", ".join(f"u.{q(str(f.column))}" for f in fields)
        _sql[model] = (
            f"SELECT t.{q('created')}, {columns}, (SELECT string_agg(r.{q('role')}, ',') "
            f"FROM {q(UserRole._meta.db_table)} r WHERE r.{q('user_id')} = t.{q('user_id')}) "
            f"FROM {q(model._meta.db_table)} t JOIN {q(User._meta.db_table)} u ON u.{q('id')} = t.{q('user_id')} "
            f"WHERE t.{q('key')} = %s",
            names,
        )
    sql, names = _sql[model]
    with connection.cursor() as cursor:
        cursor.execute(sql, [key])
        row = cursor.fetchone()
    if row is None:
        return None
    user = User.from_db(connection.alias, names, row[1:-1])
    user.__dict__["role_set"] = _roles(row[-1])
    token = model.from_db(connection.alias, ["key", "user_id", "created"], [key, user.pk, row[0]])
    token.user = user
    return token


def _roles(joined: str | None) -> frozenset[str]:
    return frozenset(filter(None, (joined or "").split(",")))
