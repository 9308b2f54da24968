"""Bulk import and export of citizens, related contacts and the blacklist, as xlsx (openpyxl) or csv.

Import policy — **good rows saved, bad rows reported**: every row is validated on its own; the rows that pass are
written together in ONE transaction, the rows that fail are listed in the report (spreadsheet row number, column,
Chinese message) and nothing of them is written. A failure while writing (the database refusing a row) rolls the
whole file back, so a file is never half-applied beyond the report. `dry_run=True` validates and reports without
writing. Files over the row limit (10,000 for the blacklist, CIT-4) are refused whole with a clear message.
Each import is kept as an `ImportJob` (counts + the error report) with its audit row.

Matching: a citizen row updates the profile with the same ID-card number, else the one owning its first phone
number, else creates a profile. A blacklist row replaces the entry of its number. A contact row is attached to the
citizen owning the number in 市民电话.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hotline.common import clock, crypto
from hotline.common.audit import audit_record
from hotline.common.errors import ServiceError
from hotline.common.spreadsheet import ImportReport as ImportReport
from hotline.common.spreadsheet import RowError as RowError
from hotline.common.spreadsheet import check_header, read_rows, row_errors, write_table

from . import services
from .models import (
    BlacklistDirection,
    BlacklistEntry,
    BlacklistTreatment,
    Citizen,
    CitizenLevel,
    CitizenPhone,
    Gender,
    ImportJob,
    ImportKind,
    RelatedContact,
)

CITIZEN_MAX_ROWS = 50_000
# Set by the background job that runs an import (citizens.jobs): told the rows read so far, every PROGRESS_EVERY.
progress_callback: contextvars.ContextVar[Callable[[int], None] | None] = contextvars.ContextVar(
    "import_progress", default=None
)
PROGRESS_EVERY = 1000
CONTACT_MAX_ROWS = 50_000
BLACKLIST_MAX_ROWS = services.BLACKLIST_MAX_ROWS

CITIZEN_COLUMNS = ["姓名", "性别", "电话", "电子邮箱", "地址", "工作单位", "邮编", "身份证号", "级别", "备注"]
CONTACT_COLUMNS = ["市民电话", "联系人姓名", "关系", "电话", "地址", "备注"]
BLACKLIST_COLUMNS = ["号码", "方向", "原因", "到期时间", "处理方式", "提示音或坐席组"]

GENDERS = {
    "男": Gender.MALE,
    "女": Gender.FEMALE,
    "": Gender.UNKNOWN,
    "male": Gender.MALE,
    "female": Gender.FEMALE,
}
LEVELS = {str(label): value for value, label in CitizenLevel.choices} | {v: v for v in CitizenLevel.values}
DIRECTIONS = {str(label): value for value, label in BlacklistDirection.choices} | {
    v: v for v in BlacklistDirection.values
}
DIRECTIONS.update(
    {"呼入": BlacklistDirection.INBOUND, "呼出": BlacklistDirection.OUTBOUND, "双向": BlacklistDirection.BOTH}
)
TREATMENTS = {str(label): value for value, label in BlacklistTreatment.choices} | {
    v: v for v in BlacklistTreatment.values
}
PHONE_SEPARATORS = str.maketrans({"；": ";", "，": ";", ",": ";", "、": ";", "/": ";", " ": ";"})


# --------------------------------------------------------------------------- reading


def _limited(
    rows: Iterable[tuple[int, dict[str, str]]], limit: int, what: Any
) -> list[tuple[int, dict[str, str]]]:
    out = []
    for item in rows:
        out.append(item)
        if len(out) % PROGRESS_EVERY == 0:
            callback = progress_callback.get()
            if callback is not None:
                callback(len(out))
        if len(out) > limit:
            raise ServiceError(
                _("%(what)s导入文件不能超过%(limit)s行（本文件超过%(limit)s行），请拆分后分批导入")
                % {"what": what, "limit": f"{limit:,}"},
                field_errors={"file": [_("超过%(limit)s行") % {"limit": f"{limit:,}"}]},
                code="too_many_rows",
            )
    return out


FIELD_COLUMNS = {
    "name": "姓名",
    "phones": "电话",
    "gender": "性别",
    "email": "电子邮箱",
    "address": "地址",
    "work_unit": "工作单位",
    "post_code": "邮编",
    "id_card": "身份证号",
    "level": "级别",
    "number": "号码",
    "reason": "原因",
    "direction": "方向",
    "treatment": "处理方式",
    "treatment_target": "提示音或坐席组",
    "expires_at": "到期时间",
    "relation": "关系",
    "phone": "电话",
}


def _errors_of(row: int, exc: ServiceError, columns: dict[str, str] | None = None) -> list[RowError]:
    return row_errors(row, exc, columns or FIELD_COLUMNS)


def _finish(
    report: ImportReport,
    *,
    kind: str,
    actor: Any,
    file_name: str,
    write: Callable[[], None],
    job: ImportJob | None = None,
) -> ImportReport:
    """Save the good rows and the report: on the background job that ran the import, or on a new job row."""
    if job is not None:
        with transaction.atomic():
            if not report.dry_run:
                write()
            job.total_rows, job.created_count = report.total, report.created
            job.updated_count, job.rejected_count = report.updated, report.rejected
            job.errors = [e.__dict__ for e in report.errors]
            job.save(
                update_fields=["total_rows", "created_count", "updated_count", "rejected_count", "errors"]
            )
            if not report.dry_run:
                audit_record(
                    actor=actor,
                    action="update",
                    obj=job,
                    summary=f"导入{ImportKind(kind).label}：新增{report.created}，更新{report.updated}，"
                    f"拒绝{report.rejected}",
                )
        report.job = job
        return report
    if report.dry_run:
        return report
    with transaction.atomic():
        write()
        job = ImportJob.objects.create(
            kind=kind,
            file_name=file_name[:200],
            actor=actor if getattr(actor, "pk", None) else None,
            total_rows=report.total,
            created_count=report.created,
            updated_count=report.updated,
            rejected_count=report.rejected,
            errors=[e.__dict__ for e in report.errors],
            created_at=clock.now(),
        )
        audit_record(
            actor=actor,
            action="create",
            obj=job,
            summary=f"导入{ImportKind(kind).label}：新增{report.created}，更新{report.updated}，拒绝{report.rejected}",
        )
    report.job = job
    return report


# --------------------------------------------------------------------------- citizens


def import_citizens(
    *, upload: IO[bytes], file_name: str, actor: Any, dry_run: bool = False, job: ImportJob | None = None
) -> ImportReport:
    rows = _limited(read_rows(upload, file_name), CITIZEN_MAX_ROWS, gettext_lazy("市民"))
    check_header(rows, ["姓名", "电话"])
    report = ImportReport(total=len(rows), dry_run=dry_run)
    clean_rows: list[tuple[int, services.CleanCitizen]] = []
    seen_ids: dict[str, int] = {}
    seen_phones: dict[str, int] = {}
    for number, cells in rows:
        gender = GENDERS.get(cells.get("性别", ""))
        level = LEVELS.get(cells.get("级别", "") or CitizenLevel.NORMAL, None)
        errors = []
        if gender is None:
            errors.append(RowError(number, "性别", _("性别应为“男”“女”或留空")))
        if level is None:
            errors.append(RowError(number, "级别", _("级别应为“普通”“重点”或“敏感”")))
        data = services.CitizenInput(
            name=cells.get("姓名", ""),
            phones=[p for p in cells.get("电话", "").translate(PHONE_SEPARATORS).split(";") if p],
            gender=gender or "",
            email=cells.get("电子邮箱", ""),
            address=cells.get("地址", ""),
            work_unit=cells.get("工作单位", ""),
            post_code=cells.get("邮编", ""),
            id_card=cells.get("身份证号", ""),
            level=level or CitizenLevel.NORMAL,
            notes=cells.get("备注", ""),
        )
        try:
            clean = services.citizen_clean(data)
        except ServiceError as exc:
            errors.extend(_errors_of(number, exc))
            clean = None
        if clean is not None and not clean.phones:
            errors.append(RowError(number, "电话", _("请填写至少一个电话")))
        if clean is not None and not errors:
            if clean.id_card and clean.id_card in seen_ids:
                errors.append(
                    RowError(
                        number, "身份证号", _("与第%(row)d行身份证号重复") % {"row": seen_ids[clean.id_card]}
                    )
                )
            elif clean.phones[0] in seen_phones:
                errors.append(
                    RowError(
                        number, "电话", _("与第%(row)d行电话重复") % {"row": seen_phones[clean.phones[0]]}
                    )
                )
        if errors:
            report.errors.extend(errors)
            continue
        assert clean is not None
        if clean.id_card:
            seen_ids[clean.id_card] = number
        seen_phones[clean.phones[0]] = number
        clean_rows.append((number, clean))

    by_hash = {
        h: pk
        for h, pk in Citizen.objects.filter(
            id_card_hash__in=[crypto.lookup_hash(c.id_card) for _, c in clean_rows if c.id_card]
        ).values_list("id_card_hash", "pk")
    }
    first_numbers = [c.phones[0] for _, c in clean_rows]
    by_phone: dict[str, int] = {}
    for number_, pk in CitizenPhone.objects.filter(number__in=first_numbers).values_list(
        "number", "citizen_id"
    ):
        by_phone.setdefault(number_, pk)
    for number_, pk in Citizen.objects.filter(phone__in=first_numbers).values_list("phone", "pk"):
        by_phone.setdefault(number_, pk)
    plan: list[tuple[int | None, services.CleanCitizen]] = []
    for _row, clean in clean_rows:
        match = by_hash.get(crypto.lookup_hash(clean.id_card)) if clean.id_card else None
        plan.append((match or by_phone.get(clean.phones[0]), clean))
    report.created = sum(1 for match, _ in plan if match is None)
    report.updated = len(plan) - report.created

    def write() -> None:
        existing = Citizen.objects.in_bulk([pk for pk, _ in plan if pk])
        for pk, clean in plan:
            citizen = existing.get(pk) if pk else None
            if citizen is None:
                citizen = Citizen()
            services._apply(citizen, clean)
            citizen.save()
            services._save_phones(citizen, clean.phones)

    return _finish(report, kind=ImportKind.CITIZENS, actor=actor, file_name=file_name, write=write, job=job)


# --------------------------------------------------------------------------- related contacts


def import_contacts(
    *, upload: IO[bytes], file_name: str, actor: Any, dry_run: bool = False, job: ImportJob | None = None
) -> ImportReport:
    rows = _limited(read_rows(upload, file_name), CONTACT_MAX_ROWS, gettext_lazy("联系人"))
    check_header(rows, ["市民电话", "联系人姓名"])
    report = ImportReport(total=len(rows), dry_run=dry_run)
    from hotline.common.validators import normalize_phone

    owners_wanted = {normalize_phone(c.get("市民电话", "")) for _, c in rows}
    owners: dict[str, int] = {}
    for number_, pk in CitizenPhone.objects.filter(number__in=owners_wanted).values_list(
        "number", "citizen_id"
    ):
        owners.setdefault(number_, pk)
    for number_, pk in Citizen.objects.filter(phone__in=owners_wanted).values_list("phone", "pk"):
        owners.setdefault(number_, pk)
    new: list[RelatedContact] = []
    for number, cells in rows:
        owner = owners.get(normalize_phone(cells.get("市民电话", "")))
        errors = [] if owner else [RowError(number, "市民电话", _("找不到该电话对应的市民档案"))]
        try:
            values = services.contact_clean(
                services.ContactInput(
                    name=cells.get("联系人姓名", ""),
                    relation=cells.get("关系", ""),
                    phone=cells.get("电话", ""),
                    address=cells.get("地址", ""),
                    notes=cells.get("备注", ""),
                )
            )
        except ServiceError as exc:
            errors.extend(_errors_of(number, exc, {**FIELD_COLUMNS, "name": "联系人姓名"}))
            values = {}
        if errors:
            report.errors.extend(errors)
            continue
        assert owner is not None
        new.append(RelatedContact(citizen_id=owner, **values))
    report.created = len(new)

    def write() -> None:
        RelatedContact.objects.bulk_create(new, batch_size=2000)

    return _finish(report, kind=ImportKind.CONTACTS, actor=actor, file_name=file_name, write=write, job=job)


# --------------------------------------------------------------------------- blacklist


def _parse_time(text: str) -> dt.datetime | None:
    text = text.strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y/%m/%d", "%Y/%m/%d %H:%M"):
        try:
            moment = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        if fmt in ("%Y-%m-%d", "%Y/%m/%d"):
            moment = moment.replace(hour=23, minute=59, second=59)
        return timezone.make_aware(moment)
    raise ValueError(text)


def import_blacklist(
    *, upload: IO[bytes], file_name: str, actor: Any, dry_run: bool = False, job: ImportJob | None = None
) -> ImportReport:
    """CIT-4: at most 10,000 rows per file; an entry for a number already listed is replaced."""
    rows = _limited(read_rows(upload, file_name), BLACKLIST_MAX_ROWS, gettext_lazy("黑名单"))
    check_header(rows, ["号码", "原因"])
    report = ImportReport(total=len(rows), dry_run=dry_run)
    now = clock.now()
    entries: dict[str, BlacklistEntry] = {}
    first_row: dict[str, int] = {}
    for number, cells in rows:
        errors = []
        direction = DIRECTIONS.get(cells.get("方向", "") or BlacklistDirection.INBOUND)
        treatment = TREATMENTS.get(cells.get("处理方式", "") or BlacklistTreatment.VOICEMAIL)
        if direction is None:
            errors.append(RowError(number, "方向", _("方向应为“禁止呼入”“禁止呼出”或“双向禁止”")))
        if treatment is None:
            errors.append(
                RowError(number, "处理方式", _("处理方式应为“转语音留言”“播放固定提示音”或“转指定坐席组”"))
            )
        try:
            expires = _parse_time(cells.get("到期时间", ""))
        except ValueError:
            errors.append(RowError(number, "到期时间", _("到期时间格式应为 YYYY-MM-DD 或 YYYY-MM-DD HH:MM")))
            expires = None
        values: dict[str, Any] = {}
        try:
            values = services.blacklist_clean(
                services.BlacklistInput(
                    number=cells.get("号码", ""),
                    reason=cells.get("原因", ""),
                    direction=direction or BlacklistDirection.INBOUND,
                    treatment=treatment or BlacklistTreatment.VOICEMAIL,
                    treatment_target=cells.get("提示音或坐席组", ""),
                    expires_at=expires,
                )
            )
        except ServiceError as exc:
            errors.extend(_errors_of(number, exc))
        if not errors and values["number"] in first_row:
            errors.append(
                RowError(number, "号码", _("与第%(row)d行号码重复") % {"row": first_row[values["number"]]})
            )
        if errors:
            report.errors.extend(errors)
            continue
        first_row[values["number"]] = number
        entries[values["number"]] = BlacklistEntry(
            **values, created_by=actor if getattr(actor, "pk", None) else None, created_at=now, updated_at=now
        )
    existing = set(BlacklistEntry.objects.filter(number__in=list(entries)).values_list("number", flat=True))
    report.updated = len(existing)
    report.created = len(entries) - len(existing)

    def write() -> None:
        BlacklistEntry.objects.bulk_create(
            list(entries.values()),
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["number"],
            update_fields=[
                "direction",
                "reason",
                "expires_at",
                "treatment",
                "treatment_target",
                "updated_at",
            ],
        )

    return _finish(report, kind=ImportKind.BLACKLIST, actor=actor, file_name=file_name, write=write, job=job)


# --------------------------------------------------------------------------- export


def export_citizens(*, citizens: Iterable[Citizen], masked: bool, fmt: str = "xlsx") -> bytes:
    """The import's columns, so an export can be edited and imported back (when unmasked)."""
    genders: dict[str, str] = {Gender.MALE: "男", Gender.FEMALE: "女"}
    levels = {value: str(label) for value, label in CitizenLevel.choices}

    def rows() -> Iterator[list[Any]]:
        for c in citizens:
            numbers = [p.number for p in c.phones.all()] or ([c.phone] if c.phone else [])
            id_card = c.id_card if c.id_card_encrypted else ""
            yield [
                c.name,
                genders.get(c.gender, ""),
                ";".join(crypto.mask_phone(n) if masked else n for n in numbers),
                c.email,
                c.address,
                c.work_unit,
                c.post_code,
                (crypto.mask_id_card(id_card) if masked else id_card) if id_card else "",
                levels.get(c.level, c.level),
                c.notes,
            ]

    return write_table(fmt, CITIZEN_COLUMNS, rows(), "市民")


def export_contacts(*, contacts: Iterable[RelatedContact], masked: bool, fmt: str = "xlsx") -> bytes:
    def rows() -> Iterator[list[Any]]:
        for c in contacts:
            owner = c.citizen.phone
            yield [
                crypto.mask_phone(owner) if masked and owner else owner,
                c.name,
                c.relation,
                crypto.mask_phone(c.phone) if masked and c.phone else c.phone,
                c.address,
                c.notes,
            ]

    return write_table(fmt, CONTACT_COLUMNS, rows(), "相关联系人")


def export_blacklist(*, entries: Iterable[BlacklistEntry], fmt: str = "xlsx") -> bytes:
    def rows() -> Iterator[list[Any]]:
        for e in entries:
            expires = timezone.localtime(e.expires_at).strftime("%Y-%m-%d %H:%M") if e.expires_at else ""
            yield [
                e.number,
                e.get_direction_display(),
                e.reason,
                expires,
                e.get_treatment_display(),
                e.treatment_target,
            ]

    return write_table(fmt, BLACKLIST_COLUMNS, rows(), "黑名单")
