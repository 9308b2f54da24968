"""Public portal pages of closed cases (WEB-1): public cases by type with the units' replies, and hot questions.

Only cases the office marked public at closing (`is_public`, status closed) appear; hot questions are those also
marked "push as hot" plus what was asked most (counts by type) in the last week and month. Personal data never
shows: the citizen's name, phone, address and contact fields are not read at all, the place of the incident is
shown only as its district, and the request and reply texts go through `depersonalize` (phone and ID numbers,
e-mail addresses, house and room numbers, and the citizen's name where it appears are masked).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from hotline.cases.models import Case, CaseStatus
from hotline.cases.selectors import hot_questions, public_reply, public_reply_texts
from hotline.common import clock

from . import citizen

MASK = "＊＊"
_PATTERNS = [
    re.compile(r"\d{17}[\dXx]|\d{15}"),  # ID card numbers
    re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?!\d)"),  # mobiles
    re.compile(r"(?<!\d)(?:0\d{2,3}[- ]?)?\d{7,8}(?!\d)"),  # landlines
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # e-mail
    # House, building, unit, floor and room numbers: 12栋 3单元 501室 8号楼 6号 2楼
    re.compile(r"[0-9０-９一二三四五六七八九十百零〇]+\s*(?:号楼|栋|幢|单元|室|号|楼|层|户)"),
]


def depersonalize(text: str, *, names: tuple[str, ...] = ()) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    for name in names:
        name = name.strip()
        if len(name) >= 2:
            text = text.replace(name, MASK)
            text = text.replace(name[0] + "先生", MASK).replace(name[0] + "女士", MASK)
    return text


def _public() -> Any:
    return Case.objects.filter(is_public=True, status=CaseStatus.CLOSED)


FIELDS = ("pk", "number", "title", "content", "answer", "closed_at", "citizen_name")


def _rows(values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    replies = public_reply_texts(values)
    return [
        {
            "number": v["number"],
            "title": depersonalize(v["title"] or v["content"][:30], names=(v["citizen_name"],)),
            "type": v["case_type__name"],
            "district": v["district__name"] or "",
            "closed_at": v["closed_at"],
            "reply": depersonalize(replies.get(v["pk"], "") or "", names=(v["citizen_name"],)),
        }
        for v in values
    ]


def public_values(*, type_code: str = "") -> Any:
    """Rows (values) of the public cases, newest first, of one type if given: for `rows`."""
    qs = _public().select_related(None)
    if type_code:
        qs = qs.filter(case_type__code=type_code)
    return qs.order_by("-closed_at", "-id").values(*FIELDS, "case_type__name", "district__name")


def rows(values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the public sees of those rows (personal data removed)."""
    return _rows(values)


def public_case(number: str) -> dict[str, Any] | None:
    case = _public().select_related("case_type", "district").filter(number=number[:32]).first()
    if case is None:
        return None
    names = (case.citizen_name,)
    return {
        "number": case.number,
        "type": case.case_type.name if case.case_type else "",
        "district": case.district.name if case.district else "",
        "created_at": case.created_at,
        "closed_at": case.closed_at,
        "title": depersonalize(case.title, names=names),
        "content": depersonalize(case.content, names=names),
        "reply": depersonalize(public_reply(case), names=names),
    }


def hot_data() -> dict[str, list[dict[str, Any]]]:
    """Hot questions: cases pushed as hot at closing, and the types asked most in the last week and month."""
    pushed = list(hot_questions(days=90).values(*FIELDS, "case_type__name", "district__name")[:20])
    now = clock.now()
    asked = {}
    for label, days in (("week", 7), ("month", 30)):
        asked[label] = [
            {"type": row["case_type__name"], "count": row["n"], **row}
            for row in Case.objects.filter(created_at__gte=now - dt.timedelta(days=days))
            .exclude(status=CaseStatus.DRAFT)
            .values("case_type__name")
            .annotate(n=Count("id"))
            .order_by("-n")[:10]
        ]
    return {"pushed": _rows(pushed), "week": asked["week"], "month": asked["month"]}


def public_list(request: HttpRequest) -> HttpResponse:
    types = list(citizen.citizen_types())
    wanted = (request.GET.get("type") or "")[:32]
    page = Paginator(public_values(type_code=wanted), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "intake/portal/public_cases.html",
        {"types": types, "wanted": wanted, "page": page, "rows": _rows(list(page.object_list))},
    )


def public_detail(request: HttpRequest, number: str) -> HttpResponse:
    context = public_case(number)
    if context is None:
        raise Http404
    return render(request, "intake/portal/public_case.html", context)


def hot(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/portal/hot.html", hot_data())
