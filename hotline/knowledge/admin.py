from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from hotline.common.audit import audit_record
from hotline.common.errors import ServiceError

from . import services
from .models import Directory, Grant, Item, ItemVersion, Space, SynonymGroup
from .permissions import bump_generation
from .text import split_words


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown for looking things up only. Directories (their paths and grants), items and versions are written
    through the knowledge services on the 知识库 screens (`/kb/`): paths and depths, sanitised content, review,
    the search index and the permission cache stay right only that way."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Space)
class SpaceAdmin(admin.ModelAdmin):
    """Spaces are created through `space_create` (audit, permission cache); changes refresh the cache."""

    list_display = ["name", "code", "owner_unit", "is_active"]
    filter_horizontal = ["admins"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # switch a space off instead

    def save_model(self, request: HttpRequest, obj: Space, form: forms.ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            audit_record(actor=request.user, action="update", obj=obj, summary=f"修改知识空间 {obj.name}")
            return
        try:
            created = services.space_create(
                actor=request.user,  # type: ignore[arg-type]
                name=form.cleaned_data["name"],
                code=form.cleaned_data["code"],
                description=form.cleaned_data.get("description") or "",
                owner_unit=form.cleaned_data.get("owner_unit"),
            )
        except ServiceError as error:
            raise PermissionDenied(error.message) from error
        obj.pk = created.pk
        obj._state.adding = False

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        bump_generation()


class GrantInline(admin.TabularInline):
    model = Grant
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Directory)
class DirectoryAdmin(ReadOnlyAdmin):
    list_display = ["name", "space", "depth", "path", "pinyin_initials"]
    list_filter = ["space", "depth"]
    search_fields = ["name", "pinyin_full", "pinyin_initials"]
    inlines = [GrantInline]


@admin.register(Item)
class ItemAdmin(ReadOnlyAdmin):
    list_display = ["title", "directory", "state", "published_at", "view_count"]
    list_filter = ["state", "space", "is_public"]
    search_fields = ["title", "keywords"]
    exclude = ["content"]  # shown on the item page, sanitised


@admin.register(ItemVersion)
class ItemVersionAdmin(ReadOnlyAdmin):
    list_display = ["item", "number", "status", "submitted_by", "submitted_at", "reviewed_by"]
    list_filter = ["status"]
    exclude = ["content"]


class SynonymGroupForm(forms.ModelForm):
    class Meta:
        model = SynonymGroup
        fields = ["words", "note", "is_active"]

    def clean_words(self) -> str:
        words = split_words(self.cleaned_data["words"])
        if len(words) < 2:
            raise ValidationError(_("至少填写两个词"))
        bad = [w for w in words if len(w) > 20]
        if bad:
            raise ValidationError(_("每个词最多20个字：%(words)s") % {"words": "、".join(bad)})
        return "，".join(words)


@admin.register(SynonymGroup)
class SynonymGroupAdmin(admin.ModelAdmin):
    form = SynonymGroupForm
    list_display = ["words", "note", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["words", "note"]
