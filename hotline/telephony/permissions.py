"""Who may do what in telephony (read by services, which refuse, and by views and menus)."""

from __future__ import annotations

from typing import Any

from hotline.orgs.models import Role

# The hotline's system administrators edit IVR flows and prompts.
IVR_EDITOR_ROLES = (Role.ADMIN,)
# Shift leaders / quality monitors supervise live calls and read the CDR list.
SUPERVISOR_ROLES = (Role.MONITOR,)


def _has(user: Any, roles: tuple[str, ...]) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser or user.has_role(*roles))


def may_edit_ivr(user: Any) -> bool:
    return _has(user, IVR_EDITOR_ROLES)


def may_supervise(user: Any) -> bool:
    return _has(user, SUPERVISOR_ROLES)


def _registered() -> list[Any]:
    from django.utils.translation import gettext_lazy as _

    from hotline.common.registry import Permission

    return [
        Permission("telephony.supervise", may_supervise, _("只有班长可以监听、强插和查看通话记录")),
        Permission("telephony.ivr", may_edit_ivr, _("只有系统管理员可以编辑语音导航")),
    ]
