"""One source of 'now' so tests can move time (use `frozen_now` in tests)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from django.utils import timezone

_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    return _frozen if _frozen is not None else timezone.now()


@contextmanager
def frozen_now(moment: dt.datetime) -> Iterator[None]:
    global _frozen
    if timezone.is_naive(moment):
        raise ValueError("frozen_now needs a timezone-aware datetime")
    previous, _frozen = _frozen, moment
    try:
        yield
    finally:
        _frozen = previous
