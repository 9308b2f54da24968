"""Reads of flow templates: the managers' lists, and a case's position in its template (for whoever sees the case)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from hotline.cases.models import Case

from . import definition
from .definition import FlowDef, StepDef
from .models import CaseFlow, FlowTemplate, FlowVersion


def template_list() -> QuerySet[FlowTemplate]:
    return FlowTemplate.objects.prefetch_related("versions").order_by("-priority", "code")


@dataclass(frozen=True)
class Position:
    version: FlowVersion
    flow: FlowDef
    current: list[StepDef]

    @property
    def current_codes(self) -> frozenset[str]:
        return frozenset(s.code for s in self.current)


def case_position(*, case: Case) -> Position | None:
    """The version `case` is pinned to and the step(s) its status puts it at; None without a template.
    The caller has already checked that its user may see the case."""
    pin = CaseFlow.objects.filter(case_id=case.pk).select_related("version__template").first()
    if pin is None:
        return None
    version = pin.version
    flow = definition.from_version(version)
    return Position(version=version, flow=flow, current=flow.steps_at(case.status))
