"""The requests an Open311 caller may read, as GeoReport v2 rows: public hot questions, and with a key the
requests that partner posted. Never a caller's personal data."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet

from hotline.cases.models import Case, CaseStatus
from hotline.cases.selectors import public_reply

from ..models import Open311Request, Partner

CLOSED = {CaseStatus.CLOSED, CaseStatus.NOT_ACCEPTED, CaseStatus.MERGED}


def _visible(partner: Partner | None) -> Q:
    public = Q(is_public=True, push_hot=True, status=CaseStatus.CLOSED)
    if partner is None:
        return public
    own = Open311Request.objects.filter(partner=partner).values("case_id")
    return public | Q(pk__in=own)


def search(
    *,
    partner: Partner | None,
    ids: list[str] | None = None,
    service_codes: list[str] | None = None,
    statuses: list[str] | None = None,
    window: tuple[dt.datetime, dt.datetime] | None,
    limit: int,
) -> list[dict[str, Any]]:
    qs: QuerySet[Case] = Case.objects.filter(_visible(partner))
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
    cases = list(qs.select_related("case_type", "main_unit").order_by("-created_at", "-id")[:limit])
    return [_row(case) for case in cases]


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
