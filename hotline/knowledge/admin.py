from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import ApiClient, Directory, Grant, Item, ItemVersion, Space, SynonymGroup
from .text import split_words


@admin.register(Space)
class SpaceAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "owner_unit", "is_active"]
    filter_horizontal = ["admins"]


class GrantInline(admin.TabularInline):
    model = Grant
    extra = 0
    autocomplete_fields = ["unit"]


@admin.register(Directory)
class DirectoryAdmin(admin.ModelAdmin):
    list_display = ["name", "space", "depth", "path", "pinyin_initials"]
    list_filter = ["space", "depth"]
    search_fields = ["name", "pinyin_full", "pinyin_initials"]
    readonly_fields = ["path", "depth", "pinyin_full", "pinyin_initials", "pinyin_syllables"]
    inlines = [GrantInline]


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["title", "directory", "state", "published_at", "view_count"]
    list_filter = ["state", "space", "is_public"]
    search_fields = ["title", "keywords"]
    readonly_fields = [
        "published_version",
        "view_count",
        "favourite_count",
        "helpful_count",
        "unhelpful_count",
    ]


@admin.register(ItemVersion)
class ItemVersionAdmin(admin.ModelAdmin):
    list_display = ["item", "number", "status", "submitted_by", "submitted_at", "reviewed_by"]
    list_filter = ["status"]


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ["name", "key_prefix", "public_only", "is_active", "last_used_at"]
    readonly_fields = ["key_prefix", "key_hash", "last_used_at"]


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
