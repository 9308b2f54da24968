"""Every write on a case. One transaction per function; the timeline event and the audit row commit with it.

Each action bumps the case's `version` with a conditional UPDATE, so two people acting on the same case at
once cannot both succeed: the second gets a Conflict (HTTP 409) instead of silently overwriting.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import F

from hotline.citizens.services import citizen_upsert_from_intake
from hotline.common import clock, crypto
from hotline.common.audit import audit_record
from hotline.common.errors import Conflict, NotAllowed, ServiceError
from hotline.common.models import DictItem, DictKind
from hotline.common.refcache import RefCache
from hotline.common.validators import normalize_phone, validate_id_card, validate_phone
from hotline.orgs.models import Unit, UnitKind, User
from hotline.orgs.selectors import unit_district
from hotline.sla import services as sla
from hotline.sla.models import Stage

from . import lifecycle
from .lifecycle import Action
from .models import (
    OPEN_ASSIGNMENT_STATUSES,
    SATISFIED_RATINGS,
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Callback,
    Case,
    CaseAttachment,
    CaseEvent,
    CaseNumberCounter,
    CaseStatus,
    Channel,
    CloseKind,
    ExtendedField,
    ExtendedFieldType,
    ExtensionRequest,
    HandlingRecord,
    RequestStatus,
    ReturnRequest,
)

MIN_STAFF_CONTENT_LENGTH = 50
EXTENDED_FIELDS = RefCache(ExtendedField)
STAFF_CHANNELS = frozenset({Channel.PHONE, Channel.VOICEMAIL, Channel.POLICE_110, Channel.OTHER_HOTLINE})
INTAKE_ACTIONS = frozenset({Action.SAVE_DRAFT, Action.SUBMIT, Action.ARCHIVE, Action.PROPOSE_NOT_ACCEPTED})


# --------------------------------------------------------------------------- helpers


def _fail(field: str, message: str) -> ServiceError:
    return ServiceError(message, field_errors={field: [message]})


def _bump(case: Case, *, expected_version: int | None, to_status: str | None, **updates: Any) -> None:
    """Conditionally move the case on; refuse if anyone changed it since `expected_version`."""
    expected = case.version if expected_version is None else expected_version
    if expected != case.version:
        raise Conflict("工单已被他人更新，请刷新后重试")
    if to_status:
        updates["status"] = to_status
    changed = Case.objects.filter(pk=case.pk, version=expected, status=case.status).update(
        version=F("version") + 1, **updates
    )
    if changed != 1:
        raise Conflict("工单已被他人更新，请刷新后重试")
    for name, value in updates.items():
        setattr(case, name, value)
    case.version = expected + 1


def _event(
    case: Case,
    *,
    actor: User | None,
    action: str,
    from_status: str,
    assignment: Assignment | None = None,
    opinion: str = "",
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    event = CaseEvent.objects.create(
        case=case,
        at=clock.now(),
        actor=actor,
        unit=actor.unit if actor else None,
        assignment=assignment,
        action=action,
        from_status=from_status,
        to_status=case.status,
        opinion=opinion,
        data=data or {},
    )
    audit_record(actor=actor, action="update", obj=case, summary=f"{case.number} {Action(action).label}")
    return event


def _transition(
    case: Case,
    action: str,
    *,
    actor: User,
    expected_version: int | None,
    to_status: str | None = None,
    assignment: Assignment | None = None,
    opinion: str = "",
    data: dict[str, Any] | None = None,
    **updates: Any,
) -> CaseEvent:
    """Check the lifecycle table, move the case, write the timeline event. Call inside a transaction."""
    if expected_version is not None and expected_version != case.version:
        # The user acted on an old view of the case: say so before judging the action against today's state.
        raise Conflict("工单已被他人更新，请刷新后重试")
    transition = lifecycle.check(action, status=case.status, user=actor)
    target = to_status or transition.target
    if target is not None and target not in transition.targets():
        raise AssertionError(f"{action} cannot lead to {target}")  # a programming error, not user input
    from_status = case.status
    _bump(case, expected_version=expected_version, to_status=target, **updates)
    _clocks_on_transition(case, from_status)
    return _event(
        case,
        actor=actor,
        action=action,
        from_status=from_status,
        assignment=assignment,
        opinion=opinion,
        data=data,
    )


def _clocks_on_transition(case: Case, from_status: str) -> None:
    """Case-level deadlines follow the status: the total clock runs from submission to the end, the callback
    clock while the case waits for its callback."""
    to_status = case.status
    if to_status == from_status:
        return
    if to_status in lifecycle.FINISHED_STATUSES:
        sla.clock_stop(case=case)
        return
    if from_status == CaseStatus.CALLBACK:
        sla.clock_stop(case=case, stages=[Stage.CALLBACK])
    if to_status == CaseStatus.CALLBACK:
        sla.clock_start(case=case, stage=Stage.CALLBACK)
    if to_status == CaseStatus.SUBMITTED and not case.clocks.filter(stage=Stage.TOTAL).exists():
        sla.clock_start(case=case, stage=Stage.TOTAL, start=case.submitted_at or clock.now())


def _start_unit_clocks(assignment: Assignment, *, due_at: dt.datetime | None = None) -> None:
    """A unit's sign-for and reply deadlines; the reply deadline is mirrored on the assignment for worklists."""
    case = assignment.case
    if assignment.status == AssignmentStatus.PENDING:
        sla.clock_start(case=case, assignment=assignment, stage=Stage.SIGN_FOR, start=assignment.assigned_at)
    reply = sla.clock_start(case=case, assignment=assignment, stage=Stage.REPLY, override_due=due_at)
    assignment.due_at = reply.due_at if reply else None
    assignment.warn_at = reply.warn_at if reply else None
    assignment.save(update_fields=["due_at", "warn_at"])


def _require_text(field: str, value: str, label: str) -> str:
    value = (value or "").strip()
    if not value:
        raise _fail(field, f"请填写{label}")
    return value


def _dict_item(field: str, value: DictItem | None, kind: str, *, required: bool = False) -> DictItem | None:
    if value is None:
        if required:
            raise _fail(field, "请选择" + DictKind(kind).label)
        return None
    if value.kind != kind or not value.is_active:
        raise _fail(field, f"{DictKind(kind).label}无效")
    return value


def _reload(assignment: Assignment) -> Assignment:
    return Assignment.objects.select_related("unit", "case").get(pk=assignment.pk)


def _require_own(assignment: Assignment, actor: User) -> None:
    if actor.unit_id != assignment.unit_id:
        raise NotAllowed("该工单未交办给您的单位，不能操作")


def _require_status(assignment: Assignment, *statuses: str, doing: str) -> None:
    if assignment.status not in statuses:
        raise ServiceError(
            f"本单位环节当前为“{AssignmentStatus(assignment.status).label}”，不能{doing}", code="bad_status"
        )


def _finish(assignment: Assignment, status: str, **fields: Any) -> None:
    assignment.status = status
    assignment.finished_at = clock.now()
    for name, value in fields.items():
        setattr(assignment, name, value)
    assignment.save(update_fields=["status", "finished_at", *fields])
    sla.clock_stop(assignment=assignment)


def _reopen(assignment: Assignment, *, fresh_deadline: bool = False) -> None:
    """Back to work. The unit keeps its deadline if it is still ahead, else (or on a redo) gets a new one."""
    assignment.status = AssignmentStatus.HANDLING if assignment.signed_at else AssignmentStatus.PENDING
    assignment.finished_at = None
    assignment.save(update_fields=["status", "finished_at"])
    if sla.running(assignment=assignment, stage=Stage.REPLY) is None:
        keep = assignment.due_at if assignment.due_at and assignment.due_at > clock.now() else None
        _start_unit_clocks(assignment, due_at=None if fresh_deadline else keep)


def next_case_number(day: dt.date) -> str:
    """YYYYMMDD + 6-digit daily sequence; the counter row serialises concurrent intakes.

    One statement (an upsert returning the new value, PostgreSQL and SQLite alike) because every intake
    waits for it while holding the row lock.
    """
    table = connection.ops.quote_name(CaseNumberCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, last) VALUES (%s, 1) "
            f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [day],
        )
        (last,) = cursor.fetchone()
    return f"{day:%Y%m%d}{last:06d}"


def new_query_password() -> str:
    return f"{secrets.randbelow(10**6):06d}"


# --------------------------------------------------------------------------- intake (INT)


@dataclass
class CaseInput:
    """What an agent types at intake. Unknown extended fields are refused."""

    case_type: DictItem
    content: str
    channel: str = Channel.PHONE
    citizen_name: str = ""
    citizen_gender: str = ""
    citizen_phone: str = ""
    citizen_email: str = ""
    citizen_address: str = ""
    citizen_work_unit: str = ""
    citizen_post_code: str = ""
    citizen_notes: str = ""
    citizen_id_card: str = ""
    nature: DictItem | None = None
    urgency: DictItem | None = None
    secrecy: DictItem | None = None
    bureau: Unit | None = None
    location: str = ""
    location_unit: Unit | None = None
    title: str = ""
    keywords: str = ""
    is_typical_recording: bool = False
    is_public: bool = False
    extra: dict[str, Any] | None = None
    origin: dict[str, Any] | None = None


def _validate_extra(data: CaseInput) -> dict[str, Any]:
    bureau_id = data.bureau.pk if data.bureau else None
    definitions = [
        d
        for d in EXTENDED_FIELDS.all()
        if d.is_active
        and d.bureau_id in (None, bureau_id)
        and d.case_type_id in (None, data.case_type.pk if data.case_type else None)
    ]
    extra = dict(data.extra or {})
    known = {d.key: d for d in sorted(definitions, key=lambda d: (d.sort_order, d.pk))}
    errors: dict[str, list[str]] = {}
    for key in set(extra) - set(known):
        errors[f"extra.{key}"] = ["该扩展字段不适用于所选职能局和诉求类型"]
    for key, definition in known.items():
        value = extra.get(key)
        if value in (None, ""):
            if definition.required:
                errors[f"extra.{key}"] = [f"请填写{definition.label}"]
            continue
        if definition.field_type == ExtendedFieldType.NUMBER:
            try:
                float(value)
            except (TypeError, ValueError):
                errors[f"extra.{key}"] = [f"{definition.label}应为数字"]
        elif definition.field_type == ExtendedFieldType.DATE:
            try:
                dt.date.fromisoformat(str(value))
            except ValueError:
                errors[f"extra.{key}"] = [f"{definition.label}应为日期（YYYY-MM-DD）"]
        elif definition.field_type == ExtendedFieldType.CHOICE and value not in definition.choices:
            errors[f"extra.{key}"] = [f"{definition.label}的取值不在可选项中"]
    if errors:
        raise ServiceError("扩展字段填写有误", field_errors=errors)
    return extra


def _validate_input(data: CaseInput, *, complete: bool) -> dict[str, Any]:
    """Return the normalised case fields, or raise with every field error at once."""
    errors: dict[str, list[str]] = {}

    def check(field: str, fn: Any) -> None:
        try:
            fn()
        except ServiceError as exc:
            errors.update(exc.field_errors or {field: [exc.message]})
        except ValidationError as exc:
            errors[field] = [str(m) for m in exc.messages]

    phone = normalize_phone(data.citizen_phone)
    if phone:
        check("citizen_phone", lambda: validate_phone(phone))
    elif complete and not data.citizen_email:
        errors["citizen_phone"] = ["请填写联系电话或电子邮箱，以便回复和回访"]
    if data.citizen_id_card:
        check("citizen_id_card", lambda: validate_id_card(data.citizen_id_card))
    if data.channel not in Channel.values:
        errors["channel"] = ["来源渠道无效"]
    content = (data.content or "").strip()
    if not content:
        errors["content"] = ["请填写诉求内容"]
    elif complete and data.channel in STAFF_CHANNELS and len(content) < MIN_STAFF_CONTENT_LENGTH:
        errors["content"] = [f"诉求内容不少于{MIN_STAFF_CONTENT_LENGTH}个字（当前{len(content)}个字）"]
    check("case_type", lambda: _dict_item("case_type", data.case_type, DictKind.CASE_TYPE, required=True))
    check("nature", lambda: _dict_item("nature", data.nature, DictKind.NATURE))
    check("urgency", lambda: _dict_item("urgency", data.urgency, DictKind.URGENCY))
    check("secrecy", lambda: _dict_item("secrecy", data.secrecy, DictKind.SECRECY))
    if data.bureau is not None and (data.bureau.kind != UnitKind.BUREAU or not data.bureau.is_active):
        errors["bureau"] = ["职能局无效或已撤销"]
    if data.location_unit is not None and not data.location_unit.is_active:
        errors["location_unit"] = ["事发地所属单位已撤销"]
    extra: dict[str, Any] = {}
    if complete:
        check("extra", lambda: extra.update(_validate_extra(data)))
    else:
        extra = dict(data.extra or {})
    if errors:
        raise ServiceError("输入有误", field_errors=errors)
    district = unit_district(data.location_unit) if data.location_unit else None
    return {
        "channel": data.channel,
        "origin": data.origin or {},
        "citizen_name": data.citizen_name.strip(),
        "citizen_gender": data.citizen_gender,
        "citizen_phone": phone,
        "citizen_email": data.citizen_email.strip(),
        "citizen_address": data.citizen_address.strip(),
        "citizen_work_unit": data.citizen_work_unit.strip(),
        "citizen_post_code": data.citizen_post_code.strip(),
        "citizen_notes": data.citizen_notes.strip(),
        "case_type": data.case_type,
        "nature": data.nature,
        "urgency": data.urgency,
        "secrecy": data.secrecy,
        "bureau": data.bureau,
        "location": data.location.strip(),
        "location_unit": data.location_unit,
        "district": district,
        "title": data.title.strip() or content[:30],
        "content": content,
        "keywords": data.keywords.strip(),
        "is_typical_recording": data.is_typical_recording,
        "is_public": data.is_public,
        "extra": extra,
    }


def _save_attachments(case: Case, files: Sequence[UploadedFile], actor: User) -> None:
    limit = settings.HOTLINE_MAX_ATTACHMENT_BYTES
    for upload in files:
        if upload.size is None or upload.size > limit:
            raise _fail("attachments", f"附件“{upload.name}”超过大小限制（{limit // (1024 * 1024)} MB）")
    for upload in files:
        CaseAttachment.objects.create(
            case=case,
            file=upload,
            name=(upload.name or "附件")[:200],
            size=upload.size or 0,
            content_type=getattr(upload, "content_type", "") or "",
            uploaded_by=actor,
            uploaded_at=clock.now(),
        )


@dataclass
class IntakeResult:
    case: Case
    query_password: str | None


def case_intake(
    *,
    actor: User,
    data: CaseInput,
    action: str = Action.SUBMIT,
    answer: str = "",
    not_accepted_reason: DictItem | None = None,
    not_accepted_text: str = "",
    attachments: Sequence[UploadedFile] = (),
    sms_template: str = "",
) -> IntakeResult:
    """Register a new request and take the agent's action on it at once (draft, submit, archive, not accepted).

    With `sms_template` (a "citizen_" message template) the caller gets an SMS, e.g. the case number and query
    password, queued in the same transaction.
    """
    if action not in INTAKE_ACTIONS:
        raise _fail("action", "受理操作无效")
    if sms_template:
        _check_citizen_sms(sms_template, data, action)
    lifecycle.check(action, status=lifecycle.NEW, user=actor)
    fields = _validate_input(data, complete=action != Action.SAVE_DRAFT)
    closing = _closing_fields(action, answer, not_accepted_reason, not_accepted_text)
    password = None if data.is_public else new_query_password()
    with transaction.atomic():
        now = clock.now()
        citizen = None
        if fields["citizen_phone"] or data.citizen_id_card:
            citizen = citizen_upsert_from_intake(
                phone=fields["citizen_phone"],
                actor=actor,
                id_card=data.citizen_id_card,
                name=fields["citizen_name"],
                gender=fields["citizen_gender"],
                email=fields["citizen_email"],
                address=fields["citizen_address"],
                work_unit=fields["citizen_work_unit"],
                post_code=fields["citizen_post_code"],
            )
        case = Case.objects.create(
            number=next_case_number(now.astimezone(dt.timezone(dt.timedelta(hours=8))).date()),
            status=CaseStatus.DRAFT,
            citizen=citizen,
            intake_by=actor,
            created_at=now,
            query_password=crypto.hash_code(password) if password else "",
            **fields,
        )
        _save_attachments(case, attachments, actor)
        _event(case, actor=actor, action=Action.CREATE, from_status="")
        if action != Action.SAVE_DRAFT:
            _intake_transition(case, action, actor=actor, expected_version=case.version, **closing)
        if sms_template:
            _sms_citizen(case, sms_template, password=password)
    return IntakeResult(case=case, query_password=password)


def _check_citizen_sms(template: str, data: CaseInput, action: str) -> None:
    from hotline.common.validators import MOBILE_RE
    from hotline.notify.services import citizen_templates

    if template not in {t.code for t in citizen_templates()}:
        raise _fail("sms_template", "短信模板无效")
    if action == Action.SAVE_DRAFT:
        raise _fail("sms_template", "暂存的工单不发送短信")
    if not MOBILE_RE.match(normalize_phone(data.citizen_phone)):
        raise _fail("sms_template", "来电人没有手机号码，无法发送短信")


def _sms_citizen(case: Case, template: str, *, password: str | None) -> None:
    context = {
        "number": case.number,
        "password": password or "（公开工单无需密码）",
        "title": case.title,
        "answer": case.answer,
    }
    queue_citizen_sms(case, address=case.citizen_phone, template=template, context=context)


def queue_citizen_sms(
    case: Case, *, address: str, template: str, context: dict[str, Any], data: dict[str, Any] | None = None
) -> None:
    """An SMS to a citizen about `case`, queued in the caller's transaction, its text on the case's timeline.

    Raises notify's TemplateMissing (before writing anything) when the template is missing or switched off."""
    from hotline.notify.services import build_address_message, queue_messages

    message = build_address_message(channel="sms", address=address, template=template, context=context)
    queue_messages([message])
    _event(
        case, actor=None, action=Action.SMS_CITIZEN, from_status=case.status, opinion=message.body, data=data
    )


def _closing_fields(action: str, answer: str, reason: DictItem | None, text: str) -> dict[str, Any]:
    if action == Action.ARCHIVE:
        return {"answer": _require_text("answer", answer, "答复内容")}
    if action == Action.PROPOSE_NOT_ACCEPTED:
        _dict_item("not_accepted_reason", reason, DictKind.NOT_ACCEPTED_REASON, required=True)
        return {"not_accepted_reason": reason, "not_accepted_text": (text or "").strip()}
    return {}


def _intake_transition(
    case: Case, action: str, *, actor: User, expected_version: int | None, **fields: Any
) -> None:
    now = clock.now()
    if action == Action.SUBMIT:
        fields["submitted_at"] = now
    elif action == Action.ARCHIVE:
        fields.update(closed_at=now, close_kind=CloseKind.ANSWERED)
    opinion = fields.get("answer") or fields.get("not_accepted_text") or ""
    _transition(case, action, actor=actor, expected_version=expected_version, opinion=opinion, **fields)


def case_edit(*, case: Case, actor: User, expected_version: int | None, data: CaseInput) -> Case:
    """An agent completes a draft or rewrites a case the office returned."""
    if case.status not in (CaseStatus.DRAFT, CaseStatus.RETURNED):
        raise ServiceError("只有暂存或退回的工单可以修改", code="bad_status")
    lifecycle.check(Action.SAVE_DRAFT, status=CaseStatus.DRAFT, user=actor)
    fields = _validate_input(data, complete=False)
    with transaction.atomic():
        from_status = case.status
        _bump(case, expected_version=expected_version, to_status=None, **fields)
        _event(case, actor=actor, action=Action.SAVE_DRAFT, from_status=from_status)
    return case


def case_take_intake_action(
    *,
    case: Case,
    actor: User,
    action: str,
    expected_version: int | None,
    answer: str = "",
    not_accepted_reason: DictItem | None = None,
    not_accepted_text: str = "",
) -> Case:
    """Submit, archive or propose not-accepted for an existing draft/returned case."""
    if action not in INTAKE_ACTIONS - {Action.SAVE_DRAFT}:
        raise _fail("action", "受理操作无效")
    if action != Action.PROPOSE_NOT_ACCEPTED or case.status != CaseStatus.SUBMITTED:
        # Completeness is checked again: a draft may have been saved half-filled.
        _validate_input(_input_from_case(case), complete=True)
    closing = _closing_fields(action, answer, not_accepted_reason, not_accepted_text)
    with transaction.atomic():
        _intake_transition(case, action, actor=actor, expected_version=expected_version, **closing)
    return case


def _input_from_case(case: Case) -> CaseInput:
    names = [f for f in CaseInput.__dataclass_fields__ if f not in {"citizen_id_card", "origin"}]
    return CaseInput(**{name: getattr(case, name) for name in names})


# --------------------------------------------------------------------------- office review (DSP)


def case_confirm_not_accepted(
    *, case: Case, actor: User, expected_version: int | None, opinion: str = ""
) -> Case:
    with transaction.atomic():
        _transition(
            case,
            Action.CONFIRM_NOT_ACCEPTED,
            actor=actor,
            expected_version=expected_version,
            opinion=opinion,
            closed_at=clock.now(),
        )
    return case


def case_reject_not_accepted(*, case: Case, actor: User, expected_version: int | None, opinion: str) -> Case:
    opinion = _require_text("opinion", opinion, "驳回理由")
    with transaction.atomic():
        _transition(
            case,
            Action.REJECT_NOT_ACCEPTED,
            actor=actor,
            expected_version=expected_version,
            opinion=opinion,
            not_accepted_reason=None,
            not_accepted_text="",
        )
    return case


def case_return_to_agent(*, case: Case, actor: User, expected_version: int | None, opinion: str) -> Case:
    opinion = _require_text("opinion", opinion, "退回理由")
    with transaction.atomic():
        _transition(
            case, Action.RETURN_TO_AGENT, actor=actor, expected_version=expected_version, opinion=opinion
        )
    return case


def case_close_directly(*, case: Case, actor: User, expected_version: int | None, reason: str) -> Case:
    reason = _require_text("reason", reason, "办结说明")
    with transaction.atomic():
        _transition(
            case,
            Action.CLOSE_DIRECTLY,
            actor=actor,
            expected_version=expected_version,
            opinion=reason,
            closed_at=clock.now(),
            close_kind=CloseKind.DIRECT,
            close_reason=reason,
        )
    return case


def case_ask_leader(*, case: Case, actor: User, expected_version: int | None, opinion: str) -> Case:
    opinion = _require_text("opinion", opinion, "呈批意见")
    with transaction.atomic():
        _transition(case, Action.ASK_LEADER, actor=actor, expected_version=expected_version, opinion=opinion)
    return case


def case_leader_instruct(*, case: Case, actor: User, expected_version: int | None, instruction: str) -> Case:
    instruction = _require_text("instruction", instruction, "批示内容")
    with transaction.atomic():
        _transition(
            case,
            Action.LEADER_INSTRUCT,
            actor=actor,
            expected_version=expected_version,
            opinion=instruction,
            leader_instruction=instruction,
        )
    return case


@dataclass(frozen=True)
class Target:
    unit: Unit
    role: str


def default_main_unit(case: Case) -> tuple[Unit | None, str]:
    """DSP-3: vertically managed bureau → that bureau; otherwise the district of the incident location."""
    if case.bureau_id and case.bureau and case.bureau.is_vertical and case.bureau.is_active:
        return case.bureau, f"{case.bureau.name}为垂直管理部门，由其承办"
    if case.district_id and case.district and case.district.is_active:
        return case.district, f"事发地属{case.district.name}，由属地承办"
    if case.bureau_id and case.bureau and case.bureau.is_active:
        return case.bureau, f"未确定事发区县，由职能局{case.bureau.name}承办"
    return None, "未能确定默认承办单位，请手工选择"


def _validate_targets(targets: Sequence[Target], *, allowed: Any = None, field: str = "targets") -> None:
    """Exactly one main unit, active units, no unit twice; `allowed(unit)` restricts where work may go."""
    mains = [t for t in targets if t.role == AssignmentRole.MAIN]
    if len(mains) != 1:
        raise _fail(field, "必须且只能指定一个主办单位" if mains else "请指定主办单位")
    _validate_extra_targets(targets, allowed=allowed, field=field)


def _validate_extra_targets(
    targets: Sequence[Target], *, allowed: Any = None, field: str = "targets"
) -> None:
    seen: set[int] = set()
    for target in targets:
        if target.role not in AssignmentRole.values:
            raise _fail(field, "单位角色无效")
        if not target.unit.is_active:
            raise _fail(field, f"{target.unit.name}已撤销，不能交办")
        if target.unit.kind == UnitKind.OFFICE:
            raise _fail(field, "不能交办给热线办")
        if target.unit.pk in seen:
            raise _fail(field, f"{target.unit.name}重复选择")
        if allowed is not None and not allowed(target.unit):
            raise _fail(field, f"不能交办给{target.unit.name}")
        seen.add(target.unit.pk)


def _create_assignments(
    case: Case,
    targets: Iterable[Target],
    *,
    actor: User,
    opinion: str,
    parent: Assignment | None,
    round_no: int,
    due_at: dt.datetime | None,
) -> list[Assignment]:
    now = clock.now()
    level = parent.level + 1 if parent else 1
    rows = [
        Assignment(
            case=case,
            unit=t.unit,
            parent=parent,
            role=t.role,
            round=round_no,
            level=level,
            opinion=opinion,
            assigned_by=actor,
            assigned_at=now,
            status=AssignmentStatus.INFORMED if t.role == AssignmentRole.CC else AssignmentStatus.PENDING,
        )
        for t in targets
    ]
    for row in rows:
        row.save()
        if row.role != AssignmentRole.CC:
            _start_unit_clocks(row, due_at=due_at)
    return rows


def _with_superior_cc(targets: Sequence[Target]) -> list[Target]:
    """DSP-2: the main unit's superior is copied automatically."""
    main = next(t for t in targets if t.role == AssignmentRole.MAIN)
    result = list(targets)
    superior = main.unit.parent
    if superior is not None and superior.is_active and all(t.unit.pk != superior.pk for t in targets):
        result.append(Target(superior, AssignmentRole.CC))
    return result


def _describe(targets: Sequence[Target]) -> dict[str, Any]:
    return {"units": [{"unit": t.unit.pk, "name": t.unit.name, "role": t.role} for t in targets]}


def _cancel_open_assignments(case: Case) -> None:
    Assignment.objects.filter(
        case=case, status__in=[*OPEN_ASSIGNMENT_STATUSES, AssignmentStatus.INFORMED]
    ).update(status=AssignmentStatus.CANCELLED, finished_at=clock.now())
    sla.clock_stop_assignments(case=case)


def _dispatch(
    case: Case,
    action: str,
    *,
    actor: User,
    expected_version: int | None,
    targets: Sequence[Target],
    opinion: str,
    due_at: dt.datetime | None,
) -> Case:
    _validate_targets(targets)
    targets = _with_superior_cc(targets)
    now = clock.now()
    if due_at is not None and due_at <= now:
        raise _fail("due_at", "办理时限不能早于当前时间")
    main = next(t for t in targets if t.role == AssignmentRole.MAIN)
    with transaction.atomic():
        _cancel_open_assignments(case)
        round_no = case.dispatch_round + 1
        event = _transition(
            case,
            action,
            actor=actor,
            expected_version=expected_version,
            opinion=opinion,
            data=_describe(targets),
            main_unit=main.unit,
            dispatch_round=round_no,
            dispatched_at=now,
        )
        rows = _create_assignments(
            case, targets, actor=actor, opinion=opinion, parent=None, round_no=round_no, due_at=due_at
        )
        case.due_at = rows[0].due_at  # the main unit's reply deadline is the case's
        Case.objects.filter(pk=case.pk).update(due_at=case.due_at)
        event.assignment = rows[0]
        event.save(update_fields=["assignment"])
    return case


def case_dispatch(
    *,
    case: Case,
    actor: User,
    expected_version: int | None,
    targets: Sequence[Target],
    opinion: str = "",
    due_at: dt.datetime | None = None,
) -> Case:
    return _dispatch(
        case,
        Action.DISPATCH,
        actor=actor,
        expected_version=expected_version,
        targets=targets,
        opinion=opinion,
        due_at=due_at,
    )


def case_reassign(
    *,
    case: Case,
    actor: User,
    expected_version: int | None,
    targets: Sequence[Target],
    opinion: str,
    due_at: dt.datetime | None = None,
) -> Case:
    opinion = _require_text("opinion", opinion, "改派理由")
    return _dispatch(
        case,
        Action.REASSIGN,
        actor=actor,
        expected_version=expected_version,
        targets=targets,
        opinion=opinion,
        due_at=due_at,
    )


# --------------------------------------------------------------------------- units (HND)


def _unit_action(
    assignment: Assignment,
    action: str,
    *,
    actor: User,
    expected_version: int | None,
    to_status: str | None = None,
    opinion: str = "",
    data: dict[str, Any] | None = None,
    **updates: Any,
) -> CaseEvent:
    _require_own(assignment, actor)
    return _transition(
        assignment.case,
        action,
        actor=actor,
        expected_version=expected_version,
        to_status=to_status,
        assignment=assignment,
        opinion=opinion,
        data=data,
        **updates,
    )


def _is_top_main(assignment: Assignment) -> bool:
    return assignment.parent_id is None and assignment.role == AssignmentRole.MAIN


def assignment_sign_for(*, assignment: Assignment, actor: User, expected_version: int | None) -> Assignment:
    assignment = _reload(assignment)
    _require_own(assignment, actor)
    _require_status(assignment, AssignmentStatus.PENDING, doing="签收")
    case = assignment.case
    to_status = (
        CaseStatus.HANDLING if _is_top_main(assignment) and case.status == CaseStatus.DISPATCHED else None
    )
    with transaction.atomic():
        _unit_action(
            assignment, Action.SIGN_FOR, actor=actor, expected_version=expected_version, to_status=to_status
        )
        assignment.status = AssignmentStatus.HANDLING
        assignment.signed_at = clock.now()
        assignment.signed_by = actor
        assignment.save(update_fields=["status", "signed_at", "signed_by"])
        sla.clock_stop(assignment=assignment, stages=[Stage.SIGN_FOR])
        sla.clock_start(case=assignment.case, assignment=assignment, stage=Stage.HANDLING)
    return assignment


def assignment_record_handling(
    *,
    assignment: Assignment,
    actor: User,
    expected_version: int | None,
    result: str,
    cause: str = "",
    solution: str = "",
    promised_at: dt.datetime | None = None,
) -> HandlingRecord:
    assignment = _reload(assignment)
    _require_own(assignment, actor)
    _require_status(assignment, AssignmentStatus.HANDLING, doing="填写办理记录（请先签收）")
    result = _require_text("result", result, "办理情况")
    if promised_at is not None and promised_at <= clock.now():
        raise _fail("promised_at", "承诺办结时间应晚于当前时间")
    with transaction.atomic():
        _unit_action(
            assignment,
            Action.RECORD_HANDLING,
            actor=actor,
            expected_version=expected_version,
            opinion=result,
            data={"cause": cause, "solution": solution},
        )
        record = HandlingRecord.objects.create(
            assignment=assignment,
            actor=actor,
            cause=cause.strip(),
            solution=solution.strip(),
            result=result,
            promised_at=promised_at,
            created_at=clock.now(),
        )
        if promised_at is not None:
            assignment.promised_at = promised_at
            assignment.save(update_fields=["promised_at"])
    return record


FORWARDING_KINDS = {
    UnitKind.DISTRICT: {UnitKind.STREET, UnitKind.BUREAU},
    UnitKind.STREET: {UnitKind.COMMUNITY},
}


def assignment_forward(
    *,
    assignment: Assignment,
    actor: User,
    expected_version: int | None,
    targets: Sequence[Target],
    opinion: str = "",
) -> list[Assignment]:
    """HND-2/3: a district forwards to its streets or district bureaus, a street to its communities."""
    assignment = _reload(assignment)
    _require_own(assignment, actor)
    unit = assignment.unit
    child_kinds = FORWARDING_KINDS.get(unit.kind)  # type: ignore[call-overload]
    if not child_kinds:
        raise ServiceError(f"{unit.get_kind_display()}不能向下派单", code="cannot_forward")
    if assignment.role == AssignmentRole.CC:
        raise ServiceError("抄送单位不能下派", code="cannot_forward")
    _require_status(assignment, AssignmentStatus.HANDLING, doing="下派（请先签收）")
    _validate_targets(targets, allowed=lambda u: u.parent_id == unit.pk and u.kind in child_kinds)
    with transaction.atomic():
        _unit_action(
            assignment,
            Action.FORWARD,
            actor=actor,
            expected_version=expected_version,
            opinion=opinion,
            data=_describe(targets),
        )
        children = _create_assignments(
            assignment.case,
            targets,
            actor=actor,
            opinion=opinion,
            parent=assignment,
            round_no=assignment.round,
            due_at=assignment.due_at,
        )
        assignment.status = AssignmentStatus.FORWARDED
        assignment.save(update_fields=["status"])
    return children


def _back_to_parent(assignment: Assignment) -> None:
    parent = assignment.parent
    if (
        parent is not None
        and assignment.role == AssignmentRole.MAIN
        and parent.status == AssignmentStatus.FORWARDED
    ):
        parent.status = AssignmentStatus.HANDLING
        parent.save(update_fields=["status"])
        # Any sub-units the parent also sent (assisting under the same forward) stop with their main.
        Assignment.objects.filter(parent=parent, status__in=OPEN_ASSIGNMENT_STATUSES).exclude(
            pk=assignment.pk
        ).update(status=AssignmentStatus.CANCELLED, finished_at=clock.now())


def assignment_send_back(
    *, assignment: Assignment, actor: User, expected_version: int | None, reason: str
) -> Assignment:
    """HND-3/4: a street or community sends work back up to the unit that forwarded it."""
    assignment = _reload(assignment)
    _require_own(assignment, actor)
    if assignment.parent_id is None:
        raise ServiceError("直接由热线办交办的工单请使用“退件”", code="use_return")
    _require_status(assignment, AssignmentStatus.PENDING, AssignmentStatus.HANDLING, doing="退回上级")
    reason = _require_text("reason", reason, "退回理由")
    with transaction.atomic():
        _unit_action(
            assignment, Action.SEND_BACK, actor=actor, expected_version=expected_version, opinion=reason
        )
        _finish(assignment, AssignmentStatus.SENT_BACK, result=reason)
        _back_to_parent(assignment)
    return assignment


def _open_assisting_siblings(assignment: Assignment) -> bool:
    return Assignment.objects.filter(
        case_id=assignment.case_id,
        round=assignment.round,
        parent_id=assignment.parent_id,
        role=AssignmentRole.ASSISTING,
        status__in=[AssignmentStatus.PENDING, AssignmentStatus.HANDLING, AssignmentStatus.FORWARDED],
    ).exists()


def assignment_report(
    *, assignment: Assignment, actor: User, expected_version: int | None, result: str
) -> Assignment:
    """The main unit reports once for all: to the office (top level) or to the unit that forwarded it."""
    assignment = _reload(assignment)
    _require_own(assignment, actor)
    if assignment.role != AssignmentRole.MAIN:
        raise ServiceError("只有主办单位可以办结上报，协办单位请反馈意见", code="not_main")
    _require_status(assignment, AssignmentStatus.HANDLING, doing="办结上报")
    result = _require_text("result", result, "办理结果")
    if _open_assisting_siblings(assignment):
        raise ServiceError("协办单位尚未全部反馈意见，暂不能上报", code="assisting_open")
    to_status = CaseStatus.RESULT_REVIEW if assignment.parent_id is None else None
    with transaction.atomic():
        _unit_action(
            assignment,
            Action.REPORT,
            actor=actor,
            expected_version=expected_version,
            to_status=to_status,
            opinion=result,
        )
        _finish(assignment, AssignmentStatus.REPORTED, result=result)
        _back_to_parent(assignment)
    return assignment


def assignment_return_to_office(
    *,
    assignment: Assignment,
    actor: User,
    expected_version: int | None,
    reason: DictItem | None,
    text: str,
    suggested_unit: Unit | None,
) -> ReturnRequest:
    """HND-5: the top-level main unit returns the case with a reason and a suggested unit."""
    assignment = _reload(assignment)
    _require_own(assignment, actor)
    if not _is_top_main(assignment):
        raise ServiceError("只有热线办直接交办的主办单位可以退件，下级单位请退回上级", code="use_send_back")
    _require_status(assignment, AssignmentStatus.PENDING, AssignmentStatus.HANDLING, doing="退件")
    _dict_item("reason", reason, DictKind.RETURN_REASON, required=True)
    text = _require_text("text", text, "退件说明")
    if suggested_unit is None:
        raise _fail("suggested_unit", "请填写建议承办单位")
    if not suggested_unit.is_active or suggested_unit.pk == assignment.unit_id:
        raise _fail("suggested_unit", "建议承办单位无效")
    assert reason is not None
    with transaction.atomic():
        _unit_action(
            assignment,
            Action.RETURN_TO_OFFICE,
            actor=actor,
            expected_version=expected_version,
            opinion=text,
            data={"reason": reason.name, "suggested_unit": suggested_unit.name},
        )
        assignment.status = AssignmentStatus.RETURN_PENDING
        assignment.save(update_fields=["status"])
        return ReturnRequest.objects.create(
            assignment=assignment,
            reason=reason,
            text=text,
            suggested_unit=suggested_unit,
            requested_by=actor,
            requested_at=clock.now(),
        )


def _pending_return(case: Case) -> ReturnRequest:
    request = (
        ReturnRequest.objects.select_related("assignment", "suggested_unit")
        .filter(assignment__case=case, status=RequestStatus.PENDING)
        .order_by("-requested_at")
        .first()
    )
    if request is None:
        raise ServiceError("没有待审核的退件申请", code="no_return")
    return request


def case_approve_return(
    *,
    case: Case,
    actor: User,
    expected_version: int | None,
    targets: Sequence[Target] = (),
    opinion: str = "",
) -> Case:
    """The office agrees with a return and reassigns (by default to the unit the returner suggested)."""
    request = _pending_return(case)
    targets = list(targets) or [Target(request.suggested_unit, AssignmentRole.MAIN)]
    with transaction.atomic():
        _decide(request, RequestStatus.APPROVED, actor, opinion)
        _finish(request.assignment, AssignmentStatus.RETURNED)
        _dispatch(
            case,
            Action.APPROVE_RETURN,
            actor=actor,
            expected_version=expected_version,
            targets=targets,
            opinion=opinion,
            due_at=None,
        )
    return case


def case_reject_return(*, case: Case, actor: User, expected_version: int | None, opinion: str) -> Case:
    """The office rules the return unfounded: the same unit keeps the case."""
    opinion = _require_text("opinion", opinion, "驳回理由")
    request = _pending_return(case)
    back_to = CaseStatus.REDO if case.dissatisfied_count else CaseStatus.HANDLING
    with transaction.atomic():
        _transition(
            case,
            Action.REJECT_RETURN,
            actor=actor,
            expected_version=expected_version,
            to_status=back_to,
            assignment=request.assignment,
            opinion=opinion,
        )
        _decide(request, RequestStatus.REJECTED, actor, opinion)
        _reopen(request.assignment)
    return case


def _decide(request: ReturnRequest | ExtensionRequest, status: str, actor: User, note: str) -> None:
    request.status = status
    request.decided_by = actor
    request.decided_at = clock.now()
    request.decision_note = note
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])


def assignment_request_extension(
    *,
    assignment: Assignment,
    actor: User,
    expected_version: int | None,
    requested_due_at: dt.datetime,
    reason: str,
) -> ExtensionRequest:
    assignment = _reload(assignment)
    _require_own(assignment, actor)
    _require_status(
        assignment,
        AssignmentStatus.PENDING,
        AssignmentStatus.HANDLING,
        AssignmentStatus.FORWARDED,
        doing="申请延期",
    )
    reason = _require_text("reason", reason, "延期理由")
    sla.validate_extension(assignment=assignment, new_due=requested_due_at)
    if assignment.due_at and requested_due_at <= assignment.due_at:
        raise _fail("requested_due_at", "延期后的时限应晚于现有时限")
    if assignment.extension_requests.filter(status=RequestStatus.PENDING).exists():
        raise ServiceError("已有待审核的延期申请", code="extension_pending")
    with transaction.atomic():
        _unit_action(
            assignment,
            Action.REQUEST_EXTENSION,
            actor=actor,
            expected_version=expected_version,
            opinion=reason,
            data={"requested_due_at": requested_due_at.isoformat()},
        )
        return ExtensionRequest.objects.create(
            assignment=assignment,
            requested_due_at=requested_due_at,
            previous_due_at=assignment.due_at,
            reason=reason,
            requested_by=actor,
            requested_at=clock.now(),
        )


def extension_decide(
    *, request: ExtensionRequest, actor: User, expected_version: int | None, approve: bool, note: str = ""
) -> ExtensionRequest:
    request = ExtensionRequest.objects.select_related("assignment__case").get(pk=request.pk)
    if request.status != RequestStatus.PENDING:
        raise ServiceError("该延期申请已审核", code="already_decided")
    if not approve:
        note = _require_text("note", note, "驳回理由")
    elif request.requested_due_at <= clock.now():
        raise ServiceError("申请的时限已过，不能同意，请驳回后由单位重新申请", code="expired")
    else:
        sla.validate_extension(assignment=request.assignment, new_due=request.requested_due_at)
    assignment = request.assignment
    case = assignment.case
    with transaction.atomic():
        updates: dict[str, Any] = {}
        if approve and _is_top_main(assignment):
            updates["due_at"] = request.requested_due_at
        _transition(
            case,
            Action.DECIDE_EXTENSION,
            actor=actor,
            expected_version=expected_version,
            assignment=assignment,
            opinion=note,
            data={"approved": approve},
            **updates,
        )
        _decide(request, RequestStatus.APPROVED if approve else RequestStatus.REJECTED, actor, note)
        if approve:
            # The unit's own deadline and those of the sub-units working for it move together.
            moved = [
                assignment,
                *Assignment.objects.filter(
                    parent=assignment,
                    status__in=OPEN_ASSIGNMENT_STATUSES,
                    due_at__lt=request.requested_due_at,
                ),
            ]
            for row in moved:
                new_clock = sla.clock_extend(
                    assignment=row, stage=Stage.REPLY, new_due=request.requested_due_at
                )
                Assignment.objects.filter(pk=row.pk).update(
                    due_at=request.requested_due_at, warn_at=new_clock.warn_at if new_clock else None
                )
    return request


def assignment_give_opinion(
    *, assignment: Assignment, actor: User, expected_version: int | None, opinion: str
) -> Assignment:
    """HND-6: an assisting unit gives its opinion to the main unit."""
    assignment = _reload(assignment)
    _require_own(assignment, actor)
    if assignment.role != AssignmentRole.ASSISTING:
        raise ServiceError("只有协办单位需要反馈意见", code="not_assisting")
    _require_status(assignment, AssignmentStatus.HANDLING, doing="反馈意见（请先签收）")
    opinion = _require_text("opinion", opinion, "协办意见")
    with transaction.atomic():
        _unit_action(
            assignment, Action.GIVE_OPINION, actor=actor, expected_version=expected_version, opinion=opinion
        )
        _finish(assignment, AssignmentStatus.OPINION_GIVEN, result=opinion)
    return assignment


def _main_sibling(assignment: Assignment) -> Assignment | None:
    return Assignment.objects.filter(
        case_id=assignment.case_id,
        round=assignment.round,
        parent_id=assignment.parent_id,
        role=AssignmentRole.MAIN,
    ).first()


def assignment_return_opinion(
    *, assignment: Assignment, actor: User, expected_version: int | None, reason: str
) -> Assignment:
    """HND-6: the main unit sends an assisting unit's opinion back to be redone."""
    assignment = _reload(assignment)
    main = _main_sibling(assignment)
    if assignment.role != AssignmentRole.ASSISTING or main is None:
        raise ServiceError("只能发回协办单位的意见", code="not_assisting")
    _require_own(main, actor)
    _require_status(main, AssignmentStatus.HANDLING, doing="发回协办意见")
    _require_status(assignment, AssignmentStatus.OPINION_GIVEN, doing="发回（尚未反馈意见）")
    reason = _require_text("reason", reason, "发回理由")
    with transaction.atomic():
        _transition(
            main.case,
            Action.RETURN_OPINION,
            actor=actor,
            expected_version=expected_version,
            assignment=assignment,
            opinion=reason,
        )
        _reopen(assignment)
    return assignment


def assignment_add_assisting(
    *,
    assignment: Assignment,
    actor: User,
    expected_version: int | None,
    targets: Sequence[Target],
    opinion: str = "",
) -> list[Assignment]:
    """HND-6: an assisting unit brings in further assisting or cc units; the main unit collects them too."""
    assignment = _reload(assignment)
    _require_own(assignment, actor)
    if assignment.role != AssignmentRole.ASSISTING:
        raise ServiceError("只有协办单位可以增加协办单位", code="not_assisting")
    _require_status(assignment, AssignmentStatus.HANDLING, doing="增加协办单位（请先签收）")
    if not targets or any(t.role == AssignmentRole.MAIN for t in targets):
        raise _fail("targets", "只能增加协办或抄送单位")
    taken = set(
        Assignment.objects.filter(
            case_id=assignment.case_id, round=assignment.round, parent_id=assignment.parent_id
        ).values_list("unit_id", flat=True)
    )
    _validate_extra_targets(targets, allowed=lambda u: u.pk not in taken)
    with transaction.atomic():
        _unit_action(
            assignment,
            Action.ADD_ASSISTING,
            actor=actor,
            expected_version=expected_version,
            opinion=opinion,
            data=_describe(targets),
        )
        return _create_assignments(
            assignment.case,
            targets,
            actor=actor,
            opinion=opinion,
            parent=assignment.parent,
            round_no=assignment.round,
            due_at=assignment.due_at,
        )


# --------------------------------------------------------------------------- result review, callback (CLS)


def _top_main(case: Case) -> Assignment:
    assignment = (
        Assignment.objects.filter(
            case=case, round=case.dispatch_round, parent__isnull=True, role=AssignmentRole.MAIN
        )
        .select_related("unit")
        .first()
    )
    if assignment is None:
        raise ServiceError("该工单没有主办单位", code="no_main")
    return assignment


def _reopen_main_for_redo(case: Case) -> Assignment:
    """The main unit works on the case again, with a fresh deadline from now."""
    main = _top_main(case)
    sla.clock_stop(assignment=main)
    _reopen(main, fresh_deadline=True)
    return main


def case_review_accept(*, case: Case, actor: User, expected_version: int | None, opinion: str = "") -> Case:
    with transaction.atomic():
        _transition(
            case, Action.REVIEW_ACCEPT, actor=actor, expected_version=expected_version, opinion=opinion
        )
    return case


def case_review_reject(*, case: Case, actor: User, expected_version: int | None, opinion: str) -> Case:
    """The office finds the result insufficient: the main unit handles it again."""
    opinion = _require_text("opinion", opinion, "退回理由")
    back_to = CaseStatus.REDO if case.dissatisfied_count else CaseStatus.HANDLING
    with transaction.atomic():
        main = _reopen_main_for_redo(case)
        _transition(
            case,
            Action.REVIEW_REJECT,
            actor=actor,
            expected_version=expected_version,
            to_status=back_to,
            assignment=main,
            opinion=opinion,
            due_at=main.due_at,
        )
    return case


def case_callback(
    *,
    case: Case,
    actor: User,
    expected_version: int | None,
    rating: str,
    method: str,
    citizen_words: str = "",
) -> Callback:
    """CLS-2/3: satisfied closes; the first dissatisfaction is redone; the second goes to special supervision."""
    from .models import CallbackMethod, Rating

    if rating not in Rating.values:
        raise _fail("rating", "满意度评价无效")
    if method not in CallbackMethod.values:
        raise _fail("method", "回访方式无效")
    now = clock.now()
    with transaction.atomic():
        updates: dict[str, Any] = {"last_rating": rating}
        main: Assignment | None = None
        if rating in SATISFIED_RATINGS:
            to_status = CaseStatus.CLOSED
            updates.update(closed_at=now, close_kind=CloseKind.SATISFIED)
        else:
            updates["dissatisfied_count"] = case.dissatisfied_count + 1
            if updates["dissatisfied_count"] == 1:
                to_status = CaseStatus.REDO
                main = _reopen_main_for_redo(case)
                updates["due_at"] = main.due_at
            else:
                to_status = CaseStatus.SPECIAL_SUPERVISION
        _transition(
            case,
            Action.CALLBACK,
            actor=actor,
            expected_version=expected_version,
            to_status=to_status,
            assignment=main,
            opinion=citizen_words,
            data={"rating": rating, "method": method},
            **updates,
        )
        return Callback.objects.create(
            case=case,
            actor=actor,
            method=method,
            rating=rating,
            citizen_words=citizen_words.strip(),
            created_at=now,
        )


def case_supervision_opinion(*, case: Case, actor: User, expected_version: int | None, opinion: str) -> Case:
    """Special supervision: the main unit's leader must give an opinion before the unit redoes the case."""
    main = _top_main(case)
    if actor.unit_id != main.unit_id:
        raise NotAllowed("只有主办单位领导可以填写特别督办意见")
    opinion = _require_text("opinion", opinion, "领导意见")
    with transaction.atomic():
        main = _reopen_main_for_redo(case)
        _transition(
            case,
            Action.SUPERVISION_OPINION,
            actor=actor,
            expected_version=expected_version,
            assignment=main,
            opinion=opinion,
            due_at=main.due_at,
        )
    return case


def case_office_close(*, case: Case, actor: User, expected_version: int | None, reason: str) -> Case:
    reason = _require_text("reason", reason, "办结理由")
    with transaction.atomic():
        _transition(
            case,
            Action.OFFICE_CLOSE,
            actor=actor,
            expected_version=expected_version,
            opinion=reason,
            closed_at=clock.now(),
            close_kind=CloseKind.OFFICE,
            close_reason=reason,
        )
        _cancel_open_assignments(case)
    return case


def case_set_close_marks(
    *,
    case: Case,
    actor: User,
    expected_version: int | None,
    is_public: bool,
    push_hot: bool,
    is_typical: bool,
) -> tuple[Case, str | None]:
    """CLS-4. A case made non-public gets a query password if it has none (returned once)."""
    password = None
    updates: dict[str, Any] = {"is_public": is_public, "push_hot": push_hot, "is_typical": is_typical}
    if not is_public and not case.query_password:
        password = new_query_password()
        updates["query_password"] = crypto.hash_code(password)
    with transaction.atomic():
        _transition(
            case,
            Action.SET_CLOSE_MARKS,
            actor=actor,
            expected_version=expected_version,
            data={"is_public": is_public, "push_hot": push_hot, "is_typical": is_typical},
            **updates,
        )
    return case, password


def case_set_violation(
    *, case: Case, actor: User, expected_version: int | None, is_perfunctory: bool, is_wrong: bool, note: str
) -> Case:
    """QRY-3: perfunctory and wrong handling are judged by people, with a reason."""
    if (is_perfunctory or is_wrong) and not note.strip():
        raise _fail("note", "请填写违规说明")
    with transaction.atomic():
        _transition(
            case,
            Action.SET_VIOLATION,
            actor=actor,
            expected_version=expected_version,
            opinion=note,
            data={"is_perfunctory": is_perfunctory, "is_wrong": is_wrong},
            is_perfunctory=is_perfunctory,
            is_wrong=is_wrong,
            violation_note=note.strip()[:200],
        )
    return case


def case_reset_query_password(*, case: Case, actor: User, expected_version: int | None) -> str:
    """INT-6: a new query password for a non-public case, to be given to the citizen through their contact."""
    if case.is_public:
        raise ServiceError("公开工单无需查询密码", code="public_case")
    password = new_query_password()
    with transaction.atomic():
        _transition(
            case,
            Action.RESET_PASSWORD,
            actor=actor,
            expected_version=expected_version,
            query_password=crypto.hash_code(password),
        )
    return password


def case_record_view(*, case: Case, actor: User) -> None:
    """ORG-3: opening a case shows the citizen's personal data, so the view is audited."""
    audit_record(actor=actor, action="view", obj=case, summary=f"查看工单 {case.number}")


def case_urge(
    *,
    case: Case,
    actor: User,
    expected_version: int | None,
    message: str,
    assignment: Assignment | None = None,
) -> Case:
    """催办: the office presses the unit(s) at work on the case; recorded on the timeline and notified."""
    from hotline.notify.services import notify_users
    from hotline.orgs.models import Role
    from hotline.sla.models import Urge

    message = _require_text("message", message, "催办内容")
    targets = (
        [assignment]
        if assignment is not None
        else list(
            Assignment.objects.filter(case=case, status__in=OPEN_ASSIGNMENT_STATUSES).exclude(
                role=AssignmentRole.CC
            )
        )
    )
    if not targets:
        raise ServiceError("没有正在办理的单位可以催办", code="nothing_to_urge")
    with transaction.atomic():
        _transition(
            case,
            Action.URGE,
            actor=actor,
            expected_version=expected_version,
            opinion=message,
            assignment=targets[0],
            data={"units": [a.unit.name for a in targets]},
        )
        for target in targets:
            Urge.objects.create(
                case=case, assignment=target, actor=actor, message=message, created_at=clock.now()
            )
            users = User.objects.filter(
                unit_id=target.unit_id, is_active=True, roles__role__in=[Role.UNIT_HANDLER, Role.UNIT_LEADER]
            ).distinct()
            notify_users(
                users=users,
                template="case_urged",
                channels=["in_app", "sms"],
                link=f"/cases/{case.pk}/",
                context={"number": case.number, "title": case.title, "message": message},
            )
    return case
