"""Reads for citizens (portal and app): their own requests, what a case shows them, which types they may choose."""

from __future__ import annotations

from django.db.models import QuerySet

from hotline.cases import lifecycle
from hotline.cases.models import Case, CaseStatus
from hotline.common.models import DictItem, DictKind

# The request types a citizen chooses from (the seed's five plus 举报).
CITIZEN_TYPES = ("consult", "complaint", "suggest", "help", "report", "message")


def citizen_types() -> list[DictItem]:
    """From the process's dictionary cache (cases.selectors.DICT_ITEMS): every portal form and app screen shows
    them, and a query per form was a tenth of a submission's queries."""
    from hotline.cases.selectors import DICT_ITEMS

    return sorted(
        (
            item
            for item in DICT_ITEMS.all()
            if item.kind == DictKind.CASE_TYPE and item.is_active and item.code in CITIZEN_TYPES
        ),
        key=lambda item: (item.sort_order, item.pk),
    )


def my_cases(*, phone: str) -> QuerySet[Case]:
    """The requests made with this (verified) phone number, on any channel, newest first."""
    return Case.objects.filter(citizen_phone=phone).select_related("case_type").order_by("-created_at", "-id")


def my_case(*, phone: str, number: str) -> Case | None:
    return my_cases(phone=phone).filter(number=number.strip()[:32]).first()


def case_reply(case: Case) -> str:
    """What the citizen is told: the main unit's reported result, else the agent's answer."""
    result = (
        case.assignments.filter(parent__isnull=True, role="main", status="reported")
        .order_by("-finished_at")
        .values_list("result", flat=True)
        .first()
    )
    return result or case.answer or ""


def case_stage(case: Case) -> tuple[int, list[str]]:
    return lifecycle.STAGE_OF_STATUS.get(case.status, 0), lifecycle.STAGES


def may_rate(case: Case) -> bool:
    return case.status == CaseStatus.CALLBACK
