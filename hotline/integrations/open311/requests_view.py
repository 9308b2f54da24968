"""The requests an Open311 caller may read, as GeoReport v2 rows: public hot questions, and with a key the
requests that partner posted. Never a caller's personal data."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from hotline.cases.models import Case, CaseStatus
from hotline.cases.selectors import public_reply_texts

from ..models import Open311Request, Partner

CLOSED = {CaseStatus.CLOSED, CaseStatus.NOT_ACCEPTED, CaseStatus.MERGED}


def _public() -> QuerySet[Case]:
    return Case.objects.filter(is_public=True, push_hot=True, status=CaseStatus.CLOSED)


def _own(partner: Partner) -> QuerySet[Case]:
    return Case.objects.filter(pk__in=Open311Request.objects.filter(partner=partner).values("case_id"))


def _own_rows(
    partner: Partner,
    service_codes: list[str] | None,
    statuses: list[str] | None,
    window: tuple[dt.datetime, dt.datetime] | None,
    limit: int,
) -> QuerySet[Case]:
    """The partner's own requests, newest first, at most `limit`, in one query: its link rows are walked in their
    (partner, case time) index order, each case probed only for the status / service filters (by primary key), and
    the walk stops at `limit` matches — so the cases probed are one page's worth unless the filters reject most of
    them, however many requests the partner has. The window is applied on the link's copy of the case's time."""
    links = Open311Request.objects.filter(partner=partner)
    if window is not None:
        links = links.filter(case_created_at__gte=window[0], case_created_at__lte=window[1])
    if service_codes or statuses:
        # A scalar subquery (a per-row probe the planner keeps), not EXISTS: PostgreSQL turns an EXISTS into a
        # semi-join that scans every case matching the filters, which grows with the whole table.
        matching = _filtered(Case.objects.filter(pk=OuterRef("case_id")), None, service_codes, statuses, None)
        links = links.annotate(matching=Subquery(matching.order_by().values("pk")[:1])).filter(
            matching__isnull=False
        )
    page = links.order_by("-case_created_at", "-case_id").values("case_id")[:limit]
    return Case.objects.filter(pk__in=page).order_by("-created_at", "-id")


FIELDS = (
    "pk", "number", "status", "content", "location", "origin", "is_public", "answer", "created_at", "updated_at",
    "case_type__name", "case_type__code", "main_unit__name",
)  # fmt: skip


def search(
    *,
    partner: Partner | None,
    ids: list[str] | None = None,
    service_codes: list[str] | None = None,
    statuses: list[str] | None = None,
    window: tuple[dt.datetime, dt.datetime] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Newest first, at most `limit`. The public cases and the partner's own are two indexed queries merged here
    (one query with an OR between them scans the whole table); rows are read as values, not model instances (a
    thousand wide case rows cost more to build than to fetch)."""
    found: dict[int, dict[str, Any]] = {}
    for row in _filtered(_public(), ids, service_codes, statuses, window).values(*FIELDS)[:limit]:
        found[row["pk"]] = row
    if partner is not None:
        own = (
            _filtered(_own(partner), ids, service_codes, statuses, window).values(*FIELDS)[:limit]
            if ids  # a handful of numbers: found through the case's number index
            else _own_rows(partner, service_codes, statuses, window, limit).values(*FIELDS)
        )
        for row in own:
            found[row["pk"]] = row
    rows = sorted(found.values(), key=lambda r: (r["created_at"], r["pk"]), reverse=True)[:limit]
    replies = public_reply_texts([r for r in rows if r["is_public"] and r["status"] in CLOSED])
    return [_row(row, replies.get(row["pk"], "")) for row in rows]


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
    return qs.order_by("-created_at", "-id")


def _row(case: dict[str, Any], reply: str) -> dict[str, Any]:
    closed = case["status"] in CLOSED
    origin = case["origin"] if isinstance(case["origin"], dict) else {}
    geo = origin.get("open311") or {}
    return {
        "service_request_id": case["number"],
        "status": "closed" if closed else "open",
        "status_notes": reply if closed and case["is_public"] else str(CaseStatus(case["status"]).label),
        "service_name": case["case_type__name"] or "",
        "service_code": case["case_type__code"] or "",
        "description": case["content"] if case["is_public"] or geo else "",
        "agency_responsible": case["main_unit__name"] or "",
        "service_notice": "",
        "requested_datetime": case["created_at"].isoformat(),
        "updated_datetime": case["updated_at"].isoformat(),
        "expected_datetime": None,
        "address": case["location"],
        "address_id": geo.get("address_id", ""),
        "zipcode": "",
        "lat": geo.get("lat") or None,
        "long": geo.get("long") or None,
        "media_url": geo.get("media_url", ""),
        "x_hotline_status": case["status"],
    }
