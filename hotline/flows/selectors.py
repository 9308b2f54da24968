"""Reads of flow templates: the managers' lists, and a case's position in its template (for whoever sees the case)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from hotline.cases.lifecycle import Action
from hotline.cases.models import (
    OPEN_ASSIGNMENT_STATUSES,
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Case,
    CaseEvent,
)
from hotline.orgs.models import Unit

from . import definition, parallel
from .definition import FlowDef, StepDef
from .models import CaseFlow, FlowTemplate, FlowVersion, StepKind


def template_list() -> QuerySet[FlowTemplate]:
    return FlowTemplate.objects.prefetch_related("versions").order_by("-priority", "code")


@dataclass(frozen=True)
class SerialTurn:
    """One unit in a serial step's order: `state` is done (finished, result recorded), current (its assignment
    is open: it is the unit handling now), waiting (its assignment is created only when the units before it
    have finished) or gone (cancelled, returned or sent back)."""

    order: int
    unit_id: int
    unit_name: str
    role: str
    state: str
    status: str = ""

    @property
    def role_label(self) -> str:
        return str(AssignmentRole(self.role).label) if self.role in AssignmentRole.values else self.role

    @property
    def state_label(self) -> str:
        if self.state == "waiting":
            return _("等待前序单位办结")
        if self.state == "done":
            return _("已办结")
        return (
            str(AssignmentStatus(self.status).label)
            if self.status in AssignmentStatus.values
            else self.status
        )


@dataclass(frozen=True)
class SerialProgress:
    step: StepDef
    turns: tuple[SerialTurn, ...]

    @property
    def current(self) -> list[SerialTurn]:
        return [t for t in self.turns if t.state == "current"]

    @property
    def waiting(self) -> list[SerialTurn]:
        return [t for t in self.turns if t.state == "waiting"]


@dataclass(frozen=True)
class Position:
    version: FlowVersion
    flow: FlowDef
    current: list[StepDef]
    # The current parallel steps (a countersign step, the branches before a join) and each unit's progress.
    branches: list[parallel.BranchProgress] = field(default_factory=list)
    # The current serial step's units in the order they act: who has finished, who is handling, who waits.
    serial: SerialProgress | None = None

    @property
    def current_codes(self) -> frozenset[str]:
        return frozenset(s.code for s in self.current)

    @property
    def done_codes(self) -> frozenset[str]:
        """Parallel steps whose every unit has finished (drawn as done; the join waits for the others)."""
        return frozenset(b.step.code for b in self.branches if b.done)


def case_position(*, case: Case) -> Position | None:
    """The version `case` is pinned to and the step(s) its status puts it at; None without a template.
    The caller has already checked that its user may see the case."""
    pin = CaseFlow.objects.filter(case_id=case.pk).select_related("version__template").first()
    if pin is None:
        return None
    version = pin.version
    flow = definition.from_version(version)
    current = flow.steps_at(case.status)
    parallel_steps = [s for s in current if parallel.is_parallel(flow, s)]
    branches = parallel.progress(case, parallel_steps) if parallel_steps and case.dispatch_round else []
    step = next((s for s in current if s.kind == StepKind.SERIAL), None)
    serial = serial_progress(case, step) if step is not None and case.dispatch_round else None
    return Position(version=version, flow=flow, current=current, branches=branches, serial=serial)


def serial_progress(case: Case, step: StepDef) -> SerialProgress | None:
    """The order of the units of the current dispatch round at serial step `step` (kept on the round's dispatch
    event, as `cases.services.serial_next` reads it) and each unit's turn; None when the round has no order."""
    event = (
        CaseEvent.objects.filter(case_id=case.pk, action__in=[Action.DISPATCH, Action.REASSIGN])
        .order_by("-id")
        .only("data")
        .first()
    )
    plan = (event.data or {}).get("serial") if event is not None else None
    if not plan:
        return None
    # each unit's latest row of the round
    latest: dict[int, str] = dict(
        Assignment.objects.filter(case_id=case.pk, round=case.dispatch_round, parent__isnull=True)
        .exclude(role=AssignmentRole.CC)
        .order_by("id")
        .values_list("unit_id", "status")
    )
    ids = [int(p["unit"]) for p in plan]
    names = dict(Unit.objects.filter(pk__in=ids).values_list("pk", "name"))
    turns = []
    for n, (unit_id, p) in enumerate(zip(ids, plan, strict=True), start=1):
        status = latest.get(unit_id, "")
        if not status:
            state = "waiting"
        elif status in parallel.DONE:
            state = "done"
        elif status in OPEN_ASSIGNMENT_STATUSES:
            state = "current"
        else:
            state = "gone"
        turns.append(
            SerialTurn(n, unit_id, names.get(unit_id, str(unit_id)), str(p.get("role", "")), state, status)
        )
    return SerialProgress(step=step, turns=tuple(turns))
