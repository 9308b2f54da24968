"""Django admin for the catalogue: edits go through the services (audit, validation); imports, model versions
and suggestions are read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from hotline.common.errors import ServiceError

from . import services
from .models import CatalogueImport, Matter, ModelVersion, Suggestion


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Matter)
class MatterAdmin(admin.ModelAdmin):
    list_display = ["name", "parent", "level", "unit", "location_rule", "is_active"]
    list_filter = ["level", "location_rule", "is_active"]
    search_fields = ["name", "keywords"]
    fields = ["name", "parent", "unit", "location_rule", "keywords", "examples", "is_active"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # retire a matter (启用 off): suggestions keep pointing at it

    def save_model(self, request: HttpRequest, obj: Matter, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            if change:
                services.matter_update(
                    actor=request.user,  # type: ignore[arg-type]
                    matter=Matter.objects.get(pk=obj.pk),
                    name=data["name"],
                    parent=data.get("parent"),
                    unit=data.get("unit"),
                    location_rule=data["location_rule"],
                    keywords=data.get("keywords", ""),
                    examples=data.get("examples", ""),
                    is_active=data.get("is_active", True),
                )
            else:
                created = services.matter_create(
                    actor=request.user,  # type: ignore[arg-type]
                    name=data["name"],
                    parent=data.get("parent"),
                    unit=data.get("unit"),
                    location_rule=data["location_rule"],
                    keywords=data.get("keywords", ""),
                    examples=data.get("examples", ""),
                )
                obj.pk = created.pk
        except ServiceError as exc:
            messages.error(request, exc.message)
            raise


@admin.register(CatalogueImport)
class CatalogueImportAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "file_name",
        "actor",
        "rows_total",
        "rows_created",
        "rows_updated",
        "rows_failed",
    ]


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ["version", "created_at", "trained_cases", "heldout_cases", "heldout_correct", "is_active"]


@admin.register(Suggestion)
class SuggestionAdmin(ReadOnlyAdmin):
    list_display = ["case", "unit", "source", "confidence", "outcome", "final_unit", "decided_at"]
    list_filter = ["source", "outcome"]
