"""Telephony reads: the user's own seat, whether telephony runs on this installation."""

from __future__ import annotations

from django.conf import settings

from hotline.orgs.models import User

from .models import Agent


def telephony_enabled() -> bool:
    """`HOTLINE_TELEPHONY`: off, on, or auto (on when Kamailio and pjsua2 are installed)."""
    mode = getattr(settings, "HOTLINE_TELEPHONY", "auto")
    if mode == "off":
        return False
    if mode == "on":
        return True
    from .runtime import missing_binaries

    return not missing_binaries()


def agent_for_user(*, user: User) -> Agent | None:
    """The seat bound to this staff account (one at most)."""
    return Agent.objects.select_related("current_call").filter(user=user).first()
