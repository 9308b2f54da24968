"""The requests an Open311 caller may read, as GeoReport v2 rows: public hot questions, and with a key the
requests that partner posted. Never a caller's personal data."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet

from hotline.cases.models import Case, CaseStatus
from hotline.cases.selectors import public_reply

from ..models import Open311Request, Partner

CLOSED = {CaseStatus.CLOSED, CaseStatus.NOT_ACCEPTED, CaseStatus.MERGED}


def _public() -> QuerySet[Case]:
    return Case.objects.filter(is_public=True, push_hot=True, status=CaseStatus.CLOSED)


def _own(partner: Partner) -> QuerySet[Case]:
    return Case.objects.filter(pk__in=Open311Request.objects.filter(partner=partner).values("case_id"))


def search(
    *,
    partner: Partner | None,
    ids: list[str] | None = None,
    service_codes: list[str] | None = None,
    statuses: list[str] | None = None,
    window: tuple[dt.datetime, dt.datetime] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Newest first, at most `limit`. The public cases and the partner's own are two indexed queries merged here:
    one query with an OR between them would scan the whole table."""
    sources = [_public()] + ([_own(partner)] if partner is not None else [])
    found: dict[int, Case] = {}
    for qs in sources:
        for case in _filtered(qs, ids, service_codes, statuses, window)[:limit]:
            found[case.pk] = case
    cases = sorted(found.values(), key=lambda c: (c.created_at, c.pk), reverse=True)[:limit]
    return [_row(case) for case in cases]


def _filtered(
    qs: QuerySet[Case],
    ids: list[str] | None,
    service_codes: list[str] | None,
    statuses: list[str] | None,
    window: tuple[dt.datetime, dt.datetime] | None,
) -> QuerySet[Case]:
    if ids:
        qs = qs.filter(number__in=ids)
    elif window is not None:
        qs = qs.filter(created_at__gte=window[0], created_at__lte=window[1])
    if service_codes:
        qs = qs.filter(case_type__code__in=service_codes)
    wanted = set(statuses or []) & {"open", "closed"}
    if wanted == {"open"}:
        qs = qs.exclude(status__in=CLOSED)
    elif wanted == {"closed"}:
        qs = qs.filter(status__in=CLOSED)
    return qs.select_related("case_type", "main_unit").order_by("-created_at", "-id")


def _row(case: Case) -> dict[str, Any]:
    closed = case.status in CLOSED
    geo = (case.origin or {}).get("open311", {}) if isinstance(case.origin, dict) else {}
    return {
        "service_request_id": case.number,
        "status": "closed" if closed else "open",
        "status_notes": (public_reply(case) if closed and case.is_public else case.get_status_display()),
        "service_name": case.case_type.name if case.case_type else "",
        "service_code": case.case_type.code if case.case_type else "",
        "description": case.content if case.is_public or geo else "",
        "agency_responsible": case.main_unit.name if case.main_unit else "",
        "service_notice": "",
        "requested_datetime": case.created_at.isoformat(),
        "updated_datetime": case.updated_at.isoformat(),
        "expected_datetime": None,
        "address": case.location,
        "address_id": geo.get("address_id", ""),
        "zipcode": "",
        "lat": geo.get("lat") or None,
        "long": geo.get("long") or None,
        "media_url": geo.get("media_url", ""),
        "x_hotline_status": case.status,
    }
