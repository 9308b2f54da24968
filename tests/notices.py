"""Reading notices per recipient in tests: a notice to an audience (one outbox row per channel) counts once for
each member of its audience on that channel, as a notice to one user counts once."""

from __future__ import annotations

import re
from typing import Any

from hotline.notify.models import AudienceMember, Outbox


def per_recipient(messages: Any, *fields: str) -> list[tuple[Any, ...]]:
    """(username, address, *fields) for each recipient of each outbox row in `messages`, sorted."""
    rows: list[tuple[Any, ...]] = []
    members: dict[tuple[int, str], list[tuple[str, str]]] = {}
    for message in messages.select_related("recipient"):
        values = tuple(getattr(message, name) for name in fields)
        if message.audience_id is None:
            name = message.recipient.username if message.recipient else None
            rows.append((name, message.address, *values))
            continue
        key = (message.audience_id, message.channel)
        if key not in members:
            members[key] = list(
                AudienceMember.objects.filter(audience_id=key[0], channel=key[1]).values_list(
                    "user__username", "address"
                )
            )
        rows += [(name, address, *values) for name, address in members[key]]
    return sorted(rows, key=repr)


DIGEST_COUNT = re.compile(r"有 (\d+) 件工单")


def cases_announced(notices: list[tuple[Any, ...]]) -> dict[Any, int]:
    """How many cases each recipient's deadline notices announce (rows of `per_recipient(…, "body")`): a digest
    ("东湖区有 4 件工单…") counts its number, a notice naming one case counts one."""
    counted: dict[Any, int] = {}
    for name, _, body in notices:
        found = DIGEST_COUNT.search(body)
        counted[name] = counted.get(name, 0) + (int(found.group(1)) if found else 1)
    return counted


def usernames(**filters: Any) -> list[str]:
    """The recipients (usernames, sorted, once per message) of the outbox rows matching `filters`."""
    return sorted(row[0] for row in per_recipient(Outbox.objects.filter(**filters)))


class RecordingGateway:
    """An SMS gateway that keeps what it was asked to send (thread-safe: list.append)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, *, phone: str, text: str, reference: str) -> str:
        self.sent.append((phone, text))
        return f"gw-{len(self.sent)}"


def deliver_everything(gateway: RecordingGateway) -> None:
    """Run delivery until nothing is left to send now."""
    from hotline.notify.services import deliver_due

    while deliver_due(gateway=gateway, limit=50):
        pass
