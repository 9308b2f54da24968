from __future__ import annotations

from typing import Any

import pytest

from hotline.integrations.services import forget_partners
from hotline.orgs.models import Role, User
from hotline.orgs.services import user_create


@pytest.fixture
def admin_user(city: Any) -> User:
    return user_create(
        username="sysadmin", password="pw-123456", full_name="管理员", unit=city.office, roles=[Role.ADMIN]
    )


@pytest.fixture(autouse=True)
def no_cached_partners() -> None:
    forget_partners()  # the process-local partner cache is keyed by code; ids and secrets differ between tests
