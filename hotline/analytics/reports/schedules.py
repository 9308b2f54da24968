"""Scheduled reports (RPT-1): a saved cross-tab, a preset or a call report e-mailed as Excel every day, week or
month.

Each recipient gets the report run as that recipient — `engine.parse(params, user=recipient)`: a district leader
gets the district's subtree, a unit outside the recipient's subtree is refused — over the last complete period
before the run (daily: the day before; weekly: Monday to Sunday of the week before; monthly: the month before).
A call report (`preset` = "calls:<report>") has no unit side: only recipients who see the whole centre get it.

Mail goes through Django's e-mail backend (`EMAIL_BACKEND`, `EMAIL_HOST`…, `DEFAULT_FROM_EMAIL`), the same the
notify outbox delivers e-mail through; the outbox keeps text only, so the attachment is sent here. Each copy is a
`ScheduledDelivery` row (one per schedule, run and recipient): sent once; a failure is retried at the next round
up to MAX_ATTEMPTS; the schedule moves to its next run when every copy is settled.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from hotline.common import clock
from hotline.common.audit import audit_record
from hotline.common.errors import NotFound
from hotline.common.models import AuditLog
from hotline.orgs.models import User
from hotline.orgs.selectors import sees_everything

from .. import call_tables, calls
from .. import exports as table_exports
from ..crosstab import engine
from ..permissions import ANALYTICS_ROLES, may_view
from . import exports, presets, services
from .models import DeliveryStatus, Frequency, ReportSchedule, SavedReport, ScheduledDelivery

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
MAX_RECIPIENTS = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def next_slot(frequency: str, hour: int, after: dt.datetime) -> dt.datetime:
    """The first run time strictly after `after`: every day, every Monday, or every 1st, at `hour` local time."""
    tz = timezone.get_current_timezone()
    local = timezone.localtime(after, tz)
    day = local.date()
    while True:
        if frequency == Frequency.WEEKLY:
            day += dt.timedelta(days=(7 - day.weekday()) % 7)
        elif frequency == Frequency.MONTHLY and day.day != 1:
            day = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        slot = dt.datetime.combine(day, dt.time(hour), tz)
        if slot > after:
            return slot
        day += dt.timedelta(days=1)


def slot_period(frequency: str, slot: dt.datetime) -> tuple[dt.date, dt.date]:
    """The last complete day / week / month before a run."""
    day = timezone.localtime(slot).date()
    if frequency == Frequency.DAILY:
        return day - dt.timedelta(days=1), day - dt.timedelta(days=1)
    if frequency == Frequency.WEEKLY:
        monday = day - dt.timedelta(days=day.weekday() + 7)
        return monday, monday + dt.timedelta(days=6)
    last = day.replace(day=1) - dt.timedelta(days=1)
    return last.replace(day=1), last


def recipients_in_scope(*, user: User) -> QuerySet[User]:
    """Whom a user may send figures to: active users with an e-mail address and the right to read figures, in
    the user's unit subtree (the whole centre for those who see everything)."""
    readers = Q(is_superuser=True) | Q(roles__role__in=ANALYTICS_ROLES)
    users = User.objects.filter(readers, is_active=True).exclude(email="").distinct().select_related("unit")
    if not sees_everything(user):
        if user.unit is None:
            return User.objects.none()
        users = users.filter(unit__path__startswith=user.unit.path)
    return users.order_by("unit__path", "username")


@dataclass(frozen=True)
class Source:
    name: str
    params: dict[str, list[str]]
    call_report: str = ""  # a report of call_tables.REPORTS instead of a cross-tab


CALLS_PREFIX = "calls:"


def call_presets() -> list[tuple[str, str]]:
    """(preset key, name) of every call report a schedule may send."""
    return [(CALLS_PREFIX + key, str(name)) for key, name in call_tables.REPORTS.items()]


def _source(schedule: ReportSchedule) -> Source:
    if schedule.report_id is not None:
        report = schedule.report
        assert report is not None
        return Source(report.name, dict(report.params))
    if schedule.preset.startswith(CALLS_PREFIX):
        key = schedule.preset.removeprefix(CALLS_PREFIX)
        if key not in call_tables.REPORTS:
            raise NotFound(_("预置报表不存在"))
        return Source(str(call_tables.REPORTS[key]), {}, call_report=key)
    preset = presets.preset(schedule.preset)
    if preset is None:
        raise NotFound(_("预置报表不存在"))
    return Source(str(preset.name), dict(preset.params))


def source_name(schedule: ReportSchedule) -> str:
    try:
        return _source(schedule).name
    except NotFound:
        return schedule.preset


def _params_for(source: Source, first: dt.date, last: dt.date) -> dict[str, list[str]]:
    params = {k: v for k, v in source.params.items() if k not in ("period", "from", "to")}
    return {**params, "period": ["custom"], "from": [first.isoformat()], "to": [last.isoformat()]}


def schedule_create(
    *,
    user: User,
    report_id: Any = None,
    preset: str = "",
    frequency: str,
    hour: Any = 7,
    recipient_ids: list[Any],
) -> ReportSchedule:
    """Validate everything before writing: a report the user sees (or a preset), a frequency, an hour 0–23,
    1–50 recipients each in the user's scope and each able to run the report in their own scope."""
    may_view.require(user)
    errors: dict[str, list[str]] = {}
    report: SavedReport | None = None
    if report_id not in (None, ""):
        try:
            report = services.report_get(user=user, pk=int(report_id))
        except (TypeError, ValueError, OverflowError):
            errors["report"] = [_("报表编号应为整数")]
        except NotFound:
            errors["report"] = [_("报表不存在")]
    elif preset.startswith(CALLS_PREFIX):
        if preset not in dict(call_presets()):
            errors["report"] = [_("请选择一张自定义报表或预置报表")]
        elif not sees_everything(user):
            errors["report"] = [_("话务报表仅对热线办和市领导开放")]
    elif not preset or presets.preset(preset) is None:
        errors["report"] = [_("请选择一张自定义报表或预置报表")]
    if frequency not in Frequency.values:
        errors["frequency"] = [_("频率应为每日、每周或每月")]
    try:
        hour_n = int(hour)
        if not 0 <= hour_n <= 23:
            raise ValueError
    except (TypeError, ValueError):
        errors["hour"] = [_("发送时刻应为0–23的整数")]
        hour_n = 0
    ids: set[int] = set()
    for raw in recipient_ids:
        try:
            ids.add(int(raw))
        except (TypeError, ValueError):
            errors["recipients"] = [_("收件人编号应为整数")]
    if not ids and "recipients" not in errors:
        errors["recipients"] = [_("请至少选择一位收件人")]
    if len(ids) > MAX_RECIPIENTS:
        errors["recipients"] = [_("收件人不能超过%d位") % MAX_RECIPIENTS]
    recipients = list(recipients_in_scope(user=user).filter(pk__in=ids)) if ids and len(ids) <= 2**20 else []
    if ids and len(recipients) != len(ids) and "recipients" not in errors:
        errors["recipients"] = [_("收件人不存在或不在您的单位范围内（需启用、有邮箱）")]
    if errors:
        raise serializers.ValidationError(errors)
    source = Source(report.name, dict(report.params)) if report else _source(ReportSchedule(preset=preset))
    today = timezone.localtime(clock.now()).date()
    for recipient in recipients:
        problem = _refusal(recipient, source, _params_for(source, today, today))
        if problem:
            errors.setdefault("recipients", []).append(f"{recipient}：{problem}")
    if errors:
        raise serializers.ValidationError(errors)
    with transaction.atomic():
        schedule = ReportSchedule.objects.create(
            report=report,
            preset="" if report else preset,
            owner=user,
            frequency=frequency,
            hour=hour_n,
            next_run_at=next_slot(frequency, hour_n, clock.now()),
            created_at=clock.now(),
        )
        schedule.recipients.set(recipients)
        audit_record(
            actor=user,
            action=AuditLog.Action.CREATE,
            obj=schedule,
            summary=f"定时发送报表 {source.name}（{schedule.get_frequency_display()}）"
            f"给 {'、'.join(str(r) for r in recipients)}"[:255],
        )
    return schedule


def _refusal(recipient: User, source: Source, params: dict[str, list[str]]) -> str:
    """Why this recipient cannot get this report in their own scope ("" when they can)."""
    if not may_view(recipient):
        return str(may_view.refusal)
    if source.call_report:
        return "" if sees_everything(recipient) else _("话务报表仅对热线办和市领导开放")
    try:
        engine.parse(params, user=recipient)
    except NotFound:
        return _("报表的统计单位超出其权限范围")
    except serializers.ValidationError as exc:
        detail = exc.detail if isinstance(exc.detail, dict) else {"": exc.detail}
        return "；".join(
            str(m) for msgs in detail.values() for m in (msgs if isinstance(msgs, list) else [msgs])
        )
    return ""


def visible_schedules(*, user: User) -> QuerySet[ReportSchedule]:
    return (
        ReportSchedule.objects.filter(owner=user)
        .select_related("report")
        .prefetch_related("recipients")
        .order_by("next_run_at", "id")
    )


def schedule_get(*, user: User, pk: int) -> ReportSchedule:
    schedule = visible_schedules(user=user).filter(pk=pk).first()
    if schedule is None:
        raise NotFound(_("定时报表不存在"))
    return schedule


def schedule_delete(*, user: User, schedule: ReportSchedule) -> None:
    if schedule.owner_id != user.pk:
        raise NotFound(_("定时报表不存在"))
    with transaction.atomic():
        audit_record(actor=user, action=AuditLog.Action.DELETE, obj=schedule, summary="删除定时报表")
        schedule.delete()


# --------------------------------------------------------------------------- the job


def run_due(*, now: dt.datetime | None = None) -> int:
    """Send every schedule whose run time has come; returns the copies sent. One schedule at a time, locked
    (a second worker skips it); safe to run again: a copy sent is never sent twice."""
    now = now or clock.now()
    sent = 0
    due = list(
        ReportSchedule.objects.filter(is_active=True, next_run_at__lte=now)
        .order_by("next_run_at")
        .values_list("pk", flat=True)[:100]
    )
    for pk in due:
        with transaction.atomic():
            schedule = (
                ReportSchedule.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, is_active=True, next_run_at__lte=now)
                .first()
            )
            if schedule is None:
                continue
            sent += _run_one(schedule, now)
    return sent


def _run_one(schedule: ReportSchedule, now: dt.datetime) -> int:
    slot = schedule.next_run_at
    first, last = slot_period(schedule.frequency, slot)
    try:
        source = _source(schedule)
    except NotFound:
        schedule.is_active = False
        schedule.save(update_fields=["is_active"])
        return 0
    params = _params_for(source, first, last)
    done = {
        d.recipient_id: d
        for d in ScheduledDelivery.objects.filter(schedule=schedule, slot=slot).select_for_update()
    }
    sent = 0
    pending = False
    connection = None
    for recipient in schedule.recipients.filter(is_active=True).select_related("unit").order_by("pk"):
        previous = done.get(recipient.pk)
        if previous is not None and (
            previous.status != DeliveryStatus.FAILED or previous.attempts >= MAX_ATTEMPTS
        ):
            continue
        delivery = previous or ScheduledDelivery(schedule=schedule, slot=slot, recipient=recipient)
        delivery.at = now
        problem = "" if recipient.email else _("收件人没有邮箱")
        problem = problem or _refusal(recipient, source, params)
        if problem:
            delivery.status, delivery.detail = DeliveryStatus.SKIPPED, problem[:500]
            delivery.save()
            continue
        title = f"{source.name}（{first.isoformat()} — {last.isoformat()}）"
        content, described = (
            _call_workbook(recipient, source, first, last)
            if source.call_report
            else _crosstab_workbook(recipient, source, params)
        )
        message = EmailMessage(
            subject=_("【12345热线】定时报表：%s") % title,
            body="\n".join(
                [_("附件为定时发送的统计报表，按您的权限范围统计。"), ""]
                + [f"{label}：{value}" for label, value in described]
            ),
            to=[recipient.email],
            connection=connection,
        )
        message.attach(f"report-{first.isoformat()}.xlsx", content, XLSX)
        delivery.attempts += 1
        try:
            connection = connection or get_connection()
            message.connection = connection
            message.send()
        except OSError as exc:  # smtplib's errors are OSErrors
            logger.warning("scheduled report %s to %s failed: %s", schedule.pk, recipient.pk, exc)
            delivery.status, delivery.detail = DeliveryStatus.FAILED, str(exc)[:500]
            pending = pending or delivery.attempts < MAX_ATTEMPTS
        else:
            delivery.status, delivery.detail = DeliveryStatus.SENT, ""
            sent += 1
        delivery.save()
    if not pending:
        schedule.last_run_at = now
        schedule.next_run_at = next_slot(schedule.frequency, schedule.hour, max(now, slot))
        schedule.save(update_fields=["last_run_at", "next_run_at"])
    return sent


def _crosstab_workbook(
    recipient: User, source: Source, params: dict[str, list[str]]
) -> tuple[bytes, list[tuple[str, str]]]:
    table = engine.run(engine.parse(params, user=recipient))
    workbook = exports.crosstab_xlsx(user=recipient, table=table, title=source.name)
    return workbook.content, [(str(label), str(value)) for label, value in table.spec.describe()]


def _call_workbook(
    recipient: User, source: Source, first: dt.date, last: dt.date
) -> tuple[bytes, list[tuple[str, str]]]:
    """A call report over [first, last] as the page exports it (daily buckets for the volume report)."""
    start = timezone.make_aware(dt.datetime.combine(first, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min))
    header, rows, _raw = call_tables.table(source.call_report, calls.Window(start, end), "day")
    stated = [
        (_("报表"), source.name),
        (_("统计区间"), f"{first.isoformat()} — {last.isoformat()}"),
        (_("统计粒度"), str(calls.GRAIN_LABELS["day"]) if source.call_report == "volume" else "—"),
    ]
    workbook = table_exports.table_xlsx(
        user=recipient,
        name=f"calls-{source.call_report}",
        title=source.name,
        stated=stated,
        header=header,
        rows=rows,
        formulas=[str(v) for v in call_tables.formulas().values()],
        filters={"report": source.call_report, "from": first.isoformat(), "to": last.isoformat()},
    )
    return workbook.content, stated


def deliveries(*, schedule: ReportSchedule) -> QuerySet[ScheduledDelivery]:
    return ScheduledDelivery.objects.filter(Q(schedule=schedule)).select_related("recipient")[:50]
