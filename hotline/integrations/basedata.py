"""Base data exchanged with other systems (API-3): units, users, dictionaries and citizens as xlsx, csv or JSON.

Export writes the columns the import reads, so a file can be edited and imported back. Import policy, as for
citizens (`hotline.citizens.importexport`): **good rows saved, bad rows reported** — each row is applied through
the owning package's service in its own savepoint (a unit's parent may be a row above it), a row the service
refuses is listed with its row number, column and message, and `dry_run` rolls everything back after reporting.
Rows are read by their Chinese column titles (files) or by the English keys (JSON from partners).

Users imported this way can never be given, or stripped of, the administrator role, and administrators cannot be
changed by an import: a partner with the base-data scope must not be able to make itself an administrator. New
users get no usable password (an administrator sets one, or the user resets it).

Citizens are personal data: a partner needs the `citizens` scope besides `base_data`, every export is audited with
its row count, and ID-card numbers are never exported in clear (masked). Rows go through the citizens services
(`citizen_clean`, `citizen_create` / `citizen_update`), so their validation and audit apply.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hotline.citizens import selectors as citizen_selectors
from hotline.citizens import services as citizen_services
from hotline.citizens.models import Citizen, CitizenLevel, Gender
from hotline.common import crypto
from hotline.common.audit import audit_access
from hotline.common.dictionaries import dict_item_save
from hotline.common.errors import ServiceError
from hotline.common.models import DictItem, DictKind
from hotline.common.spreadsheet import (
    ImportReport,
    RowError,
    check_header,
    read_rows,
    row_errors,
    write_table,
)
from hotline.orgs import services as org_services
from hotline.orgs.models import Role, Unit, UnitKind, User
from hotline.orgs.selectors import UNITS

MAX_ROWS = 10_000
FORMATS = ("xlsx", "csv", "json")


@dataclass(frozen=True)
class Column:
    key: str  # JSON key
    title: str  # spreadsheet column


@dataclass(frozen=True)
class Kind:
    code: str
    label: Any
    columns: tuple[Column, ...]
    required: tuple[str, ...]  # keys
    rows: Callable[[], Iterator[dict[str, Any]]]
    apply: Callable[[dict[str, str], Any], bool]  # one row through the services; True when created

    @property
    def titles(self) -> dict[str, str]:
        return {c.key: c.title for c in self.columns}


YES = {"是", "1", "true", "yes", "y", "启用", "on"}
NO = {"否", "0", "false", "no", "n", "停用", "off", ""}


def _flag(value: str, field: str) -> bool:
    text = value.strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise ServiceError(_("请填写“是”或“否”"), field_errors={field: [_("请填写“是”或“否”")]})


def _number(value: str, field: str) -> int:
    text = value.strip() or "0"
    try:
        return int(text)
    except ValueError:
        raise ServiceError(_("须是整数"), field_errors={field: [_("须是整数")]}) from None


def _choice(value: str, choices: Iterable[tuple[str, Any]], field: str) -> str:
    text = value.strip()
    for code, label in choices:
        if text in (code, str(label)):
            return code
    raise ServiceError(
        _("无法识别：%(value)s") % {"value": text},
        field_errors={field: [_("无法识别：%(value)s") % {"value": text}]},
    )


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


# --------------------------------------------------------------------------- units

UNIT_COLUMNS = (
    Column("code", "编码"),
    Column("name", "名称"),
    Column("kind", "类型"),
    Column("parent_code", "上级编码"),
    Column("is_vertical", "垂直管理"),
    Column("phone", "联系电话"),
    Column("sort_order", "排序"),
)


def _unit_rows() -> Iterator[dict[str, Any]]:
    codes = dict(Unit.objects.values_list("pk", "code"))
    for unit in Unit.objects.filter(is_active=True).order_by("depth", "sort_order", "id"):
        yield {
            "code": unit.code,
            "name": unit.name,
            "kind": str(UnitKind(unit.kind).label),
            "parent_code": codes.get(unit.parent_id, "") if unit.parent_id else "",
            "is_vertical": _yes_no(unit.is_vertical),
            "phone": unit.phone,
            "sort_order": unit.sort_order,
        }


def _apply_unit(row: dict[str, str], actor: Any) -> bool:
    code, name = row["code"].strip(), row["name"].strip()
    if not name or len(name) > 100:
        raise ServiceError(_("名称不能为空，且不超过100个字符"), field_errors={"name": [_("名称不能为空")]})
    if len(code) > 32:
        raise ServiceError(_("编码不超过32个字符"), field_errors={"code": [_("编码不超过32个字符")]})
    kind = _choice(row["kind"], UnitKind.choices, "kind")
    parent = None
    if row.get("parent_code", "").strip():
        parent = Unit.objects.filter(code=row["parent_code"].strip(), is_active=True).first()
        if parent is None:
            message = _("上级编码不存在（上级单位须已存在或在本文件前面的行）")
            raise ServiceError(message, field_errors={"parent_code": [message]})
    fields: dict[str, Any] = {
        "name": name,
        "code": code,
        "kind": kind,
        "parent": parent,
        "is_vertical": _flag(row.get("is_vertical", ""), "is_vertical"),
        "phone": row.get("phone", "").strip()[:32],
        "sort_order": max(0, _number(row.get("sort_order", ""), "sort_order")),
    }
    current = Unit.objects.filter(code=code).first()
    if current is None:
        org_services.unit_create(actor=actor, **fields)
        return True
    org_services.unit_update(unit=current, actor=actor, **fields)
    return False


# --------------------------------------------------------------------------- users

USER_COLUMNS = (
    Column("username", "用户名"),
    Column("full_name", "姓名"),
    Column("unit_code", "单位编码"),
    Column("roles", "角色"),
    Column("phone", "手机号"),
    Column("is_active", "启用"),
)
ROLE_SEPARATORS = str.maketrans({"、": ",", "，": ",", ";": ",", "；": ",", " ": ","})
_username = RegexValidator(r"^[\w.@+-]{1,150}$")
_phone = RegexValidator(r"^[0-9+\-]{0,20}$")


def _user_rows() -> Iterator[dict[str, Any]]:
    labels = dict(Role.choices)
    users = User.objects.select_related("unit").prefetch_related("roles").order_by("username")
    for user in users:
        yield {
            "username": user.username,
            "full_name": user.full_name,
            "unit_code": user.unit.code if user.unit else "",
            "roles": "、".join(str(labels[r.role]) for r in user.roles.all() if r.role in labels),
            "phone": user.phone,
            "is_active": _yes_no(user.is_active),
        }


def _roles_of(text: str) -> set[str]:
    parts = [p for p in text.translate(ROLE_SEPARATORS).split(",") if p.strip()]
    return {_choice(p, Role.choices, "roles") for p in parts}


def _apply_user(row: dict[str, str], actor: Any) -> bool:
    username = row["username"].strip()
    try:
        _username(username)
    except ValidationError:
        raise ServiceError(
            _("用户名只能包含字母、数字和 @ . + - _"), field_errors={"username": [_("用户名格式不对")]}
        ) from None
    phone = row.get("phone", "").strip()
    try:
        _phone(phone)
    except ValidationError:
        raise ServiceError(_("手机号格式不对"), field_errors={"phone": [_("手机号格式不对")]}) from None
    unit = None
    if row.get("unit_code", "").strip():
        unit = Unit.objects.filter(code=row["unit_code"].strip(), is_active=True).first()
        if unit is None:
            raise ServiceError(_("单位编码不存在"), field_errors={"unit_code": [_("单位编码不存在")]})
    roles = _roles_of(row.get("roles", ""))
    if Role.ADMIN in roles:
        message = _("系统管理员角色不能通过导入授予")
        raise ServiceError(message, field_errors={"roles": [message]})
    full_name = row.get("full_name", "").strip()[:50]
    current = User.objects.filter(username=username).first()
    if current is None:
        user = org_services.user_create(
            username=username,
            password="",
            full_name=full_name,
            unit=unit,
            roles=roles,
            phone=phone,
            actor=actor,
        )
        user.set_unusable_password()
        user.is_active = _flag(row.get("is_active", "是") or "是", "is_active")
        user.save(update_fields=["password", "is_active"])
        return True
    if current.is_superuser or current.has_role(Role.ADMIN):
        message = _("系统管理员账号不能通过导入修改")
        raise ServiceError(message, field_errors={"username": [message]})
    org_services.user_update(
        user=current,
        full_name=full_name,
        unit=unit,
        roles=roles,
        phone=phone,
        is_active=_flag(row.get("is_active", "是") or "是", "is_active"),
        actor=actor,
    )
    return False


# --------------------------------------------------------------------------- dictionaries

DICT_COLUMNS = (
    Column("kind", "字典"),
    Column("code", "编码"),
    Column("name", "名称"),
    Column("rank", "级别"),
    Column("sort_order", "排序"),
    Column("is_active", "启用"),
)


def _dict_rows() -> Iterator[dict[str, Any]]:
    for item in DictItem.objects.order_by("kind", "sort_order", "id"):
        yield {
            "kind": str(DictKind(item.kind).label),
            "code": item.code,
            "name": item.name,
            "rank": item.rank,
            "sort_order": item.sort_order,
            "is_active": _yes_no(item.is_active),
        }


def _apply_dict(row: dict[str, str], actor: Any) -> bool:
    _item, created = dict_item_save(
        kind=_choice(row["kind"], DictKind.choices, "kind"),
        code=row["code"].strip(),
        name=row.get("name", ""),
        rank=_number(row.get("rank", ""), "rank"),
        sort_order=_number(row.get("sort_order", ""), "sort_order"),
        is_active=_flag(row.get("is_active", "是") or "是", "is_active"),
        actor=actor,
    )
    return created


# --------------------------------------------------------------------------- citizens

CITIZEN_COLUMNS = (
    Column("name", "姓名"),
    Column("gender", "性别"),
    Column("phones", "电话"),
    Column("email", "电子邮箱"),
    Column("address", "地址"),
    Column("work_unit", "工作单位"),
    Column("post_code", "邮编"),
    Column("id_card", "身份证号"),
    Column("level", "级别"),
    Column("notes", "备注"),
)
PHONE_SEPARATORS = str.maketrans({"；": ";", "，": ";", ",": ";", "、": ";", "/": ";", " ": ";"})
GENDER_LABELS: dict[str, str] = {Gender.MALE: "男", Gender.FEMALE: "女"}


def _citizen_rows() -> Iterator[dict[str, Any]]:
    """Personal data: the ID-card number is never exported in clear (masked, or empty when none is on file)."""
    levels = {value: str(label) for value, label in CitizenLevel.choices}
    for citizen in Citizen.objects.prefetch_related("phones").order_by("id").iterator(chunk_size=1000):
        numbers = [p.number for p in citizen.phones.all()] or ([citizen.phone] if citizen.phone else [])
        id_card = citizen.id_card if citizen.id_card_encrypted else ""
        yield {
            "name": citizen.name,
            "gender": GENDER_LABELS.get(citizen.gender, ""),
            "phones": ";".join(numbers),
            "email": citizen.email,
            "address": citizen.address,
            "work_unit": citizen.work_unit,
            "post_code": citizen.post_code,
            "id_card": crypto.mask_id_card(id_card) if id_card else "",
            "level": levels.get(citizen.level, citizen.level),
            "notes": citizen.notes,
        }


def _apply_citizen(row: dict[str, str], actor: Any) -> bool:
    """One citizen through the citizens services (their validation and audit). Matched as the citizens import
    matches: the profile with the same ID-card number, else the one owning the first phone number. A masked
    ID-card number (an exported file edited and sent back) is read as "not given", which keeps the one on file."""
    id_card = row.get("id_card", "").strip()
    if "*" in id_card:
        id_card = ""
    gender = row.get("gender", "").strip()
    data = citizen_services.CitizenInput(
        name=row.get("name", ""),
        phones=[p for p in row.get("phones", "").translate(PHONE_SEPARATORS).split(";") if p],
        gender={"男": Gender.MALE, "女": Gender.FEMALE}.get(gender, gender),
        email=row.get("email", ""),
        address=row.get("address", ""),
        work_unit=row.get("work_unit", ""),
        post_code=row.get("post_code", ""),
        id_card=id_card,
        level=_choice(row.get("level", "") or CitizenLevel.NORMAL, CitizenLevel.choices, "level"),
        notes=row.get("notes", ""),
    )
    clean = citizen_services.citizen_clean(data)
    if not clean.phones:
        raise ServiceError(_("请填写至少一个电话"), field_errors={"phones": [_("请填写至少一个电话")]})
    current = citizen_selectors.citizen_matching(id_card=clean.id_card, phone=clean.phones[0])
    if current is None:
        citizen_services.citizen_create(actor=actor, data=data)
        return True
    citizen_services.citizen_update(citizen=current, actor=actor, data=data)
    return False


KINDS: dict[str, Kind] = {
    "units": Kind(
        "units", gettext_lazy("单位"), UNIT_COLUMNS, ("code", "name", "kind"), _unit_rows, _apply_unit
    ),
    "users": Kind("users", gettext_lazy("用户"), USER_COLUMNS, ("username",), _user_rows, _apply_user),
    "dictionaries": Kind(
        "dictionaries", gettext_lazy("字典"), DICT_COLUMNS, ("kind", "code", "name"), _dict_rows, _apply_dict
    ),
    "citizens": Kind(
        "citizens", gettext_lazy("市民"), CITIZEN_COLUMNS, ("name", "phones"), _citizen_rows, _apply_citizen
    ),
}
# Kinds holding personal data: a partner needs this scope for them besides base_data.
PERSONAL = {"citizens"}


def kind_of(code: str) -> Kind:
    try:
        return KINDS[code]
    except KeyError:
        raise ServiceError(
            _("未知的基础数据类别：%(kind)s") % {"kind": code},
            field_errors={"kind": [_("未知的基础数据类别")]},
        ) from None


# --------------------------------------------------------------------------- export


def export_rows(*, kind: str, actor: Any, fmt: str = "json", via: str = "") -> list[dict[str, Any]]:
    """Every row of `kind` keyed by the JSON keys; audited (who, which table, how many rows)."""
    spec = kind_of(kind)
    rows = list(spec.rows())
    audit_access(
        actor=actor,
        object_type=f"integrations.basedata.{kind}",
        summary=f"导出基础数据：{spec.label} {len(rows)} 行{via}",
        filters={"kind": kind, "format": fmt},
        rows=len(rows),
    )
    return rows


def export(*, kind: str, fmt: str, actor: Any) -> bytes:
    """The whole table of `kind` as xlsx, csv or JSON (`{"kind", "rows": [{key: value}]}`)."""
    spec = kind_of(kind)
    if fmt not in FORMATS:
        raise ServiceError(
            _("只支持 xlsx、csv 或 json"), field_errors={"format": [_("只支持 xlsx、csv 或 json")]}
        )
    rows = export_rows(kind=kind, actor=actor, fmt=fmt)
    if fmt == "json":
        return json.dumps({"kind": kind, "rows": rows}, ensure_ascii=False).encode()
    header = [c.title for c in spec.columns]
    return write_table(fmt, header, ([row[c.key] for c in spec.columns] for row in rows), str(spec.label))


# --------------------------------------------------------------------------- import


def _keyed(spec: Kind, rows: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, dict[str, str]]]:
    """Rows keyed by the JSON keys, whether they came with the Chinese titles or the keys."""
    by_title = {title: key for key, title in spec.titles.items()}
    keys = {c.key for c in spec.columns}
    out = []
    for number, row in rows:
        keyed = {}
        for name, value in row.items():
            key = by_title.get(str(name), str(name))
            if key in keys:
                keyed[key] = "" if value is None else str(value)
        out.append((number, keyed))
    return out


def import_rows(
    *, kind: str, rows: list[tuple[int, dict[str, Any]]], actor: Any, dry_run: bool = False, via: str = ""
) -> ImportReport:
    spec = kind_of(kind)
    if len(rows) > MAX_ROWS:
        message = _("一次最多导入%(limit)s行，请拆分后分批导入") % {"limit": f"{MAX_ROWS:,}"}
        raise ServiceError(message, field_errors={"file": [message]}, code="too_many_rows")
    keyed = _keyed(spec, rows)
    report = ImportReport(total=len(keyed), dry_run=dry_run)
    with transaction.atomic():
        for number, row in keyed:
            missing = [k for k in spec.required if not row.get(k, "").strip()]
            if missing:
                report.errors += [RowError(number, spec.titles[k], _("必填")) for k in missing]
                continue
            try:
                with transaction.atomic():
                    created = spec.apply(row, actor)
            except ServiceError as exc:
                report.errors += row_errors(number, exc, spec.titles)
                continue
            if created:
                report.created += 1
            else:
                report.updated += 1
        summary = (
            f"导入基础数据{'（试导入）' if dry_run else ''}：{spec.label}，新增{report.created}，"
            f"更新{report.updated}，拒绝{report.rejected}{via}"
        )
        if dry_run:
            transaction.set_rollback(True)
    # After the rollback of a dry run too: the audit says that a file was tried, and by whom.
    audit_access(
        actor=actor,
        object_type=f"integrations.basedata.{kind}",
        summary=summary,
        filters={"kind": kind, "dry_run": dry_run},
        rows=report.total,
    )
    UNITS._invalidate()
    return report


def import_file(
    *, kind: str, upload: IO[bytes], file_name: str, actor: Any, dry_run: bool = False
) -> ImportReport:
    spec = kind_of(kind)
    rows = []
    for item in read_rows(upload, file_name):
        rows.append(item)
        if len(rows) > MAX_ROWS:
            break
    check_header(rows, [c.title for c in spec.columns if c.key in spec.required])
    return import_rows(kind=kind, rows=rows, actor=actor, dry_run=dry_run)


def import_json(*, kind: str, data: Any, actor: Any, dry_run: bool = False, via: str = "") -> ImportReport:
    """`{"rows": [{key: value}, …]}` from a partner; row numbers count from 1."""
    rows = data.get("rows") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        message = _("rows 须是对象数组")
        raise ServiceError(message, field_errors={"rows": [message]})
    if not rows:
        raise ServiceError(_("没有数据行"), field_errors={"rows": [_("没有数据行")]})
    return import_rows(kind=kind, rows=list(enumerate(rows, start=1)), actor=actor, dry_run=dry_run, via=via)
