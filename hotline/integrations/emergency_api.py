"""The 110 / 119 / 120 / 122 platform acknowledges a hand-over and reports its outcome (API-4)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from . import emergency
from .auth import signed_call_of
from .models import EmergencyHandover, Partner
from .partner_api import REFUSALS, PartnerApiView


class FeedbackInput(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[EmergencyHandover.Status.ACKNOWLEDGED.value, EmergencyHandover.Status.FINISHED.value]
    )
    external_id = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


_HANDOVER = inline_serializer(
    "EmergencyHandover",
    {
        "handover_id": serializers.IntegerField(),
        "case_number": serializers.CharField(),
        "service": serializers.CharField(),
        "status": serializers.CharField(),
        "requested_at": serializers.DateTimeField(),
        "acknowledged_at": serializers.DateTimeField(allow_null=True),
        "handover_seconds": serializers.IntegerField(allow_null=True),
        "external_id": serializers.CharField(),
    },
)


def handover_row(handover: EmergencyHandover) -> dict[str, Any]:
    return {
        "handover_id": handover.pk,
        "case_number": handover.case.number,
        "service": handover.service,
        "status": handover.status,
        "requested_at": handover.requested_at.isoformat(),
        "acknowledged_at": handover.acknowledged_at.isoformat() if handover.acknowledged_at else None,
        "handover_seconds": handover.handover_seconds,
        "external_id": handover.external_id,
    }


class EmergencyFeedbackApi(PartnerApiView):
    """POST /partner/emergency/{id}/feedback/ — `{"status": "acknowledged"|"finished", "external_id", "note"}`.
    Only hand-overs sent to the calling platform exist for it (404 otherwise); a repeated report is harmless."""

    required_scope = Partner.Scope.CASES_RESULT

    @extend_schema(
        operation_id="partner_emergency_feedback",
        request=FeedbackInput,
        responses={200: _HANDOVER, **REFUSALS, 404: None},
        tags=["partners"],
    )
    def post(self, request: Request, pk: int) -> Any:
        body = self.partner_data(request)
        data = FeedbackInput(data=body if isinstance(body, dict) else {})
        if not data.is_valid():
            raise ValidationError(data.errors)
        handover = emergency.emergency_feedback(
            partner=signed_call_of(request).partner,
            handover_id=pk,
            feedback=emergency.Feedback(**data.validated_data),
        )
        return self.partner_response(request, handover_row(handover))
