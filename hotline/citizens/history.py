"""CIT-3 contact history: one read-only timeline of everything a citizen asked, whatever the channel.

Each channel plugs in a *source*: an object with a `name` and an `entries(...)` method returning its
`ContactEntry` rows for a citizen (and/or their numbers), already scoped to what the user may see. Cases (registered by
the cases app, which also provides `CaseRows`) are the only source today; telephony (calls), notify (SMS) and intake (web/WeChat) register theirs in their AppConfig:

    from hotline.citizens import history
    history.register(CallSource())

The timeline merges all sources, newest first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

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


class CaseRows(Protocol):
    """What citizens reads of cases, provided by the cases package (registered in its AppConfig.ready()):
    citizens does not import cases. `visible` is the user's scoped cases without secret callers (ORG-4)."""

    finished_statuses: frozenset[str]

    def visible(self, *, user: Any) -> Any: ...

    def of_citizen(self, *, user: Any, citizen: Citizen | None, numbers: Sequence[str]) -> Any: ...


_case_rows: list[CaseRows] = []


def register_case_rows(rows: CaseRows) -> None:
    _case_rows[:] = [rows]


def case_rows() -> CaseRows:
    if not _case_rows:
        raise RuntimeError("no case rows registered (the cases app provides them)")
    return _case_rows[0]
