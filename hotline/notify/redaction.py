"""Query passwords left in outbox bodies written before they were sealed (see common/redaction.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hotline.common import crypto
from hotline.common.redaction import BATCH, labels_from_templates, redact_rows, secret_pattern

NOT_SENT = ("pending", "sending")  # a failed message is not retried


def secret_labels(template_model: Any) -> tuple[str, ...]:
    return labels_from_templates(template_model._default_manager.values_list("body", flat=True))


def outbox_redact(
    *,
    outbox_model: Any,
    template_model: Any,
    batch: int = BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Redact the secret in every citizen message (no staff recipient). A message not sent yet keeps its full
    text sealed for delivery, as new messages do; a sent one keeps nothing."""
    labels = secret_labels(template_model)

    def seal(row: Any, original: str) -> None:
        if row.status in NOT_SENT and not row.sealed_body:
            row.sealed_body = crypto.encrypt(original)

    return redact_rows(
        outbox_model._default_manager.filter(recipient__isnull=True),
        field="body",
        pattern=secret_pattern(labels),
        labels=labels,
        before_save=seal,
        extra_fields=("sealed_body",),
        batch=batch,
        progress=progress,
    )
