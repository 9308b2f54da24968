"""A bureau's own case system works its unit's assignments through the API (API-3): it lists what was sent to its
unit and signs for, records, reports, returns or asks for more time — each through the same action entry and
service as a person on the case page, as the partner's service account, so the same rules and the same
timeline apply. Anything not sent to its unit is 404."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from hotline.cases import actions
from hotline.cases.models import Assignment
from hotline.cases.selectors import assignment_get, worklist
from hotline.common.errors import NotFound, ServiceError
from hotline.orgs.models import User

from .auth import PartnerRefused, signed_call_of
from .models import Partner
from .partner_api import REFUSALS, PartnerApiView
from .webhooks import case_payload_fields

# What a bureau system may do on its unit's assignments; the office's own actions stay with people.
PARTNER_ACTIONS = ("sign-for", "handling-records", "report", "return", "extension", "send-back", "opinion")

_ASSIGNMENT = inline_serializer(
    "PartnerAssignment",
    {
        "id": serializers.IntegerField(),
        "role": serializers.CharField(),
        "status": serializers.CharField(),
        "due_at": serializers.DateTimeField(allow_null=True),
        "case": serializers.JSONField(),
        "version": serializers.IntegerField(),
    },
)


def _service_user(request: Request) -> User:
    partner = signed_call_of(request).partner
    if partner.service_user is None:
        raise PartnerRefused("scope", _("接入系统未对应单位"), 403, partner)
    return partner.service_user


def assignment_row(assignment: Assignment, user: User) -> dict[str, Any]:
    case = assignment.case
    return {
        "id": assignment.pk,
        "role": assignment.role,
        "status": assignment.status,
        "due_at": assignment.due_at.isoformat() if assignment.due_at else None,
        "case": case_payload_fields(case, user),
        "version": case.version,
    }


class PartnerAssignmentListApi(PartnerApiView):
    required_scope = Partner.Scope.CASES_RESULT

    @extend_schema(
        operation_id="partner_assignments", responses={200: _ASSIGNMENT, **REFUSALS}, tags=["partners"]
    )
    def get(self, request: Request) -> Any:
        user = _service_user(request)
        rows = worklist(user=user, tab="open").select_related("case__case_type", "case__urgency")[:500]
        return self.partner_response(request, [assignment_row(a, user) for a in rows])


class PartnerAssignmentActionApi(PartnerApiView):
    """POST /partner/assignments/{id}/{action}/ with the body the staff API takes for that action."""

    required_scope = Partner.Scope.CASES_RESULT

    @extend_schema(
        operation_id="partner_assignment_action",
        request={"application/json": {"type": "object"}},
        responses={200: _ASSIGNMENT, **REFUSALS, 404: None, 409: None},
        tags=["partners"],
    )
    def post(self, request: Request, pk: int, action: str) -> Any:
        user = _service_user(request)
        entry = actions.ASSIGNMENT_ACTIONS.get(action)
        if action not in PARTNER_ACTIONS or entry is None:
            raise NotFound(_("不支持的操作"))
        body = self.partner_data(request)
        assignment = assignment_get(user=user, pk=pk)
        data = entry.input(data=body if isinstance(body, dict) else {})
        if not data.is_valid():
            raise ValidationError(data.errors)
        entry.perform(assignment, actor=user, data=data.validated_data)
        assignment.refresh_from_db()
        assignment.case.refresh_from_db()
        return self.partner_response(request, assignment_row(assignment, user))


__all__ = ["PARTNER_ACTIONS", "PartnerAssignmentActionApi", "PartnerAssignmentListApi", "ServiceError"]
