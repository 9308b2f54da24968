"""Redact query passwords and reset codes that rows written before they were sealed still hold: citizen SMS
bodies in the outbox and their copies on case timelines. The data migrations (notify 0006, cases 0010) do the
same once; run this again after restoring old rows from a backup, or with --batch on a very large table."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from hotline.cases.models import CaseEvent
from hotline.cases.redaction import timeline_redact
from hotline.notify.models import MessageTemplate, Outbox
from hotline.notify.redaction import outbox_redact


class Command(BaseCommand):
    help = "Redact query passwords left in old outbox SMS bodies and case timelines (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch", type=int, default=2000, help="rows per transaction")

    def handle(self, *args: Any, batch: int, **options: Any) -> None:
        def report(what: str) -> Any:
            def progress(seen: int, changed: int) -> None:
                self.stdout.write(f"{what}: {seen} rows read, {changed} redacted")

            return progress

        outbox = outbox_redact(
            outbox_model=Outbox, template_model=MessageTemplate, batch=batch, progress=report("outbox")
        )
        timeline = timeline_redact(
            event_model=CaseEvent, template_model=MessageTemplate, batch=batch, progress=report("timeline")
        )
        self.stdout.write(self.style.SUCCESS(f"redacted: {outbox} outbox messages, {timeline} timeline rows"))
