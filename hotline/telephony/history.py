"""Calls in the citizen's contact history (CIT-3) and so in the screen pop (CIT-5): the telephony source of
`citizens.history`, registered in the AppConfig. Hotline staff who work with callers (agents, dispatchers,
monitors) see every finished call from or to the citizen's numbers; anyone else only the calls linked to a case
they may see (a unit sees the call that registered its case, not the citizen's other calls)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from hotline.citizens.history import ContactEntry
from hotline.citizens.models import Citizen

from .models import Call, CallStatus


def _variants(numbers: Sequence[str]) -> set[str]:
    """The numbers as a caller id may carry them: as stored and with only their digits (010-6234 → 0106234)."""
    from hotline.common.validators import normalize_phone

    out: set[str] = set()
    for number in numbers:
        if number:
            out |= {number, normalize_phone(number), "".join(ch for ch in number if ch.isdigit())}
    return {n for n in out if n}


def _duration(seconds: int) -> str:
    minutes, seconds = divmod(max(0, seconds), 60)
    return _("%(m)d分%(s)d秒") % {"m": minutes, "s": seconds} if minutes else _("%(s)d秒") % {"s": seconds}


class CallSource:
    name = "call"

    def entries(
        self, *, user: Any, citizen: Citizen | None, numbers: Sequence[str], limit: int
    ) -> list[ContactEntry]:
        from .selectors import may_work_callbacks

        wanted = _variants([*numbers, *([citizen.phone] if citizen is not None and citizen.phone else [])])
        if not wanted or user is None or not getattr(user, "is_authenticated", False):
            return []
        calls = Call.objects.filter(caller__in=wanted, status=CallStatus.ENDED)
        if not may_work_callbacks(user):
            from hotline.cases.selectors import case_visible

            calls = calls.filter(Q(case_links__case__in=case_visible(user=user))).distinct()
        rows = list(
            calls.select_related("agent")
            .prefetch_related("case_links")
            .order_by("-started_at", "-id")[:limit]
        )
        out = []
        for call in rows:
            talked = (
                int((call.ended_at - call.answered_at).total_seconds())
                if call.answered_at and call.ended_at
                else 0
            )
            parts = [str(call.get_direction_display())]
            if call.agent is not None:
                parts.append(_("坐席 %(id)s") % {"id": call.agent.agent_id})
            if talked:
                parts.append(_("通话 %(d)s") % {"d": _duration(talked)})
            links = [link.case_id for link in call.case_links.all()]
            out.append(
                ContactEntry(
                    at=call.started_at,
                    source=self.name,
                    channel="phone",
                    channel_display=_("电话"),
                    title=" · ".join(parts),
                    status=call.disposition or call.status,
                    status_display=str(call.get_disposition_display() or call.get_status_display()),
                    ref=call.call_id,
                    link=reverse("case-detail", args=[links[0]]) if links else "",
                    number=call.caller,
                )
            )
        return out
