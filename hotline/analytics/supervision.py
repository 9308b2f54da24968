"""The supervision page's figures (SLA-5), defined here with every other figure and read by the sla package's
supervision page, API and export through `common.registry.figures` (sla may not import analytics).

Every figure is a plain query over alerts, clocks, assignments and cases, limited to what the user may see; one
grouped query per table (the supervision bench, bench/pages_bench.py, holds them under 1 s at 1,000,000 cases).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q
from django.utils.translation import gettext_lazy as _

from hotline.cases import selectors as case_selectors
from hotline.orgs.models import Unit, User
from hotline.orgs.selectors import sees_everything
from hotline.sla.models import UNIT_REPLY_STAGES, Alert, AlertKind, Clock, Stage
from hotline.sla.selectors import Period, _in_units, visible_units


@dataclass(frozen=True)
class SupervisionMeasure:
    """One column of the supervision tables: its name and the formula shown beside it; the table functions below
    compute it (one grouped query per table for all its columns: the page's speed)."""

    key: str
    table: str  # "ledger" | "limits" | "results"
    name: Any
    formula: Any
    source: str


SUPERVISION_MEASURES: list[SupervisionMeasure] = [
    SupervisionMeasure("warnings", "ledger", _("预警"), _("统计期内向该单位发出的时限预警数（按发出时间）"), "sla_alert"),
    SupervisionMeasure("yellow", "ledger", _("黄牌"), _("统计期内该单位被亮的黄牌数（时限已过仍未签收或答复）"), "sla_alert"),
    SupervisionMeasure("red", "ledger", _("红牌"), _("统计期内该单位被亮的红牌数（黄牌后仍超期）"), "sla_alert"),
    SupervisionMeasure("reminders", "ledger", _("办理提醒"), _("统计期内向该单位发出的办理提醒数"), "sla_alert"),
    SupervisionMeasure(
        "extensions_requested", "ledger", _("申请延期"), _("统计期内该单位提出的延期申请数（按申请时间）"),
        "cases_extensionrequest",
    ),
    SupervisionMeasure(
        "extensions_approved", "ledger", _("同意延期"), _("上述延期申请中热线办已同意的数量"), "cases_extensionrequest"
    ),
    SupervisionMeasure(
        "late_reports", "ledger", _("超期上报"), _("统计期内该单位上报办结、且上报时间晚于办理时限的交办数"),
        "cases_assignment",
    ),
    SupervisionMeasure(
        "received", "limits", _("收到交办"), _("统计期内交给该单位的交办数（主办、协办，不含抄送）"), "cases_assignment"
    ),
    SupervisionMeasure(
        "signed_late", "limits", _("超时签收"),
        _("签收计时在统计期内开始、签收晚于时限或仍未签收且已亮黄牌的计时数"), "sla_clock",
    ),
    SupervisionMeasure(
        "replied_late", "limits", _("超时答复"),
        _("答复（办理）计时在统计期内开始、停止晚于时限或仍在计时且已亮黄牌的计时数"), "sla_clock",
    ),
    SupervisionMeasure(
        "avg_hours_to_sign", "limits", _("平均签收用时（小时）"),
        _("统计期内收到且已签收的交办：（签收时间 − 交办时间）的平均值"), "cases_assignment",
    ),
    SupervisionMeasure(
        "avg_hours_to_reply", "limits", _("平均答复用时（小时）"),
        _("统计期内收到并已上报的交办：（上报时间 − 签收时间）的平均值"), "cases_assignment",
    ),
    SupervisionMeasure(
        "not_accepted", "results", _("不予受理"),
        _("统计期内登记、已不予受理或正待审核不予受理的工单"), "cases_case",
    ),
]  # fmt: skip


def formulas() -> dict[str, dict[str, str]]:
    """Per table, column key → formula: what the supervision page shows beside its figures."""
    out: dict[str, dict[str, str]] = {}
    for x in SUPERVISION_MEASURES:
        out.setdefault(x.table, {})[x.key] = f"{x.name}：{x.formula}"
    return out


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
