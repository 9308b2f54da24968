from django.contrib import admin

from .models import Citizen


@admin.register(Citizen)
class CitizenAdmin(admin.ModelAdmin):
    list_display = ["name", "phone", "level", "created_at"]
    list_filter = ["level"]
    search_fields = ["name", "phone"]
