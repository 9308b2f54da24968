"""The supervision page's figures (SLA-5), defined here with every other figure and read by the sla package's
supervision page, API and export through `common.registry.figures` (sla may not import analytics).

Every figure is a plain query over alerts, clocks, assignments and cases, limited to what the user may see; one
grouped query per table (the supervision bench, bench/pages_bench.py, holds them under 1 s at 1,000,000 cases).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q

from hotline.cases import selectors as case_selectors
from hotline.orgs.models import Unit, User
from hotline.orgs.selectors import sees_everything
from hotline.sla.models import UNIT_REPLY_STAGES, Alert, AlertKind, Clock, Stage
from hotline.sla.selectors import Period, _in_units, visible_units


def card_ledger(*, user: User, period: Period) -> list[dict[str, Any]]:
    """Per unit: warnings, yellow and red cards, reminders, extensions requested/approved, late reports."""
    alerts = (
        Alert.objects.filter(_in_units(user), raised_at__gte=period.start, raised_at__lt=period.end)
        .values("unit_id")
        .annotate(
            warnings=Count("id", filter=Q(kind=AlertKind.WARNING)),
            yellow=Count("id", filter=Q(kind=AlertKind.YELLOW)),
            red=Count("id", filter=Q(kind=AlertKind.RED)),
            reminders=Count("id", filter=Q(kind=AlertKind.REMINDER)),
        )
        .order_by()
    )
    extensions = (
        case_selectors.extension_rows()
        .filter(
            _in_units(user, "assignment__unit"), requested_at__gte=period.start, requested_at__lt=period.end
        )
        .values("assignment__unit_id")
        .annotate(
            requested=Count("id"),
            approved=Count("id", filter=Q(status=case_selectors.RequestStatus.APPROVED)),
        )
        .order_by()
    )
    late = (
        case_selectors.assignment_rows()
        .filter(
            _in_units(user),
            status=case_selectors.AssignmentStatus.REPORTED,
            finished_at__gte=period.start,
            finished_at__lt=period.end,
            finished_at__gt=F("due_at"),
        )
        .values("unit_id")
        .annotate(late_reports=Count("id"))
        .order_by()
    )
    rows: dict[int, dict[str, Any]] = {}
    for a in alerts:
        rows.setdefault(a["unit_id"], {}).update({k: v for k, v in a.items() if k != "unit_id"})
    for e in extensions:
        rows.setdefault(e["assignment__unit_id"], {}).update(
            extensions_requested=e["requested"], extensions_approved=e["approved"]
        )
    for r in late:
        rows.setdefault(r["unit_id"], {})["late_reports"] = r["late_reports"]
    names = dict(Unit.objects.filter(pk__in=rows).values_list("pk", "name"))
    keys = [
        "warnings",
        "yellow",
        "red",
        "reminders",
        "extensions_requested",
        "extensions_approved",
        "late_reports",
    ]
    result = [
        {"unit": pk, "unit_name": names.get(pk, ""), **{k: row.get(k, 0) for k in keys}}
        for pk, row in rows.items()
    ]
    return sorted(result, key=lambda r: (-r["red"], -r["yellow"], r["unit_name"]))


def time_limit_supervision(*, user: User, period: Period) -> list[dict[str, Any]]:
    """Per unit: assignments received, signed late, replied late, average hours to sign for and to reply."""
    hours = 3600.0
    rows = (
        case_selectors.assignment_rows()
        .filter(_in_units(user), assigned_at__gte=period.start, assigned_at__lt=period.end)
        .exclude(role=case_selectors.AssignmentRole.CC)
        .values("unit_id", "unit__name")
        .annotate(
            received=Count("id"),
            to_sign=Avg(
                ExpressionWrapper(F("signed_at") - F("assigned_at"), output_field=DurationField()),
                filter=Q(signed_at__isnull=False),
            ),
            to_reply=Avg(
                ExpressionWrapper(F("finished_at") - F("signed_at"), output_field=DurationField()),
                filter=Q(status=case_selectors.AssignmentStatus.REPORTED, signed_at__isnull=False),
            ),
        )
        .order_by()
    )
    sign_late = _late_by_unit(user, (Stage.SIGN_FOR,), period)
    reply_late = _late_by_unit(user, UNIT_REPLY_STAGES, period)
    result = [
        {
            "unit": row["unit_id"],
            "unit_name": row["unit__name"],
            "received": row["received"],
            "signed_late": sign_late.get(row["unit_id"], 0),
            "replied_late": reply_late.get(row["unit_id"], 0),
            "avg_hours_to_sign": round(row["to_sign"].total_seconds() / hours, 1) if row["to_sign"] else None,
            "avg_hours_to_reply": round(row["to_reply"].total_seconds() / hours, 1)
            if row["to_reply"]
            else None,
        }
        for row in rows
    ]
    return sorted(result, key=lambda r: (-r["replied_late"], -r["signed_late"], r["unit_name"]))


def _late_by_unit(user: User, stages: tuple[str, ...], period: Period) -> dict[int, int]:
    """Clocks of the period that ran past their deadline: stopped late, or still running with a yellow card.

    Read from the clock alone (its unit and `yellow_at` are on it), through the (stage, started_at) index that
    carries every column the count needs: no join of a million assignments or yellow cards (at 1,000,000 cards
    the hash join of clocks and cards alone took seconds).
    """
    clocks = Clock.objects.filter(stage__in=stages, started_at__gte=period.start, started_at__lt=period.end)
    if not sees_everything(user):
        clocks = clocks.filter(unit__in=visible_units(user))
    late = clocks.filter(Q(stopped_at__gt=F("due_at")) | Q(stopped_at__isnull=True, yellow_at__isnull=False))
    return dict(late.values("unit_id").annotate(n=Count("id")).order_by().values_list("unit_id", "n"))
