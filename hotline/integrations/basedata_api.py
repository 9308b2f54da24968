"""Base data for partner systems (API-3): units, users, dictionaries and citizens read and written as JSON.

`GET /partner/base-data/{kind}/` answers `{"kind", "rows": [...]}`; `POST` with `{"rows": [...], "dry_run": false}`
applies the rows through the same import as the screen and answers the row report. Writes act as the partner's
service account (audited with the partner's code). Citizens (personal data) need the `citizens` scope too."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request

from . import basedata
from .auth import PartnerRefused, signed_call_of
from .models import Partner
from .partner_api import REFUSALS, PartnerApiView

_ROWS = inline_serializer(
    "PartnerBaseData",
    {"kind": serializers.CharField(), "rows": serializers.ListField(child=serializers.JSONField())},
)
_REPORT = inline_serializer(
    "PartnerBaseDataReport",
    {
        "dry_run": serializers.BooleanField(),
        "total": serializers.IntegerField(),
        "created": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "rejected": serializers.IntegerField(),
        "errors": serializers.ListField(child=serializers.JSONField()),
    },
)


class PartnerBaseDataApi(PartnerApiView):
    required_scope = Partner.Scope.BASE_DATA

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        partner = signed_call_of(request).partner
        if kwargs.get("kind") in basedata.PERSONAL and Partner.Scope.CITIZENS not in partner.scopes:
            raise PartnerRefused("scope", _("未授权交换市民档案（个人信息）"), 403, partner)

    @extend_schema(
        operation_id="partner_base_data", responses={200: _ROWS, **REFUSALS, 400: None}, tags=["partners"]
    )
    def get(self, request: Request, kind: str) -> Any:
        partner = signed_call_of(request).partner
        rows = basedata.export_rows(kind=kind, actor=partner.service_user, via=f"（接入系统 {partner.code}）")
        return self.partner_response(request, {"kind": kind, "rows": rows})

    @extend_schema(
        operation_id="partner_base_data_import",
        request={"application/json": {"type": "object"}},
        responses={200: _REPORT, **REFUSALS},
        tags=["partners"],
    )
    def post(self, request: Request, kind: str) -> Any:
        partner = signed_call_of(request).partner
        data = self.partner_data(request)
        dry_run = bool(data.get("dry_run")) if isinstance(data, dict) else False
        report = basedata.import_json(
            kind=kind,
            data=data,
            actor=partner.service_user,
            dry_run=dry_run,
            via=f"（接入系统 {partner.code}）",
        )
        answer = report.as_dict()
        answer.pop("job", None)
        return self.partner_response(request, answer)
