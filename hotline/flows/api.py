"""Flow templates through the API: read templates and versions, export and import JSON (managers only; others
get 403 on the list and 404 on every id), and a case's position in its template (whoever may see the case)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hotline.cases import selectors as case_selectors
from hotline.common.errors import NotAllowed
from hotline.orgs.models import User

from . import selectors, services
from .models import FlowTemplate, FlowVersion
from .permissions import REFUSAL, may_manage


def _manager(request: Request, *, by_id: bool = True) -> User:
    user = request.user
    if not may_manage(user):
        if by_id:
            raise Http404
        raise NotAllowed(REFUSAL)
    assert isinstance(user, User)
    return user


class VersionSummary(serializers.ModelSerializer):
    class Meta:
        model = FlowVersion
        fields = [
            "id",
            "number",
            "status",
            "note",
            "created_at",
            "submitted_at",
            "published_at",
            "review_note",
        ]


class TemplateOutput(serializers.ModelSerializer):
    versions = VersionSummary(many=True, read_only=True)

    class Meta:
        model = FlowTemplate
        fields = [
            "id",
            "code",
            "name",
            "description",
            "case_types",
            "bureaus",
            "channels",
            "valid_from",
            "valid_to",
            "priority",
            "status",
            "versions",
        ]


class StepOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    statuses = serializers.ListField(child=serializers.CharField())
    roles = serializers.ListField(child=serializers.CharField())
    unit_level = serializers.CharField()
    limit = serializers.DictField(allow_null=True)
    dispatch_mode = serializers.CharField()
    sequence = serializers.ListField(child=serializers.CharField())


class ExportOutput(serializers.Serializer):
    format = serializers.CharField()
    template = serializers.DictField()
    version = serializers.DictField()
    steps = StepOutput(many=True)
    transitions = serializers.ListField(child=serializers.DictField())


class ImportOutput(serializers.Serializer):
    template = serializers.IntegerField()
    version = serializers.IntegerField()
    number = serializers.IntegerField()
    status = serializers.CharField()


class ParallelUnitOutput(serializers.Serializer):
    unit = serializers.IntegerField()
    name = serializers.CharField()
    role = serializers.CharField()
    status = serializers.CharField()
    done = serializers.BooleanField(help_text="已办结且已记录办理结果（意见）")


class ParallelOutput(serializers.Serializer):
    step = serializers.CharField(help_text="会签环节或并行分支环节的编码")
    done = serializers.BooleanField(help_text="该环节（分支）的单位全部办结；全部为 true 才能进入汇聚")
    units = ParallelUnitOutput(many=True)


class SerialUnitOutput(serializers.Serializer):
    order = serializers.IntegerField(help_text="办理顺序（从 1 起）")
    unit = serializers.IntegerField()
    name = serializers.CharField()
    role = serializers.CharField()
    state = serializers.CharField(
        help_text="done 已办结；current 正在办理；waiting 等待前序单位办结（尚未交办）；gone 已撤销/退回",
    )
    status = serializers.CharField(help_text="交办记录的状态；等待中的单位为空")


class SerialOutput(serializers.Serializer):
    step = serializers.CharField(help_text="串行环节的编码")
    units = SerialUnitOutput(many=True)


class CaseFlowOutput(serializers.Serializer):
    template = serializers.CharField(
        allow_null=True, help_text="null：该工单未适用流程模板，按系统主干流程流转"
    )
    template_code = serializers.CharField(allow_null=True)
    version = serializers.IntegerField(allow_null=True)
    current = serializers.ListField(child=serializers.DictField())
    steps = StepOutput(many=True)
    transitions = serializers.ListField(child=serializers.DictField())
    parallel = ParallelOutput(many=True, help_text="当前的会签 / 并行分支环节及各单位进度")
    serial = SerialOutput(allow_null=True, help_text="当前串行环节的单位顺序及各单位进度；null：不在串行环节")


class TemplateListApi(APIView):
    @extend_schema(summary="流程模板列表（热线办维护人员）", responses=TemplateOutput(many=True))
    def get(self, request: Request) -> Response:
        _manager(request, by_id=False)
        return Response(TemplateOutput(selectors.template_list(), many=True).data)


class TemplateDetailApi(APIView):
    @extend_schema(summary="流程模板及其各版本", responses=TemplateOutput)
    def get(self, request: Request, pk: int) -> Response:
        _manager(request)
        template = FlowTemplate.objects.prefetch_related("versions").filter(pk=pk).first()
        if template is None:
            raise Http404
        return Response(TemplateOutput(template).data)


class VersionExportApi(APIView):
    @extend_schema(summary="导出流程版本（JSON，可再导入）", responses=ExportOutput)
    def get(self, request: Request, pk: int) -> Response:
        _manager(request)
        version = FlowVersion.objects.select_related("template").filter(pk=pk).first()
        if version is None:
            raise Http404
        return Response(services.version_export(version))


class ImportApi(APIView):
    @extend_schema(
        summary="导入流程模板（导出文件）：新模板，或同编号模板的新拟稿版本",
        request=OpenApiTypes.OBJECT,
        responses={201: ImportOutput, 400: OpenApiResponse(description="字段错误")},
    )
    def post(self, request: Request) -> Response:
        user = _manager(request, by_id=False)
        version = services.template_import(actor=user, data=request.data)
        body: dict[str, Any] = {
            "template": version.template_id,
            "version": version.pk,
            "number": version.number,
            "status": version.status,
        }
        return Response(ImportOutput(body).data, status=status.HTTP_201_CREATED)


class CaseFlowApi(APIView):
    @extend_schema(
        summary="工单在其流程模板中的位置（可查看该工单的用户）",
        responses={200: CaseFlowOutput, 404: OpenApiResponse(description="工单不存在或无权查看")},
    )
    def get(self, request: Request, pk: int) -> Response:
        user = request.user
        assert isinstance(user, User)
        case = case_selectors.case_get(user=user, pk=pk)
        position = selectors.case_position(case=case)
        if position is None:
            empty: dict[str, Any] = {
                "template": None,
                "template_code": None,
                "version": None,
                "current": [],
                "steps": [],
            }
            return Response({**empty, "transitions": [], "parallel": [], "serial": None})
        flow_json = position.flow.as_json()
        return Response(
            {
                "template": position.version.template.name,
                "template_code": position.version.template.code,
                "version": position.version.number,
                "current": [{"code": s.code, "name": s.name} for s in position.current],
                "steps": flow_json["steps"],
                "transitions": flow_json["transitions"],
                "parallel": [
                    {
                        "step": b.step.code,
                        "done": b.done,
                        "units": [
                            {
                                "unit": u.unit_id,
                                "name": u.unit_name,
                                "role": u.role,
                                "status": u.status,
                                "done": u.done,
                            }
                            for u in b.units
                        ],
                    }
                    for b in position.branches
                ],
                "serial": None
                if position.serial is None
                else {
                    "step": position.serial.step.code,
                    "units": [
                        {
                            "order": t.order,
                            "unit": t.unit_id,
                            "name": t.unit_name,
                            "role": t.role,
                            "state": t.state,
                            "status": t.status,
                        }
                        for t in position.serial.turns
                    ],
                },
            }
        )
