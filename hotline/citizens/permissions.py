"""Who may see and change citizen records (ORG-4), as `Permission`s (common.registry): `may_x(user)` answers,
`may_x.require(user)` raises NotAllowed; other packages ask by name ("citizens.personal_data", …)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from hotline.common.registry import Permission
from hotline.orgs.models import Role

# Roles that work with citizens directly (take calls, call back, dispatch, check quality) see full numbers;
# everyone else (unit handlers and leaders, knowledge editors, city leaders) sees them masked.
PERSONAL_DATA_ROLES = frozenset({Role.AGENT, Role.DISPATCHER, Role.MONITOR, Role.ADMIN})
EDITOR_ROLES = frozenset({Role.AGENT, Role.DISPATCHER, Role.ADMIN})
BLACKLIST_ROLES = frozenset({Role.DISPATCHER, Role.MONITOR, Role.ADMIN})

sees_personal_data = Permission(
    "citizens.personal_data",
    lambda user: user.is_superuser or user.has_role(*PERSONAL_DATA_ROLES),
    _("您的角色不能查看市民的完整号码"),
)
may_edit_citizens = Permission(
    "citizens.edit",
    lambda user: user.is_superuser or user.has_role(*EDITOR_ROLES),
    _("您的角色不能修改市民档案"),
)
may_manage_blacklist = Permission(
    "citizens.blacklist",
    lambda user: user.is_superuser or user.has_role(*BLACKLIST_ROLES),
    _("您的角色不能管理黑名单"),
)

PERMISSIONS = [sees_personal_data, may_edit_citizens, may_manage_blacklist]
