"""Django admin pages that show personal data (citizens, numbers, blacklist, outbox addresses) are audited like
the screens (ORG-3): a list page records who, which filter and how many rows; a record page records the record.
The id card stays encrypted (the admin shows the stored ciphertext, never the number)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from .audit import audit_access, audit_record


class PersonalDataAdminMixin(admin.ModelAdmin):
    audit_label = "后台查看"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", None) or {}
        cl = changelist.get("cl")
        if request.method == "GET" and cl is not None:
            audit_access(
                actor=request.user,
                object_type=self.model._meta.label_lower,
                summary=f"{self.audit_label}{self.model._meta.verbose_name}列表 {len(cl.result_list)} 行",
                filters=dict(request.GET.items()),
                rows=len(cl.result_list),
            )
        return response

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        obj = (getattr(response, "context_data", None) or {}).get("original")
        if request.method == "GET" and obj is not None:
            audit_record(
                actor=request.user,
                action="view",
                obj=obj,
                summary=f"{self.audit_label}{self.model._meta.verbose_name} {obj}",
            )
        return response
