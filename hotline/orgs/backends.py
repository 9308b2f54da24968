from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.db.models import OuterRef, Subquery

from hotline.common.db import JoinedText

from .models import Unit, User, UserRole

# The statement of `get_user` on PostgreSQL, written once per process: compiling the ORM query (select_related,
# the roles subquery) cost more CPU than running it, on every signed-in request (as `authentication.py` does for
# API tokens).
_sql: list[tuple[str, list[str], list[str]]] = []


class UserWithUnitBackend(ModelBackend):
    """Loads the signed-in user together with their unit and roles (one query): every scoped query reads them."""

    def get_user(self, user_id: Any) -> User | None:
        if connection.vendor == "postgresql":
            user = _user_with_unit(user_id)
        else:
            roles = (
                UserRole.objects.filter(user_id=OuterRef("pk"))
                .order_by()
                .values("user_id")
                .annotate(joined=JoinedText("role"))
                .values("joined")
            )
            user = (
                User._default_manager.select_related("unit")
                .annotate(role_csv=Subquery(roles))
                .filter(pk=user_id)
                .first()
            )
        if user is None or not self.user_can_authenticate(user):
            return None
        user.__dict__["role_set"] = frozenset(filter(None, (getattr(user, "role_csv", "") or "").split(",")))
        return user


def _user_with_unit(user_id: Any) -> User | None:
    """As the ORM query above, from a statement written once: the user, its unit (or None) and `role_csv`."""
    try:
        pk = int(user_id)
    except (TypeError, ValueError):
        return None
    if not _sql:
        q = connection.ops.quote_name
        user_fields, unit_fields = User._meta.concrete_fields, Unit._meta.concrete_fields
        columns = ", ".join(
            [f"u.{q(str(f.column))}" for f in user_fields] + [f"n.{q(str(f.column))}" for f in unit_fields]
        )
        _sql.append(
            (
                f"SELECT {columns}, (SELECT string_agg(r.{q('role')}, ',') FROM {q(UserRole._meta.db_table)} r "
                f"WHERE r.{q('user_id')} = u.{q('id')}) FROM {q(User._meta.db_table)} u "
                f"LEFT JOIN {q(Unit._meta.db_table)} n ON n.{q('id')} = u.{q('unit_id')} WHERE u.{q('id')} = %s",
                [f.attname for f in user_fields],
                [f.attname for f in unit_fields],
            )
        )
    sql, user_names, unit_names = _sql[0]
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])
        row = cursor.fetchone()
    if row is None:
        return None
    n = len(user_names)
    user = User.from_db(connection.alias, user_names, row[:n])
    unit_row = row[n:-1]
    unit = Unit.from_db(connection.alias, unit_names, unit_row) if unit_row[0] is not None else None
    User._meta.get_field("unit").set_cached_value(user, unit)
    user.role_csv = row[-1]  # type: ignore[attr-defined]
    return user
