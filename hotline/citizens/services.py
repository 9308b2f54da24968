"""Every write on citizen records (CIT-1, CIT-2, CIT-4). One transaction each, with its audit row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import sql
from django.db.models.signals import post_save, pre_save
from django.utils.translation import gettext as _

from hotline.common import clock
from hotline.common.audit import audit_record
from hotline.common.errors import ServiceError
from hotline.common.validators import (
    normalize_phone,
    validate_email_address,
    validate_id_card,
    validate_max_length,
    validate_phone,
    validate_post_code,
)

from .models import (
    BlacklistDirection,
    BlacklistEntry,
    BlacklistTreatment,
    Citizen,
    CitizenLevel,
    CitizenPhone,
    Gender,
    RelatedContact,
)

PROFILE_FIELDS = ("name", "gender", "email", "address", "work_unit", "post_code")
MAX_PHONES = 10


def citizen_upsert_from_intake(*, phone: str, actor: Any, id_card: str = "", **fields: str) -> Citizen:
    """Find the citizen by phone number (or create one) and fill blanks from what the caller said.

    What the caller said goes through `citizen_clean` (a name is not required at intake), so a profile written at
    intake obeys the same rules and normalisation as one typed on the citizen screens. The intake services run
    the same check before their transaction (with the intake's field names); here it only normalises.
    Runs inside the intake transaction; only empty profile fields are filled, nothing is overwritten.
    """
    from .selectors import citizen_for_number

    clean = citizen_clean(
        CitizenInput(
            name=fields.get("name") or "",
            phones=[phone] if phone else [],
            id_card=id_card,
            **{name: fields.get(name) or "" for name in PROFILE_FIELDS if name != "name"},
        ),
        require_name=False,
    )
    phone = clean.values["phone"]
    citizen = citizen_for_number(phone) if phone else None
    created = citizen is None
    if citizen is None:
        citizen = Citizen(phone=phone)
    changed = []
    for name in PROFILE_FIELDS:
        value = clean.values[name]
        if value and not getattr(citizen, name):
            setattr(citizen, name, value)
            changed.append(name)
    if clean.id_card and not citizen.id_card_hash:
        citizen.set_id_card(clean.id_card)
        changed.append("id_card")
    if created and phone:
        _insert_with_phone(citizen, phone)  # the profile and its number: one statement
    elif created or changed:
        citizen.save()
    if created or changed:
        audit_record(
            actor=actor,
            action="create" if created else "update",
            obj=citizen,
            summary="登记市民信息" if created else "补充市民信息",
            changes={"fields": changed},
        )
    return citizen


def _insert_with_phone(citizen: Citizen, phone: str) -> None:
    """Insert a new profile and its primary number (`citizen.save()` then a `CitizenPhone` create).

    On PostgreSQL one statement: the INSERT the ORM compiles for `citizen.save()` in a data-modifying CTE that
    also inserts the number (issue 12: every intake of a new caller paid two round trips here). The model's
    save signals are sent as `save()` sends them."""
    if connection.vendor != "postgresql":
        citizen.save()
        CitizenPhone.objects.create(citizen=citizen, number=phone, is_primary=True)
        return
    meta = Citizen._meta
    pre_save.send(sender=Citizen, instance=citizen, raw=False, using=connection.alias, update_fields=None)
    query = sql.InsertQuery(Citizen)
    query.insert_values([f for f in meta.local_concrete_fields if f is not meta.auto_field], [citizen])
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = returning = meta.db_returning_fields
    ((insert, params),) = compiler.as_sql()
    number = CitizenPhone(number=phone, is_primary=True)  # the field defaults (kind) as the ORM gives them
    phones = connection.ops.quote_name(CitizenPhone._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH c AS ({insert}), p AS ("  # noqa: S608 - compiled by the ORM; table name from the model
            f'INSERT INTO {phones} ("citizen_id", "number", "kind", "is_primary") '
            f'SELECT c."id", %s, %s, %s FROM c) SELECT * FROM c',
            [*params, number.number, number.kind, number.is_primary],
        )
        rows = [cursor.fetchone()]
    converters = compiler.get_converters([f.get_col(meta.db_table) for f in returning])
    (row,) = compiler.apply_converters(rows, converters) if converters else rows
    for returned, value in zip(returning, row, strict=True):
        setattr(citizen, returned.attname, value)
    citizen._state.adding = False
    citizen._state.db = connection.alias
    post_save.send(
        sender=Citizen, instance=citizen, created=True, update_fields=None, raw=False, using=connection.alias
    )


# --------------------------------------------------------------------------- profiles (CIT-1)


@dataclass
class CitizenInput:
    """What staff type (or an import row holds) for a citizen. `phones` are all numbers, the main one first."""

    name: str
    phones: list[str] = field(default_factory=list)
    gender: str = ""
    email: str = ""
    address: str = ""
    work_unit: str = ""
    post_code: str = ""
    id_card: str = ""
    level: str = CitizenLevel.NORMAL
    notes: str = ""


@dataclass
class CleanCitizen:
    values: dict[str, Any]
    phones: list[str]
    id_card: str


def citizen_clean(data: CitizenInput, *, require_name: bool = True) -> CleanCitizen:
    """Validate and normalise; raise with every field error at once (Chinese messages).

    The one set of rules for a citizen's profile: the citizen screens and import use it, and so does intake
    (`require_name=False`: a caller need not give a name), through `citizen_upsert_from_intake` and the cases
    intake contract. The field validators themselves live in `hotline.common.validators`."""
    errors: dict[str, list[str]] = {}

    def check(field_name: str, validator: Any, *args: Any) -> None:
        try:
            validator(*args)
        except ValidationError as exc:
            errors.setdefault(field_name, []).extend(str(m) for m in exc.messages)

    name = (data.name or "").strip()
    if not name:
        if require_name:
            errors["name"] = ["请填写姓名"]
    elif len(name) > 50:
        errors["name"] = ["姓名不能超过50个字"]
    phones: list[str] = []
    for raw in data.phones:
        number = normalize_phone(str(raw or ""))
        if not number:
            continue
        try:
            validate_phone(number)
        except ValidationError as exc:
            errors.setdefault("phones", []).extend(str(m) for m in exc.messages)
            continue
        if number not in phones:
            phones.append(number)
    if len(phones) > MAX_PHONES:
        errors.setdefault("phones", []).append(f"电话最多{MAX_PHONES}个")
    if data.gender not in Gender.values:
        errors["gender"] = ["性别无效（男/女/留空）"]
    email = (data.email or "").strip()
    if email:
        check("email", validate_email_address, email)
    id_card = (data.id_card or "").strip().upper()
    if id_card:
        check("id_card", validate_id_card, id_card)
    if data.level not in CitizenLevel.values:
        errors["level"] = ["级别无效（普通/重点/敏感）"]
    post_code = (data.post_code or "").strip()
    if post_code:
        check("post_code", validate_post_code, post_code)
    for name_, limit in (("address", 200), ("work_unit", 100)):
        check(name_, validate_max_length, getattr(data, name_) or "", limit)
    if errors:
        raise ServiceError(_("输入有误"), field_errors=errors)
    values = {
        "name": name,
        "gender": data.gender,
        "email": email,
        "address": (data.address or "").strip(),
        "work_unit": (data.work_unit or "").strip(),
        "post_code": post_code,
        "level": data.level,
        "notes": (data.notes or "").strip(),
        "phone": phones[0] if phones else "",
    }
    return CleanCitizen(values=values, phones=phones, id_card=id_card)


def _id_card_taken(id_card: str, exclude: int | None) -> bool:
    from hotline.common import crypto

    qs = Citizen.objects.filter(id_card_hash=crypto.lookup_hash(id_card))
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return qs.exists()


def _save_phones(citizen: Citizen, phones: Sequence[str]) -> None:
    existing = {p.number: p for p in citizen.phones.all()}
    wanted = list(phones)
    CitizenPhone.objects.filter(citizen=citizen).exclude(number__in=wanted).delete()
    for i, number in enumerate(wanted):
        row = existing.get(number)
        if row is None:
            CitizenPhone.objects.create(citizen=citizen, number=number, is_primary=i == 0)
        elif row.is_primary != (i == 0):
            CitizenPhone.objects.filter(pk=row.pk).update(is_primary=i == 0)


def _apply(citizen: Citizen, clean: CleanCitizen) -> list[str]:
    changed = [name for name, value in clean.values.items() if getattr(citizen, name) != value]
    for name, value in clean.values.items():
        setattr(citizen, name, value)
    if clean.id_card and clean.id_card != (citizen.id_card if citizen.id_card_encrypted else ""):
        citizen.set_id_card(clean.id_card)
        changed.append("id_card")
    return changed


def citizen_create(*, actor: Any, data: CitizenInput) -> Citizen:
    clean = citizen_clean(data)
    if clean.id_card and _id_card_taken(clean.id_card, None):
        raise ServiceError(_("输入有误"), field_errors={"id_card": [_("该身份证号已登记")]})
    with transaction.atomic():
        citizen = Citizen()
        _apply(citizen, clean)
        citizen.save()
        _save_phones(citizen, clean.phones)
        audit_record(actor=actor, action="create", obj=citizen, summary=f"新建市民档案 {citizen.name}")
    return citizen


def citizen_update(*, citizen: Citizen, actor: Any, data: CitizenInput) -> Citizen:
    """Replace the profile with `data` (an empty ID card keeps the one on file)."""
    clean = citizen_clean(data)
    if clean.id_card and _id_card_taken(clean.id_card, citizen.pk):
        raise ServiceError(_("输入有误"), field_errors={"id_card": [_("该身份证号已登记给其他市民")]})
    with transaction.atomic():
        changed = _apply(citizen, clean)
        citizen.save()
        _save_phones(citizen, clean.phones)
        audit_record(
            actor=actor,
            action="update",
            obj=citizen,
            summary=f"修改市民档案 {citizen.name}",
            changes={"fields": changed},
        )
    return citizen


def citizen_delete(*, citizen: Citizen, actor: Any) -> None:
    """Only a profile with no case may be deleted (cases keep their citizen for history)."""
    if citizen.cases.exists():
        raise ServiceError(_("该市民已有工单记录，不能删除"), code="has_cases")
    with transaction.atomic():
        audit_record(actor=actor, action="delete", obj=citizen, summary=f"删除市民档案 {citizen.name}")
        citizen.delete()


def citizen_record_view(*, citizen: Citizen, actor: Any, reason: str) -> None:
    """ORG-4: an unmasked view of a citizen's numbers is audited."""
    audit_record(actor=actor, action="view", obj=citizen, summary=f"查看市民个人信息（{reason}）")


def screen_pop_viewed(*, user: Any, number: str) -> dict[str, Any]:
    """The screen pop of a number (selectors.screen_pop) as a user sees it; an unmasked profile is audited."""
    from .selectors import screen_pop

    pop = screen_pop(user=user, number=number)
    if pop["known"] and not pop["citizen"]["masked"]:
        citizen_record_view(citizen=Citizen(pk=pop["citizen"]["id"]), actor=user, reason="来电弹屏")
    return pop


# --------------------------------------------------------------------------- related contacts (CIT-2)


@dataclass
class ContactInput:
    name: str
    relation: str = ""
    phone: str = ""
    address: str = ""
    notes: str = ""


def contact_clean(data: ContactInput) -> dict[str, str]:
    errors: dict[str, list[str]] = {}
    name = (data.name or "").strip()
    if not name:
        errors["name"] = ["请填写联系人姓名"]
    phone = normalize_phone(data.phone or "")
    if phone:
        try:
            validate_phone(phone)
        except ValidationError as exc:
            errors["phone"] = [str(m) for m in exc.messages]
    if len(data.relation or "") > 20:
        errors["relation"] = ["关系不能超过20个字"]
    if errors:
        raise ServiceError(_("输入有误"), field_errors=errors)
    return {
        "name": name[:50],
        "relation": (data.relation or "").strip(),
        "phone": phone,
        "address": (data.address or "").strip()[:200],
        "notes": (data.notes or "").strip()[:200],
    }


def contact_create(*, citizen: Citizen, actor: Any, data: ContactInput) -> RelatedContact:
    values = contact_clean(data)
    with transaction.atomic():
        contact = RelatedContact.objects.create(citizen=citizen, **values)
        audit_record(
            actor=actor, action="create", obj=contact, summary=f"{citizen.name} 新增联系人 {contact.name}"
        )
    return contact


def contact_update(*, contact: RelatedContact, actor: Any, data: ContactInput) -> RelatedContact:
    values = contact_clean(data)
    with transaction.atomic():
        for name, value in values.items():
            setattr(contact, name, value)
        contact.save()
        audit_record(actor=actor, action="update", obj=contact, summary=f"修改联系人 {contact.name}")
    return contact


def contact_delete(*, contact: RelatedContact, actor: Any) -> None:
    with transaction.atomic():
        audit_record(actor=actor, action="delete", obj=contact, summary=f"删除联系人 {contact.name}")
        contact.delete()


# --------------------------------------------------------------------------- blacklist (CIT-4)

BLACKLIST_MAX_ROWS = 10_000


@dataclass
class BlacklistInput:
    number: str
    reason: str
    direction: str = BlacklistDirection.INBOUND
    treatment: str = BlacklistTreatment.VOICEMAIL
    treatment_target: str = ""
    expires_at: dt.datetime | None = None


def blacklist_clean(data: BlacklistInput) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    number = normalize_phone(data.number or "")
    if not number:
        errors["number"] = ["请填写号码"]
    else:
        try:
            validate_phone(number)
        except ValidationError as exc:
            errors["number"] = [str(m) for m in exc.messages]
    reason = (data.reason or "").strip()
    if not reason:
        errors["reason"] = ["请填写原因"]
    elif len(reason) > 200:
        errors["reason"] = ["原因不能超过200个字"]
    if data.direction not in BlacklistDirection.values:
        errors["direction"] = ["方向无效（禁止呼入/禁止呼出/双向禁止）"]
    if data.treatment not in BlacklistTreatment.values:
        errors["treatment"] = ["处理方式无效（转语音留言/播放固定提示音/转指定坐席组）"]
    target = (data.treatment_target or "").strip()
    if data.treatment == BlacklistTreatment.AGENT_GROUP and not target:
        errors["treatment_target"] = ["转指定坐席组时请填写坐席组编码"]
    if data.expires_at is not None and data.expires_at <= clock.now():
        errors["expires_at"] = ["到期时间应晚于现在"]
    if errors:
        raise ServiceError(_("输入有误"), field_errors=errors)
    return {
        "number": number,
        "reason": reason,
        "direction": data.direction,
        "treatment": data.treatment,
        "treatment_target": target[:64],
        "expires_at": data.expires_at,
    }


def blacklist_add(*, actor: Any, data: BlacklistInput) -> BlacklistEntry:
    """Add a number, or replace the entry the number already has."""
    values = blacklist_clean(data)
    now = clock.now()
    with transaction.atomic():
        entry, created = BlacklistEntry.objects.update_or_create(
            number=values["number"],
            defaults={**values, "updated_at": now},
            create_defaults={**values, "created_at": now, "updated_at": now, "created_by": actor},
        )
        audit_record(
            actor=actor,
            action="create" if created else "update",
            obj=entry,
            summary=f"黑名单{'新增' if created else '修改'} {entry.number}",
            changes={k: str(v) for k, v in values.items()},
        )
    return entry


def blacklist_remove(*, entry: BlacklistEntry, actor: Any) -> None:
    with transaction.atomic():
        audit_record(actor=actor, action="delete", obj=entry, summary=f"黑名单移除 {entry.number}")
        entry.delete()
