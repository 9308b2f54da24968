"""The exchange with the superior 12345 platform and the police platform (seed 4.5, API-4): the documented JSON
contract. They POST a case to /partner/cases/ and read its progress at /partner/cases/{external_id}/; our status
reports go to their webhook subscriptions."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from hotline.common.errors import NotFound

from .auth import signed_call_of
from .external import external_case_get, external_case_receive
from .models import Partner
from .partner_api import REFUSALS, PartnerApiView
from .webhooks import case_payload_fields


class CallerInput(serializers.Serializer):
    name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ExternalCaseInput(serializers.Serializer):
    external_id = serializers.RegexField(r"^[A-Za-z0-9_.:-]{1,64}$", help_text="对方平台的工单编号")
    case_type = serializers.CharField(max_length=32, help_text="诉求类型编码（见 /open311/v2/services.json）")
    urgency = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    title = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    content = serializers.CharField(max_length=5000)
    caller = CallerInput(required=False, default=dict)
    location = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    deadline = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ExternalCaseOutput(serializers.Serializer):
    external_id = serializers.CharField()
    number = serializers.CharField()
    status = serializers.CharField()
    created = serializers.BooleanField()
    case = serializers.JSONField()


class PartnerCaseReceiveApi(PartnerApiView):
    required_scope = Partner.Scope.CASES_RECEIVE

    @extend_schema(
        operation_id="partner_case_receive",
        request=ExternalCaseInput,
        responses={200: ExternalCaseOutput, 201: ExternalCaseOutput, **REFUSALS},
        tags=["partners"],
    )
    def post(self, request: Request) -> Any:
        partner = signed_call_of(request).partner
        data = ExternalCaseInput(data=self.partner_data(request))
        if not data.is_valid():
            raise ValidationError(data.errors)
        received = external_case_receive(partner=partner, data=dict(data.validated_data))
        return self.partner_response(
            request, _answer(partner, data.validated_data["external_id"], received.case, received.created),
            status=201 if received.created else 200,
        )  # fmt: skip


class PartnerCaseDetailApi(PartnerApiView):
    required_scope = Partner.Scope.CASES_READ

    @extend_schema(
        operation_id="partner_case_get",
        responses={200: ExternalCaseOutput, **REFUSALS, 404: None},
        tags=["partners"],
    )
    def get(self, request: Request, external_id: str) -> Any:
        partner = signed_call_of(request).partner
        case = external_case_get(partner=partner, external_id=external_id)
        if case is None:
            raise NotFound(_("没有这件来件"))
        return self.partner_response(request, _answer(partner, external_id, case, False))


def _answer(partner: Partner, external_id: str, case: Any, created: bool) -> dict[str, Any]:
    assert partner.service_user is not None
    return {
        "external_id": external_id,
        "number": case.number,
        "status": case.status,
        "created": created,
        "case": case_payload_fields(case, partner.service_user),
    }
