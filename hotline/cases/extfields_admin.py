"""Django admin for extended intake fields: the form validates with the service's rules and saving goes
through the services (audit row, key fixed once created); fields are switched off, never deleted."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from hotline.common.errors import ServiceError
from hotline.common.models import DictItem, DictKind
from hotline.orgs.models import Unit, UnitKind

from .extfields import (
    ExtendedFieldInput,
    can_manage_extended_fields,
    extended_field_create,
    extended_field_update,
    extended_field_validate,
)
from .models import ExtendedField


class ExtendedFieldForm(forms.ModelForm):
    choices = forms.CharField(
        label=_("可选项"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("选项字段每行一个可选项；其他类型留空"),
    )

    class Meta:
        model = ExtendedField
        fields = [
            "key",
            "label",
            "field_type",
            "bureau",
            "case_type",
            "required",
            "choices",
            "sort_order",
            "is_active",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["bureau"].queryset = Unit.objects.filter(kind=UnitKind.BUREAU, is_active=True)  # type: ignore[attr-defined]
        self.fields["case_type"].queryset = DictItem.objects.filter(kind=DictKind.CASE_TYPE, is_active=True)  # type: ignore[attr-defined]
        if self.instance.pk:
            self.fields["key"].disabled = True
            self.initial["choices"] = "\n".join(self.instance.choices or [])

    def clean_choices(self) -> list[str]:
        raw = self.cleaned_data.get("choices") or ""
        if raw.strip().startswith("["):
            try:
                value = json.loads(raw)
            except ValueError as exc:
                raise ValidationError(_("可选项格式有误")) from exc
            return value if isinstance(value, list) else []
        return [line.strip() for line in raw.splitlines() if line.strip()]

    def to_input(self) -> ExtendedFieldInput:
        d = self.cleaned_data
        return ExtendedFieldInput(
            key=d.get("key") or "",
            label=d.get("label") or "",
            field_type=d.get("field_type") or "",
            bureau=d.get("bureau"),
            case_type=d.get("case_type"),
            required=bool(d.get("required")),
            choices=d.get("choices") or [],
            sort_order=d.get("sort_order") or 0,
            is_active=bool(d.get("is_active")),
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            extended_field_validate(self.to_input(), instance=self.instance if self.instance.pk else None)
        except ServiceError as error:
            raise ValidationError(dict(error.field_errors) or error.message) from error
        return data


@admin.register(ExtendedField)
class ExtendedFieldAdmin(admin.ModelAdmin):
    form = ExtendedFieldForm
    list_display = [
        "label",
        "key",
        "field_type",
        "bureau",
        "case_type",
        "required",
        "is_active",
        "sort_order",
    ]
    list_filter = ["field_type", "is_active", "bureau", "case_type"]
    search_fields = ["label", "key"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_manage_extended_fields(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_manage_extended_fields(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return can_manage_extended_fields(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_manage_extended_fields(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # switch a field off instead: saved cases keep values under its key

    def save_model(
        self, request: HttpRequest, obj: ExtendedField, form: forms.ModelForm, change: bool
    ) -> None:
        data = form.to_input()  # type: ignore[attr-defined]
        if change:
            extended_field_update(actor=request.user, definition=obj, data=data)  # type: ignore[arg-type]
        else:
            created = extended_field_create(actor=request.user, data=data)  # type: ignore[arg-type]
            obj.pk = created.pk
