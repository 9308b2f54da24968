"""Redact secrets (a query password, a reset code) from texts that staff can read.

Since the query password is sealed (notify's `Outbox.sealed_body`), new rows carry ******; rows written before
that hold the password in the SMS body and on the case timeline. These helpers find it by the label the message
puts in front of it ("查询密码12345678", "验证码123456") — taken from the message templates as they are now plus
the labels the shipped templates have always used — and are shared by the data migrations and
`manage.py redact_stored_secrets` (the same work, in batches, for re-runs or very large tables).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

REDACTED = "******"
SECRET_PLACEHOLDERS = ("password", "code")
DEFAULT_LABELS = ("查询密码", "验证码")
BATCH = 2000
_LABEL_BEFORE = re.compile(
    r"([\u4e00-\u9fffA-Za-z]{2,8})[:：\s]*\{(?:" + "|".join(SECRET_PLACEHOLDERS) + r")\}"
)


def labels_from_templates(bodies: Iterable[str]) -> tuple[str, ...]:
    """The words placed right before {password}/{code} in the given template bodies, plus the defaults."""
    found = set(DEFAULT_LABELS)
    for body in bodies:
        found.update(m.group(1) for m in _LABEL_BEFORE.finditer(body or ""))
    return tuple(sorted(found, key=len, reverse=True))


def secret_pattern(labels: Iterable[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(label) for label in labels)
    # Four to twelve digits after the label (and an optional colon, 是/为 or spaces); never a longer number
    # such as a case number that happens to follow.
    return re.compile(rf"((?:{alternatives})[:：\s]*(?:是|为)?[:：\s]*)(\d{{4,12}})(?!\d)")


def redact(text: str, pattern: re.Pattern[str]) -> str:
    return pattern.sub(lambda m: m.group(1) + REDACTED, text or "")


def redact_rows(
    queryset: Any,
    *,
    field: str,
    pattern: re.Pattern[str],
    labels: Iterable[str],
    before_save: Callable[[Any, str], None] | None = None,
    extra_fields: tuple[str, ...] = (),
    batch: int = BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Redact `field` in every row of `queryset` that holds a labelled secret; batches by primary key.

    `before_save(row, original)` may keep the original elsewhere (the outbox seals it for a message not yet
    sent). Returns the number of rows changed. Idempotent: a redacted row no longer matches."""
    from django.db import transaction
    from django.db.models import Q

    has_label = Q()
    for label in labels:
        has_label |= Q(**{f"{field}__contains": label})
    candidates = queryset.filter(has_label).order_by("pk")
    last, changed, seen = 0, 0, 0
    while True:
        rows = list(candidates.filter(pk__gt=last)[:batch])
        if not rows:
            return changed
        last = rows[-1].pk
        seen += len(rows)
        dirty = []
        for row in rows:
            original = getattr(row, field)
            cleaned = redact(original, pattern)
            if cleaned != original:
                if before_save is not None:
                    before_save(row, original)
                setattr(row, field, cleaned)
                dirty.append(row)
        if dirty:
            with transaction.atomic(using=queryset.db):
                type(dirty[0])._default_manager.using(queryset.db).bulk_update(dirty, [field, *extra_fields])
            changed += len(dirty)
        if progress is not None:
            progress(seen, changed)
