"""CIT-3 contact history: one read-only timeline of everything a citizen asked, whatever the channel.

Each channel plugs in a *source*: an object with a `name` and an `entries(...)` method returning its
`ContactEntry` rows for a citizen (and/or their numbers), already scoped to what the user may see. Cases are the
only source today; telephony (calls), notify (SMS) and intake (web/WeChat) register theirs in their AppConfig:

    from hotline.citizens import history
    history.register(CallSource())

The timeline merges all sources, newest first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.db.models import Q

from .models import Citizen


@dataclass(frozen=True)
class ContactEntry:
    at: dt.datetime
    source: str  # "case", "call", "sms", …
    channel: str  # phone / web / wechat … (the case's channel for cases)
    channel_display: str
    title: str
    status: str
    status_display: str
    ref: str  # the object's id in its source
    link: str
    number: str = ""  # the citizen's number used (masked by the caller of `contact_history` when needed)


class ContactSource(Protocol):
    name: str

    def entries(
        self, *, user: Any, citizen: Citizen | None, numbers: Sequence[str], limit: int
    ) -> list[ContactEntry]: ...


_sources: dict[str, ContactSource] = {}


def register(source: ContactSource) -> None:
    _sources[source.name] = source


def sources() -> list[ContactSource]:
    return list(_sources.values())


def contact_history(
    *, user: Any, citizen: Citizen | None = None, numbers: Sequence[str] = (), limit: int = 50
) -> list[ContactEntry]:
    if citizen is None and not numbers:
        return []
    rows: list[ContactEntry] = []
    for source in _sources.values():
        rows.extend(source.entries(user=user, citizen=citizen, numbers=numbers, limit=limit))
    rows.sort(key=lambda e: e.at, reverse=True)
    return rows[:limit]


class CaseSource:
    """The citizen's cases (by profile or by number), as the user may see them."""

    name = "case"

    def queryset(self, *, user: Any, citizen: Citizen | None, numbers: Sequence[str]) -> Any:
        from hotline.cases.masking import without_secret_callers
        from hotline.cases.selectors import case_visible

        match = Q(pk__in=[])
        if citizen is not None:
            match |= Q(citizen_id=citizen.pk)
        if numbers:
            match |= Q(citizen_phone__in=list(numbers))
        # Secret callers' cases are left out for those who may not know the caller (ORG-4).
        return without_secret_callers(case_visible(user=user), user).filter(match)

    def entries(
        self, *, user: Any, citizen: Citizen | None, numbers: Sequence[str], limit: int
    ) -> list[ContactEntry]:
        qs = self.queryset(user=user, citizen=citizen, numbers=numbers).order_by("-created_at", "-id")[:limit]
        return [
            ContactEntry(
                at=case.created_at,
                source=self.name,
                channel=case.channel,
                channel_display=case.get_channel_display(),
                title=case.title,
                status=case.status,
                status_display=case.get_status_display(),
                ref=str(case.pk),
                link=f"/cases/{case.pk}/",
                number=case.citizen_phone,
            )
            for case in qs.only("pk", "created_at", "channel", "title", "status", "citizen_phone")
        ]


register(CaseSource())
