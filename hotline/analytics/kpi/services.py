"""Computing, adjusting and publishing assessment scores. Every indicator is a measure of measures.py over the
unit's subtree and the period; points are a linear scale of the value; the base score is the weighted mean of the
indicators that have data; superiors are the weighted mean of their children (weighted by cases received)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.cases.models import Case
from hotline.common import clock
from hotline.common.audit import audit_record
from hotline.common.errors import NotFound, ServiceError
from hotline.common.models import AuditLog
from hotline.orgs.models import Role, Unit, UnitKind, User
from hotline.orgs.selectors import sees_everything

from .. import measures as m
from ..group_measures import GROUP_REGISTRY
from . import bulk
from .groups import compute_groups
from .models import (
    Adjustment,
    AdjustmentKind,
    AssessmentPeriod,
    GroupScore,
    ImprovementNote,
    Indicator,
    PeriodStatus,
    Scheme,
    Score,
)

TWO = Decimal("0.01")
MAX_EVIDENCE_BYTES = 20 * 1024 * 1024


def may_manage(user: User) -> bool:
    """The office enters adjustments, sends notes, computes and publishes."""
    return bool(
        user.is_superuser or (user.in_office and user.has_role(Role.DISPATCHER, Role.MONITOR, Role.LEADER))
    )


def require_manager(user: User) -> None:
    if not may_manage(user):
        raise NotFound(_("考核期不存在"))


def q2(value: Decimal | float) -> Decimal:
    return Decimal(str(value)).quantize(TWO, rounding=ROUND_HALF_UP)


def points(value: float, *, full_at: Decimal, zero_at: Decimal) -> Decimal:
    """100 at `full_at`, 0 at `zero_at`, linear between, clamped to 0–100."""
    if full_at == zero_at:
        return Decimal(100) if Decimal(str(value)) == full_at else Decimal(0)
    raw = (Decimal(str(value)) - zero_at) / (full_at - zero_at) * 100
    return q2(min(Decimal(100), max(Decimal(0), raw)))


def weigh(
    indicators: list[Indicator], registry: Any, scope: Any, known: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], Decimal | None]:
    """Each indicator's figure for `scope` and its points (a row per indicator, as stored in a score's details),
    and the weighted mean of the points of the figures that apply (None when none does). `known`: figures
    already computed for `scope`, by measure key (the set-based ones of `bulk`)."""
    details: list[dict[str, Any]] = []
    weighted, weights = Decimal(0), Decimal(0)
    for ind in indicators:
        measure = registry[ind.measure]
        figure = (known or {}).get(ind.measure) or measure.compute(scope)
        row: dict[str, Any] = {
            "measure": ind.measure,
            "name": str(measure.name),
            "value": figure.value,
            "numerator": figure.numerator,
            "denominator": figure.denominator,
            "weight": str(ind.weight),
            "points": None,
        }
        if figure.applicable and figure.value is not None:
            p = points(figure.value, full_at=ind.full_at, zero_at=ind.zero_at)
            row["points"] = str(p)
            weighted += p * ind.weight
            weights += ind.weight
        details.append(row)
    return details, (q2(weighted / weights) if weights else None)


def grade_of(total: Decimal | None, bands: list[dict[str, Any]]) -> str:
    if total is None:
        return ""
    for band in sorted(bands, key=lambda b: -float(b["min"])):
        if total >= Decimal(str(band["min"])):
            return str(band["grade"])
    return ""


def validate_scheme(scheme: Scheme) -> None:
    errors: dict[str, list[str]] = {}
    bands = scheme.bands
    if (
        not isinstance(bands, list)
        or not bands
        or not all(isinstance(b, dict) and {"grade", "min"} <= set(b) for b in bands)
    ):
        errors["bands"] = [_('等级划分应为 [{"grade": "A", "min": 90}, …]')]
    for ind in scheme.indicators.all():
        if ind.measure in GROUP_REGISTRY:  # an agent-group indicator (kpi/groups.py)
            pass
        elif ind.measure not in m.REGISTRY or not m.REGISTRY[ind.measure].unit_scoped:
            errors.setdefault("indicators", []).append(_("指标 %s 不能按单位考核") % ind.measure)
        if ind.weight <= 0:
            errors.setdefault("indicators", []).append(_("权重应大于0"))
    if errors:
        raise ServiceError(_("考核方案有误"), field_errors=errors)


def period_create(
    *, user: User, scheme: Scheme, name: str, first_day: dt.date, last_day: dt.date
) -> AssessmentPeriod:
    require_manager(user)
    if not name.strip():
        raise ServiceError(_("请填写考核期名称"), field_errors={"name": [_("请填写考核期名称")]})
    if first_day > last_day:
        raise ServiceError(
            _("开始日期不能晚于结束日期"), field_errors={"first_day": [_("开始日期不能晚于结束日期")]}
        )
    validate_scheme(scheme)
    period = AssessmentPeriod.objects.create(
        scheme=scheme, name=name.strip(), first_day=first_day, last_day=last_day
    )
    audit_record(actor=user, action=AuditLog.Action.CREATE, obj=period, summary=f"新建考核期 {period.name}")
    return period


def _scope(period: AssessmentPeriod, unit: Unit, now: dt.datetime) -> m.Scope:
    tz = timezone.get_current_timezone()
    return m.Scope(
        start=dt.datetime.combine(period.first_day, dt.time.min, tz),
        end=dt.datetime.combine(period.last_day + dt.timedelta(days=1), dt.time.min, tz),
        now=now,
        unit=unit,
    )


def scored_directly(scheme: Scheme) -> list[Unit]:
    """Units at the scheme's depth, and leaves above it (a city bureau without sub-units)."""
    units = Unit.objects.filter(is_active=True).exclude(kind=UnitKind.OFFICE)
    at_depth = units.filter(depth=scheme.depth)
    leaves_above = units.filter(depth__lt=scheme.depth).exclude(children__is_active=True)
    return list((at_depth | leaves_above).distinct().order_by("path"))


def _adjustments(period: AssessmentPeriod) -> dict[int, Decimal]:
    out: dict[int, Decimal] = {}
    for adj in period.adjustments.all():
        sign = 1 if adj.kind == AdjustmentKind.BONUS else -1
        out[adj.unit_id] = out.get(adj.unit_id, Decimal(0)) + sign * adj.points
    return out


def _total(base: Decimal | None, adjustment: Decimal) -> Decimal | None:
    if base is None:
        return None
    return q2(min(Decimal(100), max(Decimal(0), base + adjustment)))


def compute(*, period: AssessmentPeriod, user: User | None = None) -> list[Score]:
    """(Re)compute every score of a draft period; a published period is frozen."""
    if user is not None:
        require_manager(user)
    period = AssessmentPeriod.objects.select_related("scheme").get(pk=period.pk)
    if period.frozen:
        raise ServiceError(_("考核结果已发布，不能重新计算"), code="frozen")
    scheme = period.scheme
    validate_scheme(scheme)
    indicators = list(scheme.indicators.all())
    group_scores = compute_groups(period=period, indicators=indicators, now=clock.now())
    indicators = [i for i in indicators if i.measure not in GROUP_REGISTRY]
    adjustments = _adjustments(period)
    now = clock.now()
    scores: dict[int, Score] = {}
    units: dict[int, Unit] = {}
    scored = scored_directly(scheme)
    # every indicator (and the volume weighing superiors) for all scored units at once where it can be
    bulk_figures: dict[str, dict[int, m.Figure]] = {}
    for key in {i.measure for i in indicators} | {"intake_volume"}:
        got = bulk.figures(key, _scope(period, scored[0], now), scored) if scored else None
        if got is not None:
            bulk_figures[key] = got
    for unit in scored:
        units[unit.pk] = unit
        scope = _scope(period, unit, now)
        known = {key: figs[unit.pk] for key, figs in bulk_figures.items()}
        details, base = weigh(indicators, m.REGISTRY, scope, known)
        volume = (known.get("intake_volume") or m.intake_volume(scope)).value or 0
        adj = adjustments.get(unit.pk, Decimal(0))
        scores[unit.pk] = Score(
            period=period,
            unit=unit,
            base=base,
            adjustment=adj,
            total=_total(base, adj),
            weight=int(volume),
            details=details,
        )
    # superiors, deepest first: the weighted mean of their scored children
    pending = {aid for u in units.values() for aid in u.ancestor_ids} - set(scores)
    for unit in sorted(Unit.objects.filter(pk__in=pending), key=lambda u: -u.depth):
        children = [s for s in scores.values() if s.unit.parent_id == unit.pk and s.total is not None]
        adj = adjustments.get(unit.pk, Decimal(0))
        weight = sum(c.weight for c in children)
        pairs = [(Decimal(c.total or 0), c.weight) for c in children]
        base = None
        if pairs and weight:
            base = q2(sum((t * w for t, w in pairs), Decimal(0)) / weight)
        elif pairs:
            base = q2(sum((t for t, _w in pairs), Decimal(0)) / len(pairs))
        details = [{"unit": c.unit.name, "total": str(c.total), "weight": c.weight} for c in children]
        scores[unit.pk] = Score(
            period=period,
            unit=unit,
            base=base,
            adjustment=adj,
            total=_total(base, adj),
            weight=weight,
            from_children=True,
            details=details,
        )
    by_depth: dict[int, list[Score]] = {}
    for score in scores.values():
        score.grade = grade_of(score.total, scheme.bands)
        by_depth.setdefault(score.unit.depth, []).append(score)
    for group in by_depth.values():
        totals = [s.total for s in group if s.total is not None]
        for s in group:
            s.rank = 1 + sum(1 for t in totals if t > s.total) if s.total is not None else None
    with transaction.atomic():
        period.scores.all().delete()
        for score in scores.values():
            score.save()
        period.group_scores.all().delete()
        GroupScore.objects.bulk_create(group_scores)
        period.computed_at = now
        period.save(update_fields=["computed_at"])
    return list(scores.values())


def publish(*, period: AssessmentPeriod, user: User) -> AssessmentPeriod:
    require_manager(user)
    with transaction.atomic():
        period = AssessmentPeriod.objects.select_for_update().get(pk=period.pk)
        if period.frozen:
            raise ServiceError(_("考核结果已发布"), code="frozen")
        if period.computed_at is None:
            raise ServiceError(_("请先计算得分再发布"), code="not_computed")
        period.status = PeriodStatus.PUBLISHED
        period.published_at = clock.now()
        period.published_by = user
        period.save(update_fields=["status", "published_at", "published_by"])
        audit_record(
            actor=user, action=AuditLog.Action.UPDATE, obj=period, summary=f"发布考核结果 {period.name}"
        )
    return period


def adjustment_add(
    *,
    period: AssessmentPeriod,
    user: User,
    unit: Unit,
    kind: str,
    points_: Decimal,
    reason: str,
    case_number: str = "",
    evidence: UploadedFile | None = None,
) -> Adjustment:
    require_manager(user)
    errors: dict[str, list[str]] = {}
    if kind not in AdjustmentKind.values:
        errors["kind"] = [_("类型应为扣分或加分")]
    if not (Decimal(0) < points_ <= Decimal(100)):
        errors["points"] = [_("分值应在0到100之间")]
    if not reason.strip():
        errors["reason"] = [_("请填写事由")]
    case = None
    if case_number.strip():
        case = Case.objects.filter(number=case_number.strip()).first()
        if case is None:
            errors["case"] = [_("工单不存在")]
    if evidence is not None and (evidence.size or 0) > MAX_EVIDENCE_BYTES:
        errors["evidence"] = [_("佐证材料不能超过20MB")]
    if case is None and evidence is None and "case" not in errors:
        errors["evidence"] = [_("请关联工单或上传佐证材料")]
    if errors:
        raise ServiceError(_("加减分有误"), field_errors=errors)
    if period.frozen:
        raise ServiceError(_("考核结果已发布，不能修改"), code="frozen")
    adj = Adjustment(
        period=period,
        unit=unit,
        kind=kind,
        points=q2(points_),
        reason=reason.strip()[:200],
        case=case,
        created_by=user,
        created_at=clock.now(),
    )
    if evidence is not None:
        adj.evidence.save(evidence.name or "evidence", evidence, save=False)
    adj.save()
    audit_record(
        actor=user,
        action=AuditLog.Action.CREATE,
        obj=adj,
        summary=f"{adj.get_kind_display()} {adj.points} {unit.name}",
    )
    return adj


def note_send(
    *, period: AssessmentPeriod, user: User, unit: Unit, text: str, link: str = ""
) -> ImprovementNote:
    from hotline.notify.models import Channel as NoticeChannel
    from hotline.notify.models import Outbox
    from hotline.notify.services import queue_messages

    require_manager(user)
    if not text.strip():
        raise ServiceError(_("请填写整改要求"), field_errors={"text": [_("请填写整改要求")]})
    now = clock.now()
    with transaction.atomic():
        note = ImprovementNote.objects.create(
            period=period, unit=unit, text=text.strip(), created_by=user, created_at=now
        )
        recipients = User.objects.filter(unit=unit, is_active=True)
        rows = [
            Outbox(
                channel=NoticeChannel.IN_APP,
                recipient=r,
                subject=_("考核整改通知：%s") % period.name,
                body=text.strip()[:2000],
                link=link,
                next_attempt_at=now,
                created_at=now,
            )
            for r in recipients
        ]
        queue_messages(rows)
    return note


def note_reply(*, note: ImprovementNote, user: User, reply: str) -> ImprovementNote:
    if user.unit_id != note.unit_id:
        raise NotFound(_("整改通知不存在"))
    if not reply.strip():
        raise ServiceError(_("请填写整改回复"), field_errors={"reply": [_("请填写整改回复")]})
    note.reply, note.replied_by, note.replied_at = reply.strip(), user, clock.now()
    note.save(update_fields=["reply", "replied_by", "replied_at"])
    return note


def visible_scores(*, user: User, period: AssessmentPeriod) -> QuerySet[Score]:
    qs = period.scores.select_related("unit").order_by("unit__depth", "rank", "unit__path")
    if sees_everything(user):
        return qs
    if user.unit is None:
        return qs.none()
    return qs.filter(unit__path__startswith=user.unit.path)


def visible_notes(*, user: User, period: AssessmentPeriod) -> QuerySet[ImprovementNote]:
    qs = period.notes.select_related("unit", "created_by", "replied_by")
    if sees_everything(user):
        return qs
    if user.unit is None:
        return qs.none()
    return qs.filter(unit__path__startswith=user.unit.path)
