from typing import Any

from django.contrib import admin
from django.contrib.auth.hashers import identify_hasher, make_password

from hotline.common.admin_audit import PersonalDataAdminMixin

from .models import Agent, Call, CallControl, IvrFlow, Number, Queue, Recording


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "strategy", "max_wait_seconds", "overflow_queue"]


@admin.register(Number)
class NumberAdmin(admin.ModelAdmin):
    list_display = ["number", "name", "flow", "ivr_flow", "queue", "is_active"]


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["agent_id", "extension", "user", "state", "state_reason", "state_since"]
    fields = ["agent_id", "password", "extension", "user", "skills", "auto_answer"]
    filter_horizontal = ["skills"]

    def save_model(self, request: Any, obj: Agent, form: Any, change: bool) -> None:
        try:
            identify_hasher(obj.password)
        except ValueError:  # typed in clear: store it hashed
            obj.password = make_password(obj.password)
        super().save_model(request, obj, form, change)


@admin.register(Call)
class CallAdmin(PersonalDataAdminMixin, admin.ModelAdmin):  # callers' numbers: audited (ORG-4)
    list_display = [
        "call_id",
        "caller",
        "dialed",
        "status",
        "disposition",
        "agent",
        "started_at",
        "time_to_person_ms",
    ]
    list_filter = ["status", "disposition"]
    readonly_fields = [f.name for f in Call._meta.fields]

    def has_add_permission(self, request: Any) -> bool:
        return False


@admin.register(Recording)
class RecordingAdmin(PersonalDataAdminMixin, admin.ModelAdmin):  # recordings of citizens: audited
    list_display = ["call", "path", "started_at", "duration_ms", "size_bytes"]
    readonly_fields = ["call", "path", "started_at", "ended_at", "duration_ms", "size_bytes"]

    def has_add_permission(self, request: Any) -> bool:
        return False


@admin.register(IvrFlow)
class IvrFlowAdmin(admin.ModelAdmin):
    """Flows are edited (versioned, validated, published) at /telephony/ivr/; here only their names."""

    list_display = ["code", "name", "description", "created_at"]
    fields = ["name", "description"]

    def has_add_permission(self, request: Any) -> bool:
        return False


@admin.register(CallControl)
class CallControlAdmin(admin.ModelAdmin):
    list_display = ["call", "kind", "agent", "actor", "target", "at"]
    list_filter = ["kind"]
    readonly_fields = ["call", "kind", "agent", "actor", "target", "leg_id", "at"]

    def has_add_permission(self, request: Any) -> bool:
        return False
