from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import AuditLog, DictItem


@admin.register(DictItem)
class DictItemAdmin(admin.ModelAdmin):
    list_display = ["kind", "code", "name", "rank", "sort_order", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name"]


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ["at", "actor", "action", "object_type", "object_id", "summary", "ip_address"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id", "summary"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
