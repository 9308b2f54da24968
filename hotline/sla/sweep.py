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
from hotline.cases.models import Assignment, Case, CaseEvent
from hotline.common import clock as wall_clock
from hotline.common.db import copy_insert
from hotline.common.formats import chinese_datetime
from hotline.notify.models import MessageTemplate, Outbox
from hotline.notify.services import active_templates, build_messages, queue_messages
from hotline.orgs.models import Unit, UnitKind, User

from .models import Alert, AlertKind, Clock, EscalationRule, Stage
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
    """Lock a batch of due clocks (other sweeps skip them), then load what the alerts need by primary key."""
    due = Clock.objects.filter(stopped_at__isnull=True, next_alert_at__lte=now).order_by(
        "next_alert_at", "id"
    )
    if connection.features.has_select_for_update_skip_locked:
        due = due.select_for_update(skip_locked=True, of=("self",))
    ids = list(due.values_list("id", flat=True)[:size])
    return list(Clock.objects.filter(pk__in=ids).select_related("case").order_by("next_alert_at", "id"))


def sweep(*, now: dt.datetime | None = None, batch_size: int = 1000) -> SweepResult:
    now = now or wall_clock.now()
    run_id = uuid.uuid4().hex
    rules = {(r.stage, r.kind): r for r in EscalationRule.objects.filter(is_active=True)}
    context = SweepContext(
        now=now, run_id=run_id, rules=rules, recipients=Recipients(), templates=active_templates()
    )
    result = SweepResult()
    while True:
        with transaction.atomic():
            clocks = _batch(now, batch_size)
            if not clocks:
                break
            _process(clocks, context, result)
    return result


@dataclass
class SweepContext:
    now: dt.datetime
    run_id: str
    rules: dict[tuple[str, str], EscalationRule]
    recipients: Recipients
    templates: dict[str, MessageTemplate]
    units: dict[int, Unit] = field(default_factory=dict)

    def unit(self, unit_id: int | None) -> Unit | None:
        if unit_id is None:
            return None
        if unit_id not in self.units:
            self.units[unit_id] = Unit.objects.only("id", "name", "parent_id").get(pk=unit_id)
        return self.units[unit_id]


def _process(clocks: list[Clock], ctx: SweepContext, result: SweepResult) -> None:
    existing: dict[int, set[str]] = defaultdict(set)
    for clock_id, kind in Alert.objects.filter(clock__in=clocks).values_list("clock_id", "kind"):
        existing[clock_id].add(kind)
    unit_of_assignment = dict(
        Assignment.objects.filter(pk__in={c.assignment_id for c in clocks if c.assignment_id}).values_list(
            "id", "unit_id"
        )
    )
    alerts: list[Alert] = []
    for clock in clocks:
        kinds = due_kinds(clock, ctx.now, existing[clock.pk])
        unit_id = unit_of_assignment[clock.assignment_id] if clock.assignment_id else ctx.recipients.office_id
        alerts += [
            Alert(
                clock=clock,
                kind=k,
                case_id=clock.case_id,
                unit_id=unit_id,
                raised_at=ctx.now,
                run_id=ctx.run_id,
            )
            for k in kinds
            if (clock.stage, k) in ctx.rules
        ]
        skipped = existing[clock.pk] | set(kinds)
        if AlertKind.YELLOW in skipped:
            skipped.add(AlertKind.WARNING)
        clock.next_alert_at = next_alert_time(clock, frozenset(skipped))
    _save_next_alerts(clocks)
    Alert.objects.bulk_create(alerts, ignore_conflicts=True)
    by_id = {clock.pk: clock for clock in clocks}
    mine = list(
        Alert.objects.filter(run_id=ctx.run_id, clock__in=clocks).values_list("clock_id", "kind", "unit_id")
    )
    _record([(by_id[clock_id], kind, unit_id) for clock_id, kind, unit_id in mine], ctx)
    result.clocks += len(clocks)
    for _, kind, _ in mine:
        result.alerts[kind] += 1


def _save_next_alerts(clocks: list[Clock]) -> None:
    if connection.vendor == "postgresql":
        # One statement instead of Django's CASE WHEN per row, which dominates a large sweep.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE sla_clock SET next_alert_at = v.t FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, t) "
                "WHERE sla_clock.id = v.id",
                [[c.pk for c in clocks], [c.next_alert_at for c in clocks]],
            )
    else:
        Clock.objects.bulk_update(clocks, ["next_alert_at"])


STAGE_LABELS = {value: str(label) for value, label in Stage.choices}
KIND_LABELS = {value: str(label) for value, label in AlertKind.choices}


def _record(alerts: list[tuple[Clock, str, int | None]], ctx: SweepContext) -> None:
    """Timeline events, notifications and the overdue flag for the alerts this sweep inserted."""
    events: list[CaseEvent] = []
    messages: list[Outbox] = []
    overdue_cases: set[int] = set()
    for clock, kind, unit_id in alerts:
        case = clock.case
        rule = ctx.rules[(clock.stage, kind)]
        unit = ctx.unit(unit_id)
        due, stage, label = chinese_datetime(clock.due_at), STAGE_LABELS[clock.stage], KIND_LABELS[kind]
        context: dict[str, Any] = {
            "number": case.number,
            "title": case.title,
            "unit": unit.name if unit else "",
            "due": due,
            "stage": stage,
            "kind": label,
        }
        events.append(
            CaseEvent(
                case_id=case.pk,
                at=ctx.now,
                unit_id=unit_id,
                assignment_id=clock.assignment_id,
                action=EVENT_OF_KIND[kind],
                from_status=case.status,
                to_status=case.status,
                opinion=f"{stage}时限 {due}：{label}",
            )
        )
        users = ctx.recipients.users(unit_id, rule.recipient_roles)
        if rule.notify_parent_unit and unit is not None:
            users += [u for u in ctx.recipients.users(unit.parent_id, rule.recipient_roles) if u not in users]
        if users and rule.channels:
            messages += build_messages(
                users=users,
                template=TEMPLATE_OF_KIND[kind],
                context=context,
                channels=rule.channels,
                link=f"/cases/{case.pk}/",
                templates=ctx.templates,
            )
        if kind in (AlertKind.YELLOW, AlertKind.RED):
            overdue_cases.add(case.pk)
    copy_insert(CaseEvent, events)
    queue_messages(messages, fast=True)
    if overdue_cases:
        Case.objects.filter(pk__in=overdue_cases, is_overdue=False).update(is_overdue=True)
