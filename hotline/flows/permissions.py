"""Who may manage flow templates: the hotline office's dispatchers, leaders and administrators. Every other user
only sees the position of the cases they may open, on the case page and through the case's flow endpoint."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from hotline.common.errors import NotAllowed
from hotline.orgs.models import Role

REFUSAL = _("只有热线办派单员、领导或系统管理员可以维护流程模板")


def may_manage(user: Any) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.in_office
        and user.has_role(Role.DISPATCHER, Role.LEADER, Role.ADMIN)
    )


def require_manage(user: Any) -> None:
    if not may_manage(user):
        raise NotAllowed(REFUSAL)
