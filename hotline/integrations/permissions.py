"""Who may do what with partner systems."""

from __future__ import annotations

from typing import Any

from hotline.orgs.models import Role


def may_manage_partners(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.has_role(Role.ADMIN)
