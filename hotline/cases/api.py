"""Thin API views: parse, call one service or selector, render."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hotline.common.errors import NotFound
from hotline.common.throttles import AddressRateThrottle
from hotline.orgs.http import request_user as _user

from . import actions, lifecycle, masking, selectors, services
from . import filters as filters_
from . import outputs as o
from . import serializers as s
from .models import AssignmentRole, AssignmentStatus, Case, ExtensionRequest
from .public_lookup import LookupLocked, public_case_lookup


def _detail(request: Request, case_id: int, **extra: Any) -> Response:
    case = selectors.case_get_for_display(user=_user(request), pk=case_id)
    data = dict(s.CaseDetailOutput(case, context={"request": request}).data)
    data.update(extra)
    return Response(data)


class CaseListCreateApi(GenericAPIView):
    serializer_class = s.CaseListOutput

    @extend_schema(
        summary="工单查询（默认近一个月，按受理时间倒序）",
        parameters=[filters_.CaseFilterInput],
        responses=s.CaseListOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        params = request.query_params.copy()
        if "status" in params:
            params.setlist("status", [v for item in params.getlist("status") for v in item.split(",") if v])
        filters = filters_.CaseFilterInput(data=params)
        filters.is_valid(raise_exception=True)
        qs = selectors.case_search(user=_user(request), filters=filters.to_filters())
        page = self.paginate_queryset(qs)
        context: dict[str, Any] = {"request": request}
        data = s.CaseListOutput(page, many=True, context=context).data
        masking.record_view(
            user=_user(request),
            callers=list(context.get("_callers", {}).values()),
            what="工单查询",
            filters=dict(request.query_params.items()),
        )
        return self.get_paginated_response(data)

    @extend_schema(summary="登记工单（受理）", request=s.IntakeInput, responses={201: s.CaseCreatedOutput})
    def post(self, request: Request) -> Response:
        data = s.IntakeInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        result = services.case_intake(
            actor=_user(request),
            data=data.to_case_input(),
            action=v["action"],
            answer=v["answer"],
            not_accepted_reason=v["not_accepted_reason"],
            not_accepted_text=v["not_accepted_text"],
            attachments=v["attachments"],
            sms_template=v["sms_template"],
        )
        body = s.CaseCreatedOutput(result.case, context={"query_password": result.query_password}).data
        return Response(body, status=status.HTTP_201_CREATED)


class CaseDetailApi(APIView):
    @extend_schema(summary="工单详情", responses=s.CaseDetailOutput)
    def get(self, request: Request, pk: int) -> Response:
        case = selectors.case_get_for_display(user=_user(request), pk=pk)
        services.case_record_view(case=case, actor=_user(request))
        return Response(s.CaseDetailOutput(case, context={"request": request}).data)

    @extend_schema(summary="修改暂存或退回的工单", request=s.EditInput, responses=s.CaseDetailOutput)
    def patch(self, request: Request, pk: int) -> Response:
        case = selectors.case_get(user=_user(request), pk=pk)
        changes = request.data.dict() if hasattr(request.data, "dict") else dict(request.data)
        data = s.EditInput(data={**_case_fields(case), **changes})
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        version = v.pop("version", None)
        services.case_edit(
            case=case, actor=_user(request), expected_version=version, data=services.CaseInput(**v)
        )
        return _detail(request, pk)


def _case_fields(case: Case) -> dict[str, Any]:
    """The case's current values in the input shape, so PATCH may send only what changes."""
    values: dict[str, Any] = {
        name: getattr(case, name)
        for name in services.CaseInput.__dataclass_fields__
        if name != "citizen_id_card"
    }
    for name in ("case_type", "nature", "urgency", "secrecy"):
        item = getattr(case, name)
        values[name] = item.code if item else None
    for name in ("bureau", "location_unit"):
        values[name] = getattr(case, f"{name}_id")
    return values


class CaseTimelineApi(APIView):
    @extend_schema(summary="工单流转时间线", responses=s.EventOutput(many=True))
    def get(self, request: Request, pk: int) -> Response:
        selectors.case_require_visible(user=_user(request), pk=pk)
        return Response(s.EventOutput(selectors.case_timeline(case_id=pk), many=True).data)


class _ActionBase(APIView):
    case_action: ClassVar[actions.CaseAction]

    def run(self, request: Request, pk: int) -> Response:
        raise NotImplementedError


class CaseActionApi(_ActionBase):
    """POST /cases/{id}/<action>/: one lifecycle action; `_action_view` makes one subclass per action."""

    def run(self, request: Request, pk: int) -> Response:
        actor = _user(request)
        case = selectors.case_get(user=actor, pk=pk)
        data = self.case_action.input(data=request.data)
        data.is_valid(raise_exception=True)
        extra = self.case_action.perform(case, actor=actor, data=data.validated_data)
        return _detail(request, pk, **(extra or {}))


class AssignmentActionApi(_ActionBase):
    """POST /assignments/{id}/<action>/: one unit-level action; one subclass per action."""

    def run(self, request: Request, pk: int) -> Response:
        actor = _user(request)
        assignment = selectors.assignment_get(user=actor, pk=pk)
        data = self.case_action.input(data=request.data)
        data.is_valid(raise_exception=True)
        self.case_action.perform(assignment, actor=actor, data=data.validated_data)
        return _detail(request, assignment.case_id)


def _action_view(base: type[_ActionBase], action: actions.CaseAction) -> type[_ActionBase]:
    """A view class of its own for `action`, with its own `post` so its schema (summary, body) is its own."""

    @extend_schema(summary=action.summary, request=action.input, responses=s.CaseDetailOutput)
    def post(self: _ActionBase, request: Request, pk: int) -> Response:
        return self.run(request, pk)

    name = "".join(part.capitalize() for part in action.slug.split("-")) + base.__name__
    return type(name, (base,), {"case_action": action, "post": post, "__doc__": action.summary})


CASE_ACTION_VIEWS: dict[str, type[_ActionBase]] = {
    slug: _action_view(CaseActionApi, action) for slug, action in actions.CASE_ACTIONS.items()
}
ASSIGNMENT_ACTION_VIEWS: dict[str, type[_ActionBase]] = {
    slug: _action_view(AssignmentActionApi, action) for slug, action in actions.ASSIGNMENT_ACTIONS.items()
}


class WorklistApi(GenericAPIView):
    serializer_class = s.WorkItemOutput

    @extend_schema(
        summary="本单位待办（时限最近的在前）",
        parameters=[OpenApiParameter("tab", str, enum=list(selectors.WORKLIST_TABS))],
        responses=s.WorkItemOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        qs = selectors.worklist(user=_user(request), tab=request.query_params.get("tab", "open"))
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(s.WorkItemOutput(page, many=True).data)


class ExtensionListApi(GenericAPIView):
    serializer_class = s.ExtensionOutput

    @extend_schema(summary="待审核的延期申请", responses=s.ExtensionOutput(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(
            selectors.pending_extensions(user=_user(request)).order_by("requested_at")
        )
        return self.get_paginated_response(s.ExtensionOutput(page, many=True).data)


class ExtensionDecideApi(APIView):
    @extend_schema(summary="审核延期申请", request=s.ExtensionDecisionInput, responses=s.CaseDetailOutput)
    def post(self, request: Request, pk: int) -> Response:
        actor = _user(request)
        extension = ExtensionRequest.objects.select_related("assignment").filter(pk=pk).first()
        if (
            extension is None
            or not selectors.case_visible(user=actor).filter(pk=extension.assignment.case_id).exists()
        ):
            raise NotFound(_("延期申请不存在或无权查看"))
        data = s.ExtensionDecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        services.extension_decide(
            request=extension, actor=actor, expected_version=values.pop("version", None), **values
        )
        return _detail(request, extension.assignment.case_id)


class LookupThrottle(AddressRateThrottle):
    """Per client address (proxy rule), in the shared cache."""

    scope = "case_lookup"
    rate = settings.HOTLINE_LOOKUP_RATE


class PublicLookupApi(APIView):
    """INT-6: a citizen checks progress with the case number (and the query password if not public)."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [LookupThrottle]

    @extend_schema(summary="市民查询办理进度", request=s.PublicLookupInput, responses=o.PublicLookupOutput)
    def post(self, request: Request) -> Response:
        data = s.PublicLookupInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            case = public_case_lookup(
                number=data.validated_data["number"], password=data.validated_data["password"]
            )
        except LookupLocked as locked:
            return Response(
                {"detail": locked.message, "code": locked.code},
                status=429,
                headers={"Retry-After": str(locked.retry_after)},
            )
        result = (
            case.assignments.filter(
                parent__isnull=True, role=AssignmentRole.MAIN, status=AssignmentStatus.REPORTED
            )
            .order_by("-finished_at")
            .values_list("result", flat=True)
            .first()
        )
        return Response(
            {
                "number": case.number,
                "status": case.status,
                "status_display": case.get_status_display(),
                "processing": lifecycle.PROCESSING_OF_STATUS[case.status],
                "title": case.title,
                "created_at": case.created_at,
                "closed_at": case.closed_at,
                "result": result or case.answer or "",
            }
        )
