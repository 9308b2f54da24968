from django.contrib import admin

from .models import ApiClient, Directory, Grant, Item, ItemVersion, Space


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
