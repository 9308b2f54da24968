"""Django admin: assessment schemes and their indicators are data the office edits; saved reports are read here."""

from __future__ import annotations

from django.contrib import admin

from .kpi.models import Indicator, Scheme
from .reports.models import SavedReport


class IndicatorInline(admin.TabularInline):
    model = Indicator
    extra = 1


@admin.register(Scheme)
class SchemeAdmin(admin.ModelAdmin):
    list_display = ["name", "depth", "is_active"]
    inlines = [IndicatorInline]


@admin.register(SavedReport)
class SavedReportAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "unit", "shared", "updated_at"]
    readonly_fields = ["owner", "unit", "params", "created_at", "updated_at"]
