"""The deadline sweep: find clocks whose next threshold has passed, raise alerts, notify, move on.

Idempotent and safe to run concurrently: an alert is unique per clock and kind, and a sweep notifies only
about the alerts it inserted itself (its `run_id`). Each batch commits on its own, so a crash loses at most
the batch in flight, which the next sweep redoes. On PostgreSQL, concurrent sweeps skip each other's rows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

from hotline.cases.lifecycle import Action
from hotline.cases.models import Case, CaseEvent
from hotline.common import clock as wall_clock
from hotline.notify.services import notify_users
from hotline.orgs.models import Unit, UnitKind, User

from .models import Alert, AlertKind, Clock, EscalationRule
from .services import next_alert_time

EVENT_OF_KIND: dict[str, str] = {
    AlertKind.WARNING: Action.SLA_WARNING,
    AlertKind.YELLOW: Action.SLA_YELLOW,
    AlertKind.RED: Action.SLA_RED,
    AlertKind.REMINDER: Action.SLA_REMINDER,
}
TEMPLATE_OF_KIND = {kind: f"sla_{kind}" for kind in AlertKind.values}


@dataclass
class SweepResult:
    clocks: int = 0
    alerts: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def due_kinds(clock: Clock, now: dt.datetime, raised: set[str]) -> list[str]:
    """Which alerts this clock owes now. A warning that comes after the deadline is skipped."""
    moments = {
        AlertKind.REMINDER: clock.remind_at,
        AlertKind.WARNING: clock.warn_at,
        AlertKind.YELLOW: clock.due_at,
        AlertKind.RED: clock.red_at,
    }
    kinds: list[str] = [
        kind
        for kind, moment in moments.items()
        if moment is not None and moment <= now and kind not in raised
    ]
    if AlertKind.YELLOW in kinds and AlertKind.WARNING in kinds:
        kinds.remove(AlertKind.WARNING)
    return kinds


class Recipients:
    """Users to notify for a unit and a rule, cached for the length of one sweep."""

    def __init__(self) -> None:
        self._by_unit_role: dict[tuple[int, str], list[User]] = {}
        office = Unit.objects.filter(kind=UnitKind.OFFICE, is_active=True).first()
        self.office_id = office.pk if office else None

    def users(self, unit_id: int | None, roles: list[str]) -> list[User]:
        if unit_id is None:
            return []
        found: list[User] = []
        for role in roles:
            key = (unit_id, role)
            if key not in self._by_unit_role:
                self._by_unit_role[key] = list(
                    User.objects.filter(unit_id=unit_id, is_active=True, roles__role=role).distinct()
                )
            found += [u for u in self._by_unit_role[key] if u not in found]
        return found


def _batch(now: dt.datetime, size: int) -> list[Clock]:
    qs = Clock.objects.filter(stopped_at__isnull=True, next_alert_at__lte=now).order_by("next_alert_at", "id")
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    return list(qs.select_related("assignment__unit", "case")[:size])


def sweep(*, now: dt.datetime | None = None, batch_size: int = 1000) -> SweepResult:
    now = now or wall_clock.now()
    run_id = uuid.uuid4().hex
    rules = {(r.stage, r.kind): r for r in EscalationRule.objects.filter(is_active=True)}
    recipients = Recipients()
    result = SweepResult()
    while True:
        with transaction.atomic():
            clocks = _batch(now, batch_size)
            if not clocks:
                break
            _process(clocks, now=now, run_id=run_id, rules=rules, recipients=recipients, result=result)
    return result


def _process(
    clocks: list[Clock],
    *,
    now: dt.datetime,
    run_id: str,
    rules: dict[tuple[str, str], EscalationRule],
    recipients: Recipients,
    result: SweepResult,
) -> None:
    existing: dict[int, set[str]] = defaultdict(set)
    for clock_id, kind in Alert.objects.filter(clock__in=clocks).values_list("clock_id", "kind"):
        existing[clock_id].add(kind)
    alerts: list[Alert] = []
    for clock in clocks:
        kinds = due_kinds(clock, now, existing[clock.pk])
        unit_id = clock.assignment.unit_id if clock.assignment is not None else recipients.office_id
        alerts += [
            Alert(clock=clock, kind=k, case_id=clock.case_id, unit_id=unit_id, raised_at=now, run_id=run_id)
            for k in kinds
            if (clock.stage, k) in rules
        ]
        skipped = existing[clock.pk] | set(kinds)
        if AlertKind.YELLOW in skipped:
            skipped.add(AlertKind.WARNING)
        clock.next_alert_at = next_alert_time(clock, frozenset(skipped))
    Clock.objects.bulk_update(clocks, ["next_alert_at"])
    Alert.objects.bulk_create(alerts, ignore_conflicts=True)
    mine = list(
        Alert.objects.filter(run_id=run_id, clock__in=clocks).select_related(
            "clock__assignment__unit", "case", "unit"
        )
    )
    _record(mine, now=now, rules=rules, recipients=recipients)
    result.clocks += len(clocks)
    for alert in mine:
        result.alerts[alert.kind] += 1


def _record(
    alerts: list[Alert],
    *,
    now: dt.datetime,
    rules: dict[tuple[str, str], EscalationRule],
    recipients: Recipients,
) -> None:
    events: list[CaseEvent] = []
    overdue_cases: set[int] = set()
    for alert in alerts:
        clock, case = alert.clock, alert.case
        rule = rules[(clock.stage, alert.kind)]
        unit = alert.unit
        context: dict[str, Any] = {
            "number": case.number,
            "title": case.title,
            "unit": unit.name if unit else "",
            "due": _text(clock.due_at),
            "stage": clock.get_stage_display(),
            "kind": alert.get_kind_display(),
        }
        events.append(
            CaseEvent(
                case=case,
                at=now,
                unit=unit,
                assignment=clock.assignment,
                action=EVENT_OF_KIND[alert.kind],
                from_status=case.status,
                to_status=case.status,
                opinion=f"{clock.get_stage_display()}时限 {context['due']}：{alert.get_kind_display()}",
            )
        )
        users = recipients.users(alert.unit_id, rule.recipient_roles)
        if rule.notify_parent_unit and unit is not None:
            users += [u for u in recipients.users(unit.parent_id, rule.recipient_roles) if u not in users]
        if users and rule.channels:
            notify_users(
                users=users,
                template=TEMPLATE_OF_KIND[alert.kind],
                context=context,
                channels=rule.channels,
                link=f"/cases/{case.pk}/",
            )
        if alert.kind in (AlertKind.YELLOW, AlertKind.RED):
            overdue_cases.add(case.pk)
    CaseEvent.objects.bulk_create(events)
    if overdue_cases:
        Case.objects.filter(pk__in=overdue_cases, is_overdue=False).update(is_overdue=True)


def _text(moment: dt.datetime) -> str:
    from .services import timezone_text

    return timezone_text(moment)
