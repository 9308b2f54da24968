"""Reaching the caller: a unit that sees the number masked may reveal it, audited each time."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from hotline.common.audit import audit_record
from hotline.common.errors import NotAllowed
from hotline.orgs.models import Role, User

from ..models import Case
from ..selectors import citizen_hidden, phone_masked

# Units working on the case call the citizen back about it; other roles (knowledge staff, city leaders) do not.
REVEAL_ROLES = (Role.UNIT_HANDLER, Role.UNIT_LEADER)


def may_reveal_phone(*, case: Case, user: User) -> bool:
    """Whether the "查看号码" button applies: the number is masked for this user, the case is not one whose
    caller asked for secrecy, there is a number, and the user's role calls citizens back."""
    return (
        bool(case.citizen_phone)
        and phone_masked(case, user)
        and not citizen_hidden(case, user)
        and user.has_role(*REVEAL_ROLES)
    )


def case_reveal_phone(*, case: Case, actor: User) -> str:
    """The caller's full number for a user who sees it masked; one audit row per reveal."""
    if not phone_masked(case, actor):
        return case.citizen_phone
    if citizen_hidden(case, actor):
        raise NotAllowed(_("来电人要求保密，号码仅热线办可见"))
    if not may_reveal_phone(case=case, user=actor):
        raise NotAllowed(_("您的角色无权查看来电号码"))
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="reveal_phone",
            obj=case,
            summary=f"查看工单 {case.number} 的来电号码",
        )
    return case.citizen_phone
