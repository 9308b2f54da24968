"""Telephony reads: the user's own seat, whether telephony runs on this installation."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from hotline.common.errors import NotFound
from hotline.orgs.models import Role, User

from .models import Agent, CallbackStatus, MissedCall


def telephony_enabled() -> bool:
    """`HOTLINE_TELEPHONY`: off, on, or auto (on when Kamailio and pjsua2 are installed)."""
    mode = getattr(settings, "HOTLINE_TELEPHONY", "auto")
    if mode == "off":
        return False
    if mode == "on":
        return True
    from .runtime import missing_binaries

    return not missing_binaries()


def shows_numbers(user: User | None) -> bool:
    """ORG-4: the same rule as every other screen (citizens.selectors.sees_personal_data): hotline staff who
    work with citizens see a caller's full number, anyone else bound to a seat sees it masked."""
    from hotline.citizens.selectors import sees_personal_data

    return user is not None and sees_personal_data(user)


def caller_shown(*, user: User | None, number: str) -> str:
    from hotline.common.crypto import mask_phone

    return number if shows_numbers(user) else mask_phone(number)


def agent_for_user(*, user: User) -> Agent | None:
    """The seat bound to this staff account (one at most)."""
    return Agent.objects.select_related("current_call").filter(user=user).first()


# Hotline staff who call citizens back see the callback list (full numbers: they dial them).
CALLBACK_ROLES = frozenset({Role.AGENT, Role.DISPATCHER, Role.MONITOR})


def may_work_callbacks(user: User) -> bool:
    return user.is_superuser or user.has_role(*CALLBACK_ROLES)


def missed_calls(*, user: User, status: str = CallbackStatus.OPEN) -> QuerySet[MissedCall]:
    if not may_work_callbacks(user):
        return MissedCall.objects.none()
    return (
        MissedCall.objects.filter(status=status).select_related("call", "recording").order_by("due_at", "id")
    )


def missed_call_get(*, user: User, pk: int) -> MissedCall:
    found = missed_calls(user=user).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("未接来电不存在或无权处理"))
    return found
