from django.contrib import admin

from hotline.common.admin_audit import PersonalDataAdminMixin

from .models import BlacklistEntry, Citizen, CitizenPhone, ImportJob, RelatedContact, ScreenPopLayout


class CitizenPhoneInline(admin.TabularInline):
    model = CitizenPhone
    extra = 0


class RelatedContactInline(admin.TabularInline):
    model = RelatedContact
    extra = 0


@admin.register(Citizen)
class CitizenAdmin(PersonalDataAdminMixin):
    list_display = ["name", "phone", "level", "created_at"]
    list_filter = ["level"]
    search_fields = ["name", "phone", "phones__number"]
    inlines = [CitizenPhoneInline, RelatedContactInline]
    exclude = ["id_card_encrypted", "id_card_hash"]  # never shown, even encrypted


@admin.register(BlacklistEntry)
class BlacklistEntryAdmin(PersonalDataAdminMixin):
    list_display = ["number", "direction", "treatment", "expires_at", "reason", "created_at"]
    list_filter = ["direction", "treatment"]
    search_fields = ["number", "reason"]
    readonly_fields = ["created_by", "created_at", "updated_at"]


@admin.register(ScreenPopLayout)
class ScreenPopLayoutAdmin(admin.ModelAdmin):
    list_display = ["prefix", "name", "is_active"]
    search_fields = ["prefix", "name"]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = [
        "kind",
        "file_name",
        "actor",
        "total_rows",
        "created_count",
        "updated_count",
        "rejected_count",
    ]
    list_filter = ["kind"]
    readonly_fields = [f.name for f in ImportJob._meta.fields]
