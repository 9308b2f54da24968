"""Intake: the intake contract, drafts, submission, answer-and-archive, not-accepted proposals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from hotline.citizens.services import CitizenInput, CleanCitizen, citizen_clean, citizen_upsert_from_intake
from hotline.common import clock, crypto
from hotline.common.audit import audit_together
from hotline.common.errors import ServiceError
from hotline.common.fastinsert import fast_insert
from hotline.common.models import DictItem, DictKind
from hotline.common.validators import normalize_phone, validate_max_length
from hotline.orgs.models import Unit, UnitKind, User
from hotline.orgs.selectors import unit_district

from .. import flowhooks, lifecycle
from ..intake_fields import INTAKE_FIELD_NAMES, STRUCTURED_FIELDS, TEXT_FIELDS
from ..lifecycle import Action
from ..models import (
    Case,
    CaseAttachment,
    CaseStatus,
    Channel,
    CloseKind,
    ExtendedField,
    ExtendedFieldType,
)
from .core import (
    EXTENDED_FIELDS,
    INTAKE_ACTIONS,
    MIN_STAFF_CONTENT_LENGTH,
    STAFF_CHANNELS,
    _bump,
    _dict_item,
    _event,
    _events_together,
    _fail,
    _require_text,
    _seen_as,
    _transition,
    _transition_inserted,
    new_query_password,
    next_case_number,
)

# --------------------------------------------------------------------------- intake (INT)


@dataclass
class CaseInput:
    """The intake contract: what every channel (the intake screen, the API, a citizen channel, a call) produces
    for a new request, validated here by `_validate_input`. Its scalar fields are described once in
    `intake_fields.INTAKE_FIELDS`, from which the intake form and the API serializer are built. Unknown extended
    fields are refused."""

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


if set(CaseInput.__dataclass_fields__) != {*INTAKE_FIELD_NAMES, *STRUCTURED_FIELDS}:  # pragma: no cover
    raise ImportError("intake_fields.INTAKE_FIELDS must list every scalar field of CaseInput")


def _validate_extra(data: CaseInput) -> dict[str, Any]:
    bureau_id = data.bureau.pk if data.bureau else None

    def applicable() -> list[ExtendedField]:
        return [
            d
            for d in EXTENDED_FIELDS.all()
            if d.is_active
            and d.bureau_id in (None, bureau_id)
            and d.case_type_id in (None, data.case_type.pk if data.case_type else None)
        ]

    definitions = applicable()
    extra = dict(data.extra or {})
    if set(extra) - {d.key for d in definitions}:
        # A field an administrator defined a moment ago in another process: read the table again before
        # refusing it (this process's copy refreshes on its own only every minute).
        EXTENDED_FIELDS._invalidate()
        definitions = applicable()
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
        raise ServiceError(_("扩展字段填写有误"), field_errors=errors)
    return extra


# The citizen profile's rules (citizens.services.citizen_clean) under the intake's field names.
_CITIZEN_FIELDS = {
    "name": "citizen_name",
    "phones": "citizen_phone",
    "gender": "citizen_gender",
    "email": "citizen_email",
    "address": "citizen_address",
    "work_unit": "citizen_work_unit",
    "post_code": "citizen_post_code",
    "id_card": "citizen_id_card",
}


def _clean_citizen(data: CaseInput, errors: dict[str, list[str]]) -> CleanCitizen | None:
    """What the caller said about themselves, through the citizens package's own rules and normalisation."""
    try:
        return citizen_clean(
            CitizenInput(
                name=data.citizen_name or "",
                phones=[data.citizen_phone] if data.citizen_phone else [],
                gender=data.citizen_gender or "",
                email=data.citizen_email or "",
                address=data.citizen_address or "",
                work_unit=data.citizen_work_unit or "",
                post_code=data.citizen_post_code or "",
                id_card=data.citizen_id_card or "",
            ),
            require_name=False,
        )
    except ServiceError as exc:
        for key, messages in exc.field_errors.items():
            errors.setdefault(_CITIZEN_FIELDS.get(key, key), []).extend(messages)
        return None


def _validate_input(data: CaseInput, *, complete: bool) -> dict[str, Any]:
    """Return the normalised case fields, or raise with every field error at once.

    The one place the intake contract is checked: the intake screen, the API and the citizen channels send
    `CaseInput` here (see intake_fields.py), so they refuse the same input with the same field errors."""
    errors: dict[str, list[str]] = {}

    def check(field: str, fn: Any) -> None:
        try:
            fn()
        except ServiceError as exc:
            errors.update(exc.field_errors or {field: [exc.message]})
        except ValidationError as exc:
            errors[field] = [str(m) for m in exc.messages]

    citizen = _clean_citizen(data, errors)
    for spec in TEXT_FIELDS:
        if spec.name not in errors:
            try:
                validate_max_length((getattr(data, spec.name) or "").strip(), spec.max_length)
            except ValidationError as exc:
                errors[spec.name] = [str(m) for m in exc.messages]
    phone = citizen.values["phone"] if citizen else normalize_phone(data.citizen_phone)
    if not phone and complete and not (data.citizen_email or "").strip():
        errors["citizen_phone"] = ["请填写联系电话或电子邮箱，以便回复和回访"]
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
    if errors or citizen is None:
        raise ServiceError(_("输入有误"), field_errors=errors)
    district = unit_district(data.location_unit) if data.location_unit else None
    return {
        "channel": data.channel,
        "origin": data.origin or {},
        "citizen_name": citizen.values["name"],
        "citizen_gender": citizen.values["gender"],
        "citizen_phone": phone,
        "citizen_email": citizen.values["email"],
        "citizen_address": citizen.values["address"],
        "citizen_work_unit": citizen.values["work_unit"],
        "citizen_post_code": citizen.values["post_code"],
        "citizen_notes": (data.citizen_notes or "").strip(),
        "case_type": data.case_type,
        "nature": data.nature,
        "urgency": data.urgency,
        "secrecy": data.secrecy,
        "bureau": data.bureau,
        "location": (data.location or "").strip(),
        "location_unit": data.location_unit,
        "district": district,
        "title": (data.title or "").strip() or content[:30],
        "content": content,
        "keywords": (data.keywords or "").strip(),
        "is_typical_recording": data.is_typical_recording,
        "is_public": data.is_public,
        "extra": extra,
    }


MAX_ATTACHMENTS = 20


def checked_uploads(files: Sequence[UploadedFile], *, images_only: bool = False) -> list[Any]:
    """The file kind of each upload, refusing the whole set if one is too large or not on the allow-list (checked
    by content, common.filetypes); `images_only` for channels that take photos only."""
    from hotline.common import filetypes

    limit = settings.HOTLINE_MAX_ATTACHMENT_BYTES
    kinds = []
    for upload in files:
        if upload.size is None or upload.size > limit:
            raise _fail(
                "attachments",
                _("附件“%(name)s”超过大小限制（%(mb)d MB）")
                % {"name": upload.name, "mb": limit // (1024 * 1024)},
            )
        kind = filetypes.check(upload, upload.name or "")
        if kind is None or (images_only and not kind.content_type.startswith("image/")):
            raise _fail(
                "attachments",
                _("附件“%(name)s”的类型不允许：只接受图片、PDF、Office 文档、音频和纯文本（按文件内容检查）")
                % {"name": upload.name}
                if not images_only
                else _("文件“%(name)s”的类型不允许：只接受图片（按文件内容检查）") % {"name": upload.name},
            )
        kinds.append(kind)
    return kinds


def store_uploads(
    case: Case, files: Sequence[UploadedFile], kinds: Sequence[Any], uploaded_by: User | None
) -> list[CaseAttachment]:
    """Store checked uploads privately (common.storage) as the case's attachments."""
    now = clock.now()
    return [
        CaseAttachment.objects.create(
            case=case,
            file=upload,
            name=(upload.name or "附件")[:200],
            size=upload.size or 0,
            content_type=kind.content_type,
            uploaded_by=uploaded_by,
            uploaded_at=now,
        )
        for upload, kind in zip(files, kinds, strict=True)
    ]


def _save_attachments(case: Case, files: Sequence[UploadedFile], actor: User) -> None:
    if len(files) > MAX_ATTACHMENTS:
        raise _fail("attachments", _("一次最多上传%(n)d个附件") % {"n": MAX_ATTACHMENTS})
    store_uploads(case, files, checked_uploads(files), actor)


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
        raise _fail("action", _("受理操作无效"))
    if sms_template:
        _check_citizen_sms(sms_template, data, action)
    lifecycle.check(action, case=None, user=actor)
    fields = _validate_input(data, complete=action != Action.SAVE_DRAFT)
    closing = _closing_fields(action, answer, not_accepted_reason, not_accepted_text)
    password = None if data.is_public else new_query_password()
    with transaction.atomic(), audit_together():  # the citizen's audit row goes with the case's
        now = clock.now()
        citizen = intake_citizen(fields=fields, id_card=data.citizen_id_card, actor=actor)
        # The agent's action is in the inserted row (one insert instead of a draft's insert and an update that
        # wrote every index of the case table twice); the lifecycle judges it on the case seen as the draft it
        # was, and the timeline and audit rows are those of a draft created and then moved on.
        taken = None if action == Action.SAVE_DRAFT else (action, _intake_updates(action, closing))
        case, draft = new_case(
            fields=fields, citizen=citizen, intake_by=actor, password=password, now=now, taken=taken
        )
        _save_attachments(case, attachments, actor)
        with (
            _events_together()
        ):  # the create and the agent's action: their events and audit rows in 2 inserts
            if draft is None:
                _event(case, actor=actor, action=Action.CREATE, from_status="")
            else:
                with _seen_as(case, draft):
                    _event(case, actor=actor, action=Action.CREATE, from_status="")
                _transition_inserted(case, action, actor=actor, before=draft, opinion=_opinion(closing))
            if sms_template:
                _sms_citizen(case, sms_template, password=password)
    return IntakeResult(case=case, query_password=password)


def intake_citizen(*, fields: dict[str, Any], id_card: str, actor: User | None) -> Any:
    """The caller's citizen profile, found by number (or created) and completed from what they said: the same
    for an agent's intake and a citizen's own request. `fields` are `_validate_input`'s (already through
    `citizen_clean`); the citizens service cleans them again before writing."""
    if not (fields["citizen_phone"] or id_card):
        return None
    return citizen_upsert_from_intake(
        phone=fields["citizen_phone"],
        actor=actor,
        id_card=id_card,
        name=fields["citizen_name"],
        gender=fields["citizen_gender"],
        email=fields["citizen_email"],
        address=fields["citizen_address"],
        work_unit=fields["citizen_work_unit"],
        post_code=fields["citizen_post_code"],
    )


def new_draft(
    *, fields: dict[str, Any], citizen: Any, intake_by: User | None, password: str | None, now: dt.datetime
) -> Case:
    """The new case row, a draft numbered for its day (China time), with the query password hashed, pinned to
    its flow template version."""
    case, _draft = new_case(fields=fields, citizen=citizen, intake_by=intake_by, password=password, now=now)
    return case


def new_case(
    *,
    fields: dict[str, Any],
    citizen: Any,
    intake_by: User | None,
    password: str | None,
    now: dt.datetime,
    taken: tuple[str, dict[str, Any]] | None = None,
) -> tuple[Case, dict[str, Any] | None]:
    """`new_draft`, or with `taken` (an intake action and the fields it sets) the row inserted as that action
    leaves the draft: its target status, the action's fields, the version after one transition. Returns the case
    and what those fields held in the draft (None without `taken`), for `_transition_inserted`, which must follow
    in the transaction."""
    case = Case(
        number=next_case_number(now.astimezone(dt.timezone(dt.timedelta(hours=8))).date()),
        status=CaseStatus.DRAFT,
        citizen=citizen,
        intake_by=intake_by,
        created_at=now,
        query_password=crypto.hash_code(password) if password else "",
        **fields,
    )
    draft = None
    if taken is not None:
        action, updates = taken
        moved = {"status": lifecycle.TRANSITIONS[action].target, "version": case.version + 1, **updates}
        draft = {name: getattr(case, name) for name in moved}
        for name, value in moved.items():
            setattr(case, name, value)
    fast_insert(case)  # case.save(force_insert=True), its 52-column INSERT compiled once per process
    flowhooks.pin(case)  # the flow template version the case keeps to its end (FLW-3)
    return case, draft


def _check_citizen_sms(template: str, data: CaseInput, action: str) -> None:
    from hotline.common.validators import MOBILE_RE
    from hotline.notify.services import citizen_templates

    if template not in {t.code for t in citizen_templates()}:
        raise _fail("sms_template", _("短信模板无效"))
    if action == Action.SAVE_DRAFT:
        raise _fail("sms_template", _("暂存的工单不发送短信"))
    if not MOBILE_RE.match(normalize_phone(data.citizen_phone)):
        raise _fail("sms_template", _("来电人没有手机号码，无法发送短信"))


def _sms_citizen(case: Case, template: str, *, password: str | None) -> None:
    context = {
        "number": case.number,
        "password": password or "（公开工单无需密码）",
        "title": case.title,
        "answer": case.answer,
    }
    queue_citizen_sms(
        case,
        address=case.citizen_phone,
        template=template,
        context=context,
        secrets=("password",) if password else (),
    )


def queue_citizen_sms(
    case: Case,
    *,
    address: str,
    template: str,
    context: dict[str, Any],
    data: dict[str, Any] | None = None,
    secrets: tuple[str, ...] = (),
) -> None:
    """An SMS to a citizen about `case`, queued in the caller's transaction, its text on the case's timeline.

    Raises notify's TemplateMissing (before writing anything) when the template is missing or switched off.
    `secrets` (the query password) reach the citizen only: the outbox body and the timeline show ******."""
    from hotline.notify.services import build_address_message, queue_messages

    message = build_address_message(
        channel="sms", address=address, template=template, context=context, secrets=secrets
    )
    queue_messages([message])
    _event(
        case, actor=None, action=Action.SMS_CITIZEN, from_status=case.status, opinion=message.body, data=data
    )


def _closing_fields(action: str, answer: str, reason: DictItem | None, text: str) -> dict[str, Any]:
    if action == Action.ARCHIVE:
        return {"answer": _require_text("answer", answer, _("答复内容"))}
    if action == Action.PROPOSE_NOT_ACCEPTED:
        _dict_item("not_accepted_reason", reason, DictKind.NOT_ACCEPTED_REASON, required=True)
        return {"not_accepted_reason": reason, "not_accepted_text": (text or "").strip()}
    return {}


def _intake_updates(action: str, closing: dict[str, Any]) -> dict[str, Any]:
    """The case fields an intake action sets besides its status: the closing fields and its time."""
    fields = dict(closing)
    now = clock.now()
    if action == Action.SUBMIT:
        fields["submitted_at"] = now
    elif action == Action.ARCHIVE:
        fields.update(closed_at=now, close_kind=CloseKind.ANSWERED)
    return fields


def _opinion(fields: dict[str, Any]) -> str:
    return fields.get("answer") or fields.get("not_accepted_text") or ""


def _intake_transition(
    case: Case, action: str, *, actor: User, expected_version: int | None, **fields: Any
) -> None:
    fields = _intake_updates(action, fields)
    _transition(
        case, action, actor=actor, expected_version=expected_version, opinion=_opinion(fields), **fields
    )


def case_edit(*, case: Case, actor: User, expected_version: int | None, data: CaseInput) -> Case:
    """An agent completes a draft or rewrites a case the office returned."""
    if case.status not in (CaseStatus.DRAFT, CaseStatus.RETURNED):
        raise ServiceError(_("只有暂存或退回的工单可以修改"), code="bad_status")
    lifecycle.check(Action.SAVE_DRAFT, case=case, status=CaseStatus.DRAFT, user=actor)
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
        raise _fail("action", _("受理操作无效"))
    if action != Action.PROPOSE_NOT_ACCEPTED or case.status != CaseStatus.SUBMITTED:
        # Completeness is checked again: a draft may have been saved half-filled.
        _validate_input(_input_from_case(case), complete=True)
    closing = _closing_fields(action, answer, not_accepted_reason, not_accepted_text)
    if (
        case.intake_by_id is None
    ):  # a citizen's own request (channel): the agent who takes it becomes its intake
        closing["intake_by"] = actor
    with transaction.atomic():
        _intake_transition(case, action, actor=actor, expected_version=expected_version, **closing)
    return case


def case_rework(
    *,
    case: Case,
    actor: User,
    expected_version: int | None,
    data: CaseInput,
    action: str = Action.SAVE_DRAFT,
    answer: str = "",
    not_accepted_reason: DictItem | None = None,
    not_accepted_text: str = "",
    attachments: Sequence[UploadedFile] = (),
) -> Case:
    """The intake form on a draft or returned case: save the edits and, unless it is 暂存, take the agent's action —
    all or nothing (a refused submit leaves the case as it was)."""
    if action not in INTAKE_ACTIONS:
        raise _fail("action", _("受理操作无效"))
    with transaction.atomic():
        case_edit(case=case, actor=actor, expected_version=expected_version, data=data)
        _save_attachments(case, attachments, actor)
        if action != Action.SAVE_DRAFT:
            case_take_intake_action(
                case=case,
                actor=actor,
                action=action,
                expected_version=case.version,
                answer=answer,
                not_accepted_reason=not_accepted_reason,
                not_accepted_text=not_accepted_text,
            )
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
    opinion = _require_text("opinion", opinion, _("驳回理由"))
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


__all__ = [
    "CaseInput",
    "IntakeResult",
    "_check_citizen_sms",
    "_closing_fields",
    "_input_from_case",
    "_intake_transition",
    "_save_attachments",
    "_sms_citizen",
    "_validate_extra",
    "_validate_input",
    "case_confirm_not_accepted",
    "case_edit",
    "case_rework",
    "case_intake",
    "case_reject_not_accepted",
    "case_take_intake_action",
    "intake_citizen",
    "queue_citizen_sms",
]
