"""Django admin for units and users. Every unit write goes through the orgs services (paths, rules, audit);
retiring and merging has its own screen that shows what happens before anyone confirms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from hotline.common.errors import ServiceError

from . import services
from .models import Unit, User, UserRole

UNIT_FIELDS = ["name", "code", "kind", "parent", "is_vertical", "phone", "sort_order"]


class UnitAdminForm(forms.ModelForm):
    class Meta:
        model = Unit
        fields = UNIT_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "parent" in self.fields:
            self.fields["parent"].queryset = Unit.objects.filter(is_active=True)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors or "kind" not in data:
            return data
        try:
            services.unit_check_placement(
                kind=data["kind"], parent=data.get("parent"), unit=self.instance if self.instance.pk else None
            )
        except ServiceError as error:
            raise ValidationError(
                {field: messages_ for field, messages_ in error.field_errors.items()} or error.message
            ) from error
        return data


class RetireForm(forms.Form):
    merged_into = forms.ModelChoiceField(
        queryset=Unit.objects.none(), required=False, label=_("并入单位（不选则仅撤销）")
    )

    def __init__(self, *args: Any, unit: Unit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["merged_into"].queryset = Unit.objects.filter(is_active=True, kind=unit.kind).exclude(  # type: ignore[attr-defined]
            path__startswith=unit.path
        )


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    form = UnitAdminForm
    list_display = ["name", "code", "kind", "parent", "path", "is_vertical", "is_active", "retire_link"]
    list_filter = ["kind", "is_vertical", "is_active"]
    search_fields = ["name", "code", "pinyin"]

    def get_readonly_fields(self, request: HttpRequest, obj: Unit | None = None) -> list[str]:
        if obj is not None and not obj.is_active:
            return [*UNIT_FIELDS, "retired_at", "merged_into"]
        return []

    def get_fields(self, request: HttpRequest, obj: Unit | None = None) -> Any:
        if obj is not None and not obj.is_active:
            return [*UNIT_FIELDS, "retired_at", "merged_into"]
        return UNIT_FIELDS

    def has_delete_permission(self, request: HttpRequest, obj: Unit | None = None) -> bool:
        return False  # units are retired or merged, never deleted: their cases and history stay

    @admin.display(description=_("撤销/合并"))
    def retire_link(self, unit: Unit) -> str:
        if not unit.is_active:
            return str(_("已撤销"))
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:orgs_unit_retire", args=[unit.pk]), _("撤销/合并")
        )

    def save_model(self, request: HttpRequest, obj: Unit, form: forms.ModelForm, change: bool) -> None:
        if change and not obj.is_active:
            return  # a retired unit is read-only
        values = {name: form.cleaned_data.get(name) for name in UNIT_FIELDS}
        values["phone"] = values["phone"] or ""
        values["sort_order"] = values["sort_order"] or 0
        if change:
            services.unit_update(unit=obj, actor=request.user, **values)  # type: ignore[arg-type]
        else:
            created = services.unit_create(actor=request.user, **values)  # type: ignore[arg-type]
            obj.pk = created.pk
            obj.path, obj.depth = created.path, created.depth

    def get_urls(self) -> list[URLPattern]:
        retire = path(
            "<int:pk>/retire/", self.admin_site.admin_view(self.retire_view), name="orgs_unit_retire"
        )
        return [retire, *super().get_urls()]

    def retire_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        unit = get_object_or_404(Unit, pk=pk)
        form = RetireForm(request.POST or None, unit=unit)
        if request.method == "POST" and form.is_valid():
            merged_into = form.cleaned_data["merged_into"]
            try:
                services.unit_retire(unit=unit, actor=request.user, merged_into=merged_into)  # type: ignore[arg-type]
            except ServiceError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(request, _("单位已撤销，历史记录均已保留。"), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:orgs_unit_change", args=[unit.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("撤销或合并单位"),
            "unit": unit,
            "impact": services.unit_retire_impact(unit=unit) if unit.is_active else None,
            "form": form,
        }
        return TemplateResponse(request, "admin/orgs/unit/retire.html", context)


class UserRoleInline(admin.TabularInline):
    model = UserRole
    extra = 1


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "full_name", "unit", "is_active"]
    search_fields = ["username", "full_name"]
    inlines = [UserRoleInline]
    fieldsets = (*(BaseUserAdmin.fieldsets or ()), ("单位", {"fields": ("full_name", "unit", "phone")}))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "unit":
            kwargs["queryset"] = Unit.objects.filter(is_active=True)  # no new users in a retired unit
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
