"""Query passwords left on case timelines (the "短信告知来电人" events) by code older than the sealed outbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hotline.common.redaction import BATCH, redact_rows, secret_pattern
from hotline.notify.redaction import secret_labels

SMS_ACTION = "sms_citizen"


def timeline_redact(
    *,
    event_model: Any,
    template_model: Any,
    batch: int = BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    labels = secret_labels(template_model)
    return redact_rows(
        event_model._default_manager.filter(action=SMS_ACTION),
        field="opinion",
        pattern=secret_pattern(labels),
        labels=labels,
        batch=batch,
        progress=progress,
    )
