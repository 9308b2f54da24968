"""Case events after commit: one `case_transitioned` signal per timeline event, sent once the transaction that
wrote it has committed, and queued receivers run by the case-events job soon after.

Live boards, citizen notices, partner webhooks, search and analytics subscribe to it instead of being imported by
`cases`. Receivers get keyword arguments `case`, `action`, `from_status`, `to_status`, `actor` (None for the
system) and `event` (the CaseEvent row). A receiver that fails is logged and does not disturb the others or the
person whose action committed.

Two ways to subscribe:

    from hotline.cases.events import case_transitioned, connect_queued

    def on_case(sender, *, case, action, from_status, to_status, actor, event, **kwargs): ...
    case_transitioned.connect(on_case, dispatch_uid="my-package")   # in AppConfig.ready()
    connect_queued(on_case, dispatch_uid="my-package")              # or: off the request, by the job

`case_transitioned` receivers run in the process that committed, inside the request: they must be light (a few
queries at most). Heavier work (a model prediction, per-partner payloads) goes through `connect_queued`: the event
row is written with `queued=True` in the action's own transaction (no extra statement), and the case-events job
(`run_queued`: the embedded worker every second, or Celery beat plus a kick after commit) runs the queued receivers
for every queued event in the order the events were written, one runner at a time, each receiver in its own
savepoint, and clears the flag in the same transaction: a crash in the middle leaves the events queued for the
next round. Queued receivers get the case as it is when the job runs (reload what you need), the event's own
`from_status`/`to_status`/`actor`. Tests that need a queued receiver's effect call `run_queued()` after the
commit.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.dispatch import Signal

from .models import Case, CaseEvent

logger = logging.getLogger(__name__)

case_transitioned = Signal()

Receiver = Callable[..., Any]


@dataclass(frozen=True)
class _Queued:
    receiver: Receiver
    many: bool = False
    wants: Callable[[CaseEvent], bool] | None = None
    around: Callable[[], contextlib.AbstractContextManager[Any]] | None = None


_QUEUED: dict[str, _Queued] = {}


def connect_queued(
    receiver: Receiver,
    *,
    dispatch_uid: str,
    many: bool = False,
    wants: Callable[[CaseEvent], bool] | None = None,
    around: Callable[[], contextlib.AbstractContextManager[Any]] | None = None,
) -> None:
    """Run `receiver` for every case event by the case-events job, after commit and off the request.

    `wants(event)` False: the receiver is not called for that event (nor a savepoint opened for it). `many`:
    the receiver is called once per batch of events, `receiver(sender=Case, events=[...])` in the order they
    were written, in one savepoint (for set-based writes: one statement for the whole batch); a failure undoes
    and logs the whole batch's work of that receiver. `around()`: a context manager the job enters around each
    batch (e.g. to read reference rows once per batch rather than once per event)."""
    _QUEUED[dispatch_uid] = _Queued(receiver, many=many, wants=wants, around=around)


def has_queued_receivers() -> bool:
    return bool(_QUEUED)


def _send(event: CaseEvent) -> None:
    results = case_transitioned.send_robust(
        sender=Case,
        case=event.case,
        action=event.action,
        from_status=event.from_status,
        to_status=event.to_status,
        actor=event.actor,
        event=event,
    )
    for receiver, result in results:
        if isinstance(result, Exception):
            logger.error("case_transitioned receiver %r failed", receiver, exc_info=result)
    if event.queued and settings.CELERY_BROKER_URL:
        _kick()


def emit_on_commit(event: CaseEvent) -> None:
    """Send `case_transitioned` for `event` after the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: _send(event))


# With Celery, the job is queued right after commit (at most every KICK_SECONDS per process; beat runs it anyway).
KICK_SECONDS = 0.5
_last_kick = [0.0]


def _kick() -> None:
    now = time.monotonic()
    if now - _last_kick[0] < KICK_SECONDS:
        return
    _last_kick[0] = now
    try:
        from .tasks import case_events_task

        case_events_task.delay()
    except Exception:  # the broker is away: the scheduled round picks the events up
        logger.warning("could not queue the case-events job", exc_info=True)


BATCH = 100
# Any constant: the transaction-level advisory lock that lets one runner at a time work the queue (PostgreSQL).
_LOCK_KEY = 0x12345CE


def run_queued(*, limit: int = 2000) -> int:
    """Run the queued receivers for up to `limit` queued events, oldest first; returns how many were done.

    Another runner already at work (another worker process) makes this one return 0 at once: one runner keeps the
    order of each case's events."""
    done = 0
    while done < limit:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_LOCK_KEY])
                    if not cursor.fetchone()[0]:
                        return done
            batch = list(
                CaseEvent.objects.filter(queued=True)
                .select_related("case", "actor")
                .order_by("id")[: min(BATCH, limit - done)]
            )
            if not batch:
                break
            with contextlib.ExitStack() as stack:
                for queued in list(_QUEUED.values()):
                    if queued.around is not None:
                        stack.enter_context(queued.around())
                for event in batch:
                    _run_receivers(event)
                _run_batch_receivers(batch)
            CaseEvent.objects.filter(pk__in=[e.pk for e in batch]).update(queued=False)
        done += len(batch)
    return done


def _run_receivers(event: CaseEvent) -> None:
    for uid, queued in list(_QUEUED.items()):
        if queued.many or (queued.wants is not None and not queued.wants(event)):
            continue
        try:
            with transaction.atomic():
                queued.receiver(
                    sender=Case,
                    case=event.case,
                    action=event.action,
                    from_status=event.from_status,
                    to_status=event.to_status,
                    actor=event.actor,
                    event=event,
                )
        except Exception:  # one receiver's failure leaves the others (and the next events) alone
            logger.exception("queued case-event receiver %s failed on event %s", uid, event.pk)


def _run_batch_receivers(batch: list[CaseEvent]) -> None:
    for uid, queued in list(_QUEUED.items()):
        if not queued.many:
            continue
        events = [e for e in batch if queued.wants is None or queued.wants(e)]
        if not events:
            continue
        try:
            with transaction.atomic():
                queued.receiver(sender=Case, events=events)
        except Exception:  # as for one event: the others (receivers and batches) are left alone
            logger.exception(
                "queued case-event receiver %s failed on events %s–%s", uid, events[0].pk, events[-1].pk
            )
