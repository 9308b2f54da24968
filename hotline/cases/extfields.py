"""Extended intake fields per bureau and case type (issue 11, item 6): definitions written by administrators
through these services (Django admin and the API both call them), read by intake through `EXTENDED_FIELDS`.

Rules: the key is a lowercase identifier (`building_year`), fixed once created (saved cases keep values
under it); no two active fields that can apply to the same case share a key; the bureau is an active bureau
and the case type an active case type (either left empty = any); a choice field has 1–100 distinct options
and other types have none. A definition is never deleted, only switched off: cases that carry its values
still show what they mean.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from hotline.common.audit import audit_record
from hotline.common.errors import ServiceError
from hotline.common.models import DictItem, DictKind
from hotline.orgs.models import Unit, UnitKind, User

from . import permissions
from .models import ExtendedField, ExtendedFieldType

KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_CHOICES = 100


@dataclass
class ExtendedFieldInput:
    key: str
    label: str
    field_type: str
    bureau: Unit | None = None
    case_type: DictItem | None = None
    required: bool = False
    choices: list[str] = field(default_factory=list)
    sort_order: int = 0
    is_active: bool = True


can_manage_extended_fields = permissions.may_manage_extended_fields


def _require_admin(actor: User) -> None:
    permissions.may_manage_extended_fields.require(actor)


def extended_field_validate(
    data: ExtendedFieldInput, *, instance: ExtendedField | None = None
) -> dict[str, Any]:
    """The cleaned values, or a ServiceError with every field error at once."""
    errors: dict[str, list[str]] = {}
    key = (data.key or "").strip()
    if instance is not None and instance.pk is not None and key != instance.key:
        errors["key"] = ["字段键创建后不能修改（已保存的工单按它存值）"]
    elif not KEY.match(key):
        errors["key"] = ["字段键须以小写字母开头，只含小写字母、数字和下划线，最多40个字符"]
    label = (data.label or "").strip()
    if not label or len(label) > 50:
        errors["label"] = ["请填写显示名称（最多50个字）"]
    if data.field_type not in ExtendedFieldType.values:
        errors["field_type"] = ["字段类型无效，可选：" + "、".join(ExtendedFieldType.values)]
    if data.bureau is not None and (data.bureau.kind != UnitKind.BUREAU or not data.bureau.is_active):
        errors["bureau"] = ["请选择启用的职能局"]
    if data.case_type is not None and (
        data.case_type.kind != DictKind.CASE_TYPE or not data.case_type.is_active
    ):
        errors["case_type"] = ["请选择启用的诉求类型"]
    choices: list[str] = []
    raw = data.choices if isinstance(data.choices, list) else None
    if raw is None or not all(isinstance(c, str | int | float) and not isinstance(c, bool) for c in raw):
        errors["choices"] = ["可选项应为文字列表"]
    else:
        choices = [str(c).strip() for c in raw]
        if data.field_type == ExtendedFieldType.CHOICE:
            if not choices or len(choices) > MAX_CHOICES:
                errors["choices"] = [f"选项字段须有1至{MAX_CHOICES}个可选项"]
            elif any(not c or len(c) > 50 for c in choices) or len(set(choices)) != len(choices):
                errors["choices"] = ["可选项不能为空、重复或超过50个字"]
        elif choices:
            errors["choices"] = ["只有选项字段可以有可选项"]
    if data.sort_order is None or not 0 <= int(data.sort_order) <= 1_000_000:
        errors["sort_order"] = ["排序应为0至1000000的整数"]
    if "key" not in errors and data.is_active:
        clash = ExtendedField.objects.filter(key=key, is_active=True)
        if instance is not None and instance.pk is not None:
            clash = clash.exclude(pk=instance.pk)
        if data.bureau is not None:
            clash = clash.filter(Q(bureau=data.bureau) | Q(bureau__isnull=True))
        if data.case_type is not None:
            clash = clash.filter(Q(case_type=data.case_type) | Q(case_type__isnull=True))
        if clash.exists():
            errors["key"] = ["同一职能局和诉求类型下已有启用的同名字段键"]
    if errors:
        raise ServiceError(_("扩展字段定义有误"), field_errors=errors)
    return {
        "key": key,
        "label": label,
        "field_type": data.field_type,
        "bureau": data.bureau,
        "case_type": data.case_type,
        "required": bool(data.required),
        "choices": choices if data.field_type == ExtendedFieldType.CHOICE else [],
        "sort_order": int(data.sort_order),
        "is_active": bool(data.is_active),
    }


def extended_field_create(*, actor: User, data: ExtendedFieldInput) -> ExtendedField:
    _require_admin(actor)
    with transaction.atomic():
        values = extended_field_validate(data)
        definition = ExtendedField.objects.create(**values)
        audit_record(actor=actor, action="create", obj=definition, summary=f"新增扩展字段 {definition.label}")
    return definition


def extended_field_update(
    *, actor: User, definition: ExtendedField, data: ExtendedFieldInput
) -> ExtendedField:
    _require_admin(actor)
    with transaction.atomic():
        current = ExtendedField.objects.select_for_update().get(pk=definition.pk)
        values = extended_field_validate(data, instance=current)
        changes = {
            name: [_plain(getattr(current, name)), _plain(value)]
            for name, value in values.items()
            if getattr(current, name) != value
        }
        for name, value in values.items():
            setattr(current, name, value)
        current.save()
        audit_record(
            actor=actor,
            action="update",
            obj=current,
            summary=f"修改扩展字段 {current.label}",
            changes=changes,
        )
    return current


def extended_field_deactivate(*, actor: User, definition: ExtendedField) -> ExtendedField:
    _require_admin(actor)
    with transaction.atomic():
        definition.is_active = False
        definition.save(update_fields=["is_active"])
        audit_record(actor=actor, action="update", obj=definition, summary=f"停用扩展字段 {definition.label}")
    return definition


def extended_field_list(*, user: User) -> QuerySet[ExtendedField]:
    _require_admin(user)
    return ExtendedField.objects.select_related("bureau", "case_type").order_by("sort_order", "id")


def _plain(value: Any) -> Any:
    return value.pk if hasattr(value, "pk") else value
