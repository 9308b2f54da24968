from django.contrib import admin

from hotline.common.admin_audit import PersonalDataAdminMixin

from .models import DeliveryLog, MessageTemplate, Outbox


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "subject", "is_active"]
    search_fields = ["code", "name"]


class DeliveryLogInline(admin.TabularInline):
    model = DeliveryLog
    extra = 0
    readonly_fields = ["at", "event", "detail"]


@admin.register(Outbox)
class OutboxAdmin(PersonalDataAdminMixin):
    list_display = [
        "created_at",
        "channel",
        "recipient",
        "audience",
        "address",
        "subject",
        "status",
        "attempts",
        "sent_at",
    ]
    list_filter = ["channel", "status"]
    search_fields = ["address", "subject"]
    inlines = [DeliveryLogInline]
