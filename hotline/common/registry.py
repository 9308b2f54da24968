"""Registries that domain packages fill in their `AppConfig.ready()`, so that `common` (and the places that
list things: the embedded worker, Celery beat, template filters) import no domain package.

- periodic jobs: each package registers its jobs once, with one interval; `manage.py run_worker` (no broker)
  and Celery beat (production) both read this list;
- choice labels: template filters show a status, action or stage by the label of the package's choices;
- the working-day calendar: `sla` owns it (data), `common.workdays` reads it through here;
- warm-ups: what a fresh server process loads before its first request (common.serving).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import models


@dataclass(frozen=True)
class PeriodicJob:
    """A job run every `seconds`: `run()` in the embedded worker, the Celery task named `task` under beat.

    `task=None`: only the embedded worker polls for it (under Celery the work is queued when it arises)."""

    name: str
    run: Callable[[], Any]
    task: str | None
    seconds: float


_JOBS: dict[str, PeriodicJob] = {}


def register_job(job: PeriodicJob) -> None:
    _JOBS[job.name] = job


def periodic_jobs() -> list[PeriodicJob]:
    return sorted(_JOBS.values(), key=lambda job: job.seconds)


_WARM_UPS: dict[str, Callable[[], object]] = {}


def register_warm_up(name: str, work: Callable[[], object]) -> None:
    """Something slow a fresh server process should load before its first request (common.serving.warm_up)."""
    _WARM_UPS[name] = work


def warm_ups() -> list[tuple[str, Callable[[], object]]]:
    return list(_WARM_UPS.items())


_CHOICES: dict[str, type[models.Choices]] = {}


def register_choices(kind: str, choices: type[models.Choices]) -> None:
    _CHOICES[kind] = choices


def choice_label(kind: str, value: str | None) -> str:
    """The label of `value` in the choices registered as `kind`; the value itself if unknown."""
    choices = _CHOICES.get(kind)
    if not value or choices is None:
        return value or ""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


class WorkdayCalendar(Protocol):
    def is_workday(self, day: dt.date) -> bool: ...

    def shift_working_days(self, start: dt.datetime, days: int) -> dt.datetime: ...


_calendar: list[Callable[[], WorkdayCalendar]] = []


def register_workday_calendar(current: Callable[[], WorkdayCalendar]) -> None:
    _calendar[:] = [current]


def workday_calendar() -> WorkdayCalendar:
    if not _calendar:
        raise RuntimeError("no working-day calendar registered (the sla app provides it)")
    return _calendar[0]()
