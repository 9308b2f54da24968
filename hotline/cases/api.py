"""Thin API views: parse, call one service or selector, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from hotline.common import crypto
from hotline.common.api import RequestContextMixin
from hotline.common.errors import NotFound
from hotline.orgs.http import request_user as _user
from hotline.orgs.models import User

from . import lifecycle, selectors, services
from . import serializers as s
from .models import Case, CaseStatus, ExtensionRequest


def _detail(request: Request, case_id: int, **extra: Any) -> Response:
    case = selectors.case_get_for_display(user=_user(request), pk=case_id)
    data = dict(s.CaseDetailOutput(case, context={"request": request}).data)
    data.update(extra)
    return Response(data)


class CaseFilterInput(serializers.Serializer):
    created_from = serializers.DateTimeField(required=False)
    created_to = serializers.DateTimeField(required=False)
    number = serializers.CharField(required=False, default="")
    case_type = serializers.IntegerField(required=False)
    status = serializers.MultipleChoiceField(choices=CaseStatus.choices, required=False)
    caller_phone = serializers.CharField(required=False, default="")
    channel = serializers.CharField(required=False, default="")
    unit = serializers.IntegerField(required=False)
    district = serializers.IntegerField(required=False)
    keywords = serializers.CharField(required=False, default="", max_length=100)
    active = serializers.BooleanField(required=False, allow_null=True, default=None)
    overdue = serializers.BooleanField(required=False, allow_null=True, default=None)
    citizen = serializers.IntegerField(required=False)
    processing = serializers.ChoiceField(choices=lifecycle.Processing.choices, required=False, default="")
    supervision = serializers.ChoiceField(choices=lifecycle.Supervision.choices, required=False, default="")
    typical_recording = serializers.BooleanField(required=False, allow_null=True, default=None)
    typical = serializers.BooleanField(required=False, allow_null=True, default=None)
    ordering = serializers.ChoiceField(
        choices=list(selectors.SORTABLE), required=False, default="-created_at"
    )

    def to_filters(self) -> selectors.CaseFilters:
        data = dict(self.validated_data)
        data["statuses"] = sorted(data.pop("status", []) or [])
        return selectors.CaseFilters(**data)


class CaseListCreateApi(RequestContextMixin, GenericAPIView):
    serializer_class = s.CaseListOutput

    @extend_schema(
        summary="工单查询（默认近一个月，按受理时间倒序）",
        parameters=[CaseFilterInput],
        responses=s.CaseListOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        params = request.query_params.copy()
        if "status" in params:
            params.setlist("status", [v for item in params.getlist("status") for v in item.split(",") if v])
        filters = CaseFilterInput(data=params)
        filters.is_valid(raise_exception=True)
        qs = selectors.case_search(user=_user(request), filters=filters.to_filters())
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(
            s.CaseListOutput(page, many=True, context={"request": request}).data
        )

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


class CaseDetailApi(RequestContextMixin, APIView):
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


class CaseTimelineApi(RequestContextMixin, APIView):
    @extend_schema(summary="工单流转时间线", responses=s.EventOutput(many=True))
    def get(self, request: Request, pk: int) -> Response:
        selectors.case_require_visible(user=_user(request), pk=pk)
        return Response(s.EventOutput(selectors.case_timeline(case_id=pk), many=True).data)


Handler = Callable[[Any, User, dict[str, Any], int | None], Any]


class CaseActionApi(RequestContextMixin, APIView):
    """POST /cases/{id}/<action>/: one lifecycle action. Subclasses name the input and the service call."""

    input_serializer: ClassVar[type[serializers.Serializer]] = s.VersionInput

    def perform(
        self, case: Case, actor: User, data: dict[str, Any], version: int | None
    ) -> dict[str, Any] | None:
        raise NotImplementedError

    def post(self, request: Request, pk: int) -> Response:
        actor = _user(request)
        case = selectors.case_get(user=actor, pk=pk)
        data = self.input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        version = values.pop("version", None)
        result = self.perform(case, actor, values, version)
        # Handlers return the service's result; a dict carries extra fields for the answer (a new password).
        extra = result if isinstance(result, dict) else {}
        return _detail(request, pk, **extra)


def case_action(
    name: str, summary: str, input_serializer: type[serializers.Serializer], handler: Handler
) -> type[CaseActionApi]:
    def perform(
        self: CaseActionApi, case: Case, actor: User, data: dict[str, Any], version: int | None
    ) -> Any:
        return handler(case, actor, data, version)

    view = type(name, (CaseActionApi,), {"input_serializer": input_serializer, "perform": perform})
    view.post = extend_schema(summary=summary, request=input_serializer, responses=s.CaseDetailOutput)(  # type: ignore[attr-defined]
        view.post  # type: ignore[attr-defined]
    )
    return view


def _targets(data: dict[str, Any]) -> list[services.Target]:
    return [services.Target(t["unit"], t["role"]) for t in data.get("targets", [])]


A = lifecycle.Action
CASE_ACTIONS: dict[str, type[CaseActionApi]] = {
    "submit": case_action(
        "SubmitApi",
        "提交热线办",
        s.IntakeActionInput,
        lambda c, u, d, v: services.case_take_intake_action(
            case=c, actor=u, action=A.SUBMIT, expected_version=v
        ),
    ),
    "archive": case_action(
        "ArchiveApi",
        "解决归档",
        s.IntakeActionInput,
        lambda c, u, d, v: services.case_take_intake_action(
            case=c, actor=u, action=A.ARCHIVE, expected_version=v, answer=d["answer"]
        ),
    ),
    "propose-not-accepted": case_action(
        "ProposeNotAcceptedApi",
        "申请不予受理",
        s.IntakeActionInput,
        lambda c, u, d, v: services.case_take_intake_action(
            case=c,
            actor=u,
            action=A.PROPOSE_NOT_ACCEPTED,
            expected_version=v,
            not_accepted_reason=d["not_accepted_reason"],
            not_accepted_text=d["not_accepted_text"],
        ),
    ),
    "confirm-not-accepted": case_action(
        "ConfirmNotAcceptedApi",
        "确认不予受理",
        s.OpinionInput,
        lambda c, u, d, v: services.case_confirm_not_accepted(
            case=c, actor=u, expected_version=v, opinion=d["opinion"]
        ),
    ),
    "reject-not-accepted": case_action(
        "RejectNotAcceptedApi",
        "驳回不予受理",
        s.OpinionInput,
        lambda c, u, d, v: services.case_reject_not_accepted(
            case=c, actor=u, expected_version=v, opinion=d["opinion"]
        ),
    ),
    "return-to-agent": case_action(
        "ReturnToAgentApi",
        "退回坐席",
        s.OpinionInput,
        lambda c, u, d, v: services.case_return_to_agent(
            case=c, actor=u, expected_version=v, opinion=d["opinion"]
        ),
    ),
    "close-directly": case_action(
        "CloseDirectlyApi",
        "直接办结",
        s.ReasonInput,
        lambda c, u, d, v: services.case_close_directly(
            case=c, actor=u, expected_version=v, reason=d["reason"]
        ),
    ),
    "ask-leader": case_action(
        "AskLeaderApi",
        "呈请领导批示",
        s.OpinionInput,
        lambda c, u, d, v: services.case_ask_leader(
            case=c, actor=u, expected_version=v, opinion=d["opinion"]
        ),
    ),
    "leader-instruct": case_action(
        "LeaderInstructApi",
        "领导批示",
        s.InstructionInput,
        lambda c, u, d, v: services.case_leader_instruct(
            case=c, actor=u, expected_version=v, instruction=d["instruction"]
        ),
    ),
    "dispatch": case_action(
        "DispatchApi",
        "派单（一个主办单位，可选协办、抄送）",
        s.DispatchInput,
        lambda c, u, d, v: services.case_dispatch(
            case=c, actor=u, expected_version=v, targets=_targets(d), opinion=d["opinion"], due_at=d["due_at"]
        ),
    ),
    "reassign": case_action(
        "ReassignApi",
        "改派",
        s.DispatchInput,
        lambda c, u, d, v: services.case_reassign(
            case=c, actor=u, expected_version=v, targets=_targets(d), opinion=d["opinion"], due_at=d["due_at"]
        ),
    ),
    "approve-return": case_action(
        "ApproveReturnApi",
        "同意退件并改派",
        s.ApproveReturnInput,
        lambda c, u, d, v: services.case_approve_return(
            case=c, actor=u, expected_version=v, targets=_targets(d), opinion=d["opinion"]
        ),
    ),
    "reject-return": case_action(
        "RejectReturnApi",
        "驳回退件",
        s.OpinionInput,
        lambda c, u, d, v: services.case_reject_return(
            case=c, actor=u, expected_version=v, opinion=d["opinion"]
        ),
    ),
    "review-accept": case_action(
        "ReviewAcceptApi",
        "结果审核通过",
        s.OpinionInput,
        lambda c, u, d, v: services.case_review_accept(
            case=c, actor=u, expected_version=v, opinion=d["opinion"]
        ),
    ),
    "review-reject": case_action(
        "ReviewRejectApi",
        "结果审核退回单位",
        s.OpinionInput,
        lambda c, u, d, v: services.case_review_reject(
            case=c, actor=u, expected_version=v, opinion=d["opinion"]
        ),
    ),
    "callback": case_action(
        "CallbackApi",
        "回访评价",
        s.CallbackInput,
        lambda c, u, d, v: services.case_callback(
            case=c,
            actor=u,
            expected_version=v,
            rating=d["rating"],
            method=d["method"],
            citizen_words=d["citizen_words"],
        ),
    ),
    "supervision-opinion": case_action(
        "SupervisionOpinionApi",
        "特别督办：单位领导意见",
        s.OpinionInput,
        lambda c, u, d, v: services.case_supervision_opinion(
            case=c, actor=u, expected_version=v, opinion=d["opinion"]
        ),
    ),
    "office-close": case_action(
        "OfficeCloseApi",
        "热线办决定办结",
        s.ReasonInput,
        lambda c, u, d, v: services.case_office_close(
            case=c, actor=u, expected_version=v, reason=d["reason"]
        ),
    ),
    "close-marks": case_action(
        "CloseMarksApi",
        "设置公开、热点、典型标记",
        s.CloseMarksInput,
        lambda c, u, d, v: {
            "query_password": services.case_set_close_marks(case=c, actor=u, expected_version=v, **d)[1]
        },
    ),
    "violation": case_action(
        "ViolationApi",
        "标记敷衍、错误办理",
        s.ViolationInput,
        lambda c, u, d, v: services.case_set_violation(case=c, actor=u, expected_version=v, **d),
    ),
    "urge": case_action(
        "UrgeApi",
        "催办",
        s.UrgeInput,
        lambda c, u, d, v: services.case_urge(
            case=c,
            actor=u,
            expected_version=v,
            message=d["message"],
            assignment=d["assignment"] if d["assignment"] and d["assignment"].case_id == c.pk else None,
        ),
    ),
    "reset-password": case_action(
        "ResetPasswordApi",
        "重置查询密码",
        s.VersionInput,
        lambda c, u, d, v: {
            "query_password": services.case_reset_query_password(case=c, actor=u, expected_version=v)
        },
    ),
}


class AssignmentActionApi(RequestContextMixin, APIView):
    input_serializer: ClassVar[type[serializers.Serializer]] = s.VersionInput

    def perform(self, assignment: Any, actor: User, data: dict[str, Any], version: int | None) -> None:
        raise NotImplementedError

    def post(self, request: Request, pk: int) -> Response:
        actor = _user(request)
        assignment = selectors.assignment_get(user=actor, pk=pk)
        data = self.input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        version = values.pop("version", None)
        self.perform(assignment, actor, values, version)
        return _detail(request, assignment.case_id)


def assignment_action(
    name: str, summary: str, input_serializer: type[serializers.Serializer], handler: Handler
) -> type[AssignmentActionApi]:
    def perform(
        self: AssignmentActionApi, assignment: Any, actor: User, data: dict[str, Any], version: int | None
    ) -> None:
        handler(assignment, actor, data, version)

    view = type(name, (AssignmentActionApi,), {"input_serializer": input_serializer, "perform": perform})
    view.post = extend_schema(summary=summary, request=input_serializer, responses=s.CaseDetailOutput)(  # type: ignore[attr-defined]
        view.post  # type: ignore[attr-defined]
    )
    return view


ASSIGNMENT_ACTIONS: dict[str, type[AssignmentActionApi]] = {
    "sign-for": assignment_action(
        "SignForApi",
        "签收",
        s.VersionInput,
        lambda a, u, d, v: services.assignment_sign_for(assignment=a, actor=u, expected_version=v),
    ),
    "handling-records": assignment_action(
        "HandlingRecordApi",
        "填写办理记录",
        s.HandlingInput,
        lambda a, u, d, v: services.assignment_record_handling(
            assignment=a, actor=u, expected_version=v, **d
        ),
    ),
    "forward": assignment_action(
        "ForwardApi",
        "下派",
        s.TargetsInput,
        lambda a, u, d, v: services.assignment_forward(
            assignment=a, actor=u, expected_version=v, targets=_targets(d), opinion=d["opinion"]
        ),
    ),
    "send-back": assignment_action(
        "SendBackApi",
        "退回上级",
        s.ReasonInput,
        lambda a, u, d, v: services.assignment_send_back(
            assignment=a, actor=u, expected_version=v, reason=d["reason"]
        ),
    ),
    "report": assignment_action(
        "ReportApi",
        "办结上报",
        s.ResultInput,
        lambda a, u, d, v: services.assignment_report(
            assignment=a, actor=u, expected_version=v, result=d["result"]
        ),
    ),
    "return": assignment_action(
        "ReturnApi",
        "退件（退回热线办）",
        s.ReturnInput,
        lambda a, u, d, v: services.assignment_return_to_office(
            assignment=a, actor=u, expected_version=v, **d
        ),
    ),
    "extension": assignment_action(
        "ExtensionApi",
        "申请延期",
        s.ExtensionInput,
        lambda a, u, d, v: services.assignment_request_extension(
            assignment=a, actor=u, expected_version=v, **d
        ),
    ),
    "opinion": assignment_action(
        "OpinionApi",
        "协办单位反馈意见",
        s.OpinionInput,
        lambda a, u, d, v: services.assignment_give_opinion(
            assignment=a, actor=u, expected_version=v, opinion=d["opinion"]
        ),
    ),
    "return-opinion": assignment_action(
        "ReturnOpinionApi",
        "主办单位发回协办意见",
        s.ReasonInput,
        lambda a, u, d, v: services.assignment_return_opinion(
            assignment=a, actor=u, expected_version=v, reason=d["reason"]
        ),
    ),
    "add-assisting": assignment_action(
        "AddAssistingApi",
        "协办单位增加协办、抄送单位",
        s.TargetsInput,
        lambda a, u, d, v: services.assignment_add_assisting(
            assignment=a, actor=u, expected_version=v, targets=_targets(d), opinion=d["opinion"]
        ),
    ),
}


class WorklistApi(RequestContextMixin, GenericAPIView):
    serializer_class = s.WorkItemOutput

    @extend_schema(
        summary="本单位待办（时限最近的在前）",
        parameters=[OpenApiParameter("tab", str, enum=list(selectors.WORKLIST_TABS))],
    )
    def get(self, request: Request) -> Response:
        qs = selectors.worklist(user=_user(request), tab=request.query_params.get("tab", "open"))
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(s.WorkItemOutput(page, many=True).data)


class ExtensionListApi(RequestContextMixin, GenericAPIView):
    serializer_class = s.ExtensionOutput

    @extend_schema(summary="待审核的延期申请")
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(
            selectors.pending_extensions(user=_user(request)).order_by("requested_at")
        )
        return self.get_paginated_response(s.ExtensionOutput(page, many=True).data)


class ExtensionDecideApi(RequestContextMixin, APIView):
    @extend_schema(summary="审核延期申请", request=s.ExtensionDecisionInput, responses=s.CaseDetailOutput)
    def post(self, request: Request, pk: int) -> Response:
        actor = _user(request)
        extension = ExtensionRequest.objects.select_related("assignment").filter(pk=pk).first()
        if (
            extension is None
            or not selectors.case_visible(user=actor).filter(pk=extension.assignment.case_id).exists()
        ):
            raise NotFound("延期申请不存在或无权查看")
        data = s.ExtensionDecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        services.extension_decide(
            request=extension, actor=actor, expected_version=values.pop("version", None), **values
        )
        return _detail(request, extension.assignment.case_id)


class LookupThrottle(AnonRateThrottle):
    rate = "20/min"


class PublicLookupApi(APIView):
    """INT-6: a citizen checks progress with the case number (and the query password if not public)."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [LookupThrottle]

    @extend_schema(summary="市民查询办理进度", request=s.PublicLookupInput)
    def post(self, request: Request) -> Response:
        data = s.PublicLookupInput(data=request.data)
        data.is_valid(raise_exception=True)
        case = Case.objects.filter(number=data.validated_data["number"].strip()).first()
        if case is None or (
            not case.is_public and not crypto.check_code(data.validated_data["password"], case.query_password)
        ):
            raise NotFound("工单编号或查询密码不正确")
        result = (
            case.assignments.filter(parent__isnull=True, role="main", status="reported")
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
