"""The signed-in user as the session backend loads it (on PostgreSQL from a statement written once per process):
the user's fields, unit and roles in one query; no unit is None; an inactive or unknown user is nobody."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hotline.orgs.backends import UserWithUnitBackend
from hotline.orgs.models import User, UserRole

pytestmark = pytest.mark.django_db


def test_user_unit_and_roles_in_one_query(city: Any) -> None:
    user = User.objects.create_user("desk1", password="x", unit=city.office, full_name="张三")
    UserRole.objects.create(user=user, role="agent")
    UserRole.objects.create(user=user, role="monitor")
    with CaptureQueriesContext(connection) as queries:
        loaded = UserWithUnitBackend().get_user(user.pk)
        assert loaded is not None
        assert (loaded.pk, loaded.username, loaded.full_name, loaded.password) == (
            user.pk, "desk1", "张三", user.password,
        )  # fmt: skip
        assert loaded.unit == city.office and loaded.unit.name == city.office.name
        assert loaded.role_set == frozenset({"agent", "monitor"})
        assert loaded.has_role("monitor") and not loaded.has_role("dispatcher")
    assert len(queries) == 1

    lone = User.objects.create_user("desk2", password="x")
    loaded = UserWithUnitBackend().get_user(str(lone.pk))  # the session keeps the pk as text
    assert loaded is not None and loaded.unit is None and loaded.role_set == frozenset()
    lone.is_active = False
    lone.save(update_fields=["is_active"])
    assert UserWithUnitBackend().get_user(lone.pk) is None
    assert UserWithUnitBackend().get_user(999999) is None
