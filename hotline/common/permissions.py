"""The shell's own permission: the Django admin site (系统管理) is for staff accounts."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .registry import Permission

admin_site = Permission(
    "common.admin_site", lambda user: bool(user.is_staff), _("只有管理人员可以进入系统管理")
)

PERMISSIONS = [admin_site]
