from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Unit, User, UserRole


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "parent", "is_vertical", "is_active"]
    list_filter = ["kind", "is_vertical", "is_active"]
    search_fields = ["name", "code", "pinyin"]
    readonly_fields = ["path", "depth"]


class UserRoleInline(admin.TabularInline):
    model = UserRole
    extra = 1


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "full_name", "unit", "is_active"]
    search_fields = ["username", "full_name"]
    inlines = [UserRoleInline]
    fieldsets = (*(BaseUserAdmin.fieldsets or ()), ("单位", {"fields": ("full_name", "unit", "phone")}))
