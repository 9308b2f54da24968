"""Reads of flow templates: the managers' lists, and a case's position in its template (for whoever sees the case)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet

from hotline.cases.models import Case

from . import definition, parallel
from .definition import FlowDef, StepDef
from .models import CaseFlow, FlowTemplate, FlowVersion


def template_list() -> QuerySet[FlowTemplate]:
    return FlowTemplate.objects.prefetch_related("versions").order_by("-priority", "code")


@dataclass(frozen=True)
class Position:
    version: FlowVersion
    flow: FlowDef
    current: list[StepDef]
    # The current parallel steps (a countersign step, the branches before a join) and each unit's progress.
    branches: list[parallel.BranchProgress] = field(default_factory=list)

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
    return Position(version=version, flow=flow, current=current, branches=branches)
