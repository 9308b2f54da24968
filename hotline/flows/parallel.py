"""Parallel steps (FLW-1): a countersign step (several units at once) and the branches of a parallel split.

The backbone keeps one status per case and one `Assignment` row per unit; a template says which units work in
parallel. The case leaves a countersign step, or takes a flow into a parallel join, only when every unit of the
step (of each branch) has finished with its result recorded: the main unit reports, assisting units give their
opinion. A branch step names its units by its unit level (a branch of district units, a branch of bureaus); a
branch no unit was sent to has not finished. Units are those the office sent the case to in the current dispatch
round (copies excepted); the office's own overrides (改派, 热线办办结) and a unit handing the case back (退件)
are not joins.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from hotline.cases.lifecycle import Action
from hotline.cases.models import Assignment, AssignmentRole, AssignmentStatus, Case
from hotline.orgs.models import User

from .definition import FlowDef, StepDef, TransitionDef
from .models import StepKind

DONE = frozenset({AssignmentStatus.REPORTED, AssignmentStatus.OPINION_GIVEN})
GONE = frozenset({AssignmentStatus.CANCELLED, AssignmentStatus.RETURNED, AssignmentStatus.SENT_BACK})
NOT_JOINS = frozenset({Action.OFFICE_CLOSE, Action.REASSIGN, Action.RETURN_TO_OFFICE})


@dataclass(frozen=True)
class UnitProgress:
    unit_id: int
    unit_name: str
    role: str
    status: str
    done: bool

    @property
    def role_label(self) -> str:
        return str(AssignmentRole(self.role).label)

    @property
    def status_label(self) -> str:
        return str(AssignmentStatus(self.status).label)


@dataclass(frozen=True)
class BranchProgress:
    step: StepDef
    units: tuple[UnitProgress, ...]

    @property
    def done(self) -> bool:
        return bool(self.units) and all(u.done for u in self.units)

    @property
    def open_units(self) -> list[UnitProgress]:
        return [u for u in self.units if not u.done]


def is_parallel(flow: FlowDef, step: StepDef) -> bool:
    """A countersign step, or a branch step (one with a flow into a parallel join)."""
    return step.kind == StepKind.COUNTERSIGN or any(_joins(flow, t) for t in flow.outgoing(step.code))


def _joins(flow: FlowDef, t: TransitionDef) -> bool:
    target = flow.step(t.target)
    return target is not None and target.kind == StepKind.JOIN


def branches_of(flow: FlowDef, step: StepDef, t: TransitionDef, status: str) -> list[StepDef] | None:
    """The steps that must all have finished before `t` is taken from `step` (None: `t` joins nothing)."""
    if _joins(flow, t):
        return [s for s in flow.steps_at(status) if any(o.target == t.target for o in flow.outgoing(s.code))]
    if step.kind == StepKind.COUNTERSIGN and t.target != step.code and t.action not in NOT_JOINS:
        return [step]
    return None


def branch_for(branches: list[StepDef], unit_kind: str) -> StepDef | None:
    """A unit belongs to the branch of its unit level, else to a branch open to every level."""
    return next((b for b in branches if b.unit_level == unit_kind), None) or next(
        (b for b in branches if not b.unit_level), None
    )


def progress(case: Case, branches: list[StepDef], *, finishing: User | None = None) -> list[BranchProgress]:
    """Each branch's units of the current dispatch round and whether each has finished. `finishing`: the user
    whose unit's main assignment is reporting now (its result is recorded in the same action)."""
    rows = (
        Assignment.objects.filter(case_id=case.pk, round=case.dispatch_round, parent__isnull=True)
        .exclude(role=AssignmentRole.CC)
        .exclude(status__in=GONE)
        .select_related("unit")
        .order_by("id")
    )
    units: dict[str, list[UnitProgress]] = {b.code: [] for b in branches}
    for row in rows:
        branch = branch_for(branches, row.unit.kind)
        if branch is None:
            continue
        done = row.status in DONE and bool(row.result.strip())
        if (
            finishing is not None
            and row.unit_id == finishing.unit_id
            and row.role == AssignmentRole.MAIN
            and row.status == AssignmentStatus.HANDLING
        ):
            done = True
        units[branch.code].append(UnitProgress(row.unit_id, row.unit.name, row.role, row.status, done))
    return [BranchProgress(b, tuple(units[b.code])) for b in branches]


def join_refusal(
    flow: FlowDef, case: Case, step: StepDef, t: TransitionDef, *, status: str, user: User
) -> str | None:
    """Why `t` may not be taken yet (a branch or unit not finished), in Chinese; None when it may."""
    branches = branches_of(flow, step, t, status)
    if branches is None:
        return None
    target = flow.step(t.target)
    where = target.name if target is not None else t.target
    for branch in progress(case, branches, finishing=user):
        if not branch.units:
            return _("流程模板“%(flow)s”：并行环节“%(step)s”尚未派给任何单位，不能进入“%(join)s”") % {
                "flow": flow.name,
                "step": branch.step.name,
                "join": where,
            }
        if not branch.done:
            names = "、".join(u.unit_name for u in branch.open_units)
            return _(
                "流程模板“%(flow)s”：并行环节“%(step)s”尚有单位未办结（%(units)s），须全部办结后才能进入“%(join)s”"
            ) % {"flow": flow.name, "step": branch.step.name, "units": names, "join": where}
    return None
