"""Who may edit the dispatch catalogue and the auto-dispatch settings: the hotline office's dispatchers and admins."""

from __future__ import annotations

from typing import Any

from hotline.common.errors import NotAllowed
from hotline.orgs.models import Role


def may_manage(user: Any) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.in_office
        and user.has_role(Role.DISPATCHER, Role.ADMIN)
    )


def require_manage(user: Any) -> None:
    if not may_manage(user):
        raise NotAllowed("只有热线办派单员或系统管理员可以维护派单目录")
