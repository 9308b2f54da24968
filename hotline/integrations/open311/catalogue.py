"""The services a civic app may request: the case types, with the extended fields an administrator defined for
a type (any bureau) as the service's attributes."""

from __future__ import annotations

from typing import Any

from hotline.cases.models import ExtendedField, ExtendedFieldType
from hotline.common.models import DictItem, DictKind

DATATYPES: dict[str, str] = {
    ExtendedFieldType.TEXT: "string",
    ExtendedFieldType.NUMBER: "number",
    ExtendedFieldType.DATE: "datetime",
    ExtendedFieldType.CHOICE: "singlevaluelist",
}


def _types() -> list[DictItem]:
    return list(DictItem.objects.filter(kind=DictKind.CASE_TYPE, is_active=True).order_by("sort_order", "id"))


def case_type(code: str) -> DictItem | None:
    return DictItem.objects.filter(kind=DictKind.CASE_TYPE, is_active=True, code=code).first()


def _fields(item: DictItem) -> list[ExtendedField]:
    return list(
        ExtendedField.objects.filter(is_active=True, bureau__isnull=True, case_type=item).order_by(
            "sort_order", "id"
        )
    )


def services() -> list[dict[str, Any]]:
    with_fields = set(
        ExtendedField.objects.filter(
            is_active=True, bureau__isnull=True, case_type__isnull=False
        ).values_list("case_type_id", flat=True)
    )
    return [
        {
            "service_code": item.code,
            "service_name": item.name,
            "description": item.name,
            "metadata": item.pk in with_fields,
            "type": "realtime",
            "keywords": "",
            "group": "12345",
        }
        for item in _types()
    ]


def definition(code: str) -> dict[str, Any] | None:
    item = case_type(code)
    if item is None:
        return None
    attributes = []
    for order, field in enumerate(_fields(item), start=1):
        attribute: dict[str, Any] = {
            "variable": True,
            "code": field.key,
            "datatype": DATATYPES.get(field.field_type, "string"),
            "required": field.required,
            "datatype_description": "",
            "order": order,
            "description": field.label,
        }
        if field.field_type == ExtendedFieldType.CHOICE:
            attribute["values"] = [{"key": str(c), "name": str(c)} for c in field.choices]
        attributes.append(attribute)
    return {"service_code": item.code, "attributes": attributes}
