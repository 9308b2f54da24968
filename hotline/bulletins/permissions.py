"""Who may do what with bulletins."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from hotline.orgs.models import Role, UnitKind


def may_send(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.unit_id is not None


def may_review(user: Any) -> bool:
    """Leaders and administrators of the hotline office review bulletins going to many units."""
    if not getattr(user, "is_authenticated", False):
        return False
    in_office = user.unit is not None and user.unit.kind == UnitKind.OFFICE
    return bool(user.is_superuser) or (in_office and user.has_role(Role.LEADER, Role.ADMIN))


def review_threshold() -> int:
    """A bulletin to more units than this needs a reviewer's approval (unless a reviewer sends it)."""
    return int(getattr(settings, "HOTLINE_BULLETIN_REVIEW_UNITS", 3))
