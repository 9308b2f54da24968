"""Case events after commit: one `case_transitioned` signal per timeline event, sent once the transaction that
wrote it has committed.

Live boards, citizen notices, partner webhooks, search and analytics subscribe to it instead of being imported by
`cases`. Receivers get keyword arguments `case`, `action`, `from_status`, `to_status`, `actor` (None for the
system) and `event` (the CaseEvent row). A receiver that fails is logged and does not disturb the others or the
person whose action committed.

    from hotline.cases.events import case_transitioned

    def on_case(sender, *, case, action, from_status, to_status, actor, event, **kwargs): ...
    case_transitioned.connect(on_case, dispatch_uid="my-package")   # in AppConfig.ready()
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import Signal

from .models import Case, CaseEvent

logger = logging.getLogger(__name__)

case_transitioned = Signal()


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


def emit_on_commit(event: CaseEvent) -> None:
    """Send `case_transitioned` for `event` after the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: _send(event))
