from django.contrib import admin

from .models import Alert, CalendarException, EscalationRule, OfficeHours, TimeLimit, Urge


@admin.register(CalendarException)
class CalendarExceptionAdmin(admin.ModelAdmin):
    list_display = ["date", "is_workday", "name"]
    list_filter = ["is_workday"]
    date_hierarchy = "date"
    search_fields = ["name"]


@admin.register(OfficeHours)
class OfficeHoursAdmin(admin.ModelAdmin):
    list_display = ["start", "end"]


@admin.register(TimeLimit)
class TimeLimitAdmin(admin.ModelAdmin):
    list_display = [
        "stage",
        "case_type",
        "urgency",
        "citizen_level",
        "amount",
        "unit",
        "max_extension_days",
        "is_active",
    ]
    list_filter = ["stage", "is_active"]


@admin.register(EscalationRule)
class EscalationRuleAdmin(admin.ModelAdmin):
    list_display = [
        "stage",
        "kind",
        "offset_days",
        "recipient_roles",
        "notify_parent_unit",
        "channels",
        "is_active",
    ]
    list_filter = ["stage", "kind"]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["raised_at", "kind", "case", "unit"]
    list_filter = ["kind"]
    raw_id_fields = ["clock", "case", "unit"]


@admin.register(Urge)
class UrgeAdmin(admin.ModelAdmin):
    list_display = ["created_at", "case", "assignment", "actor", "message"]
    raw_id_fields = ["case", "assignment"]
