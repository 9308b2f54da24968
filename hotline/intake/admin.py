from django.contrib import admin

from .models import KeywordRoute


@admin.register(KeywordRoute)
class KeywordRouteAdmin(admin.ModelAdmin):
    list_display = ["keyword", "case_type", "queue", "anywhere", "order", "is_active"]
    list_editable = ["order", "is_active"]
    list_filter = ["is_active", "case_type", "queue"]
    search_fields = ["keyword"]
