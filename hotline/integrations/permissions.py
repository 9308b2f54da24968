"""Who may do what with partner systems."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from hotline.common.registry import Permission
from hotline.orgs.models import Role


def may_manage_partners(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.has_role(Role.ADMIN)


PERMISSIONS = [Permission("integrations.manage", may_manage_partners, _("只有系统管理员可以管理接入系统"))]
