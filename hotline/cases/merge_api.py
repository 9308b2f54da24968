"""Thin API for duplicate screening, hot clusters and merging (并单)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hotline.common.errors import NotFound
from hotline.common.registry import user_may
from hotline.orgs.http import request_user as _user
from hotline.orgs.models import User

from . import duplicates, masking, merge, permissions, selectors
from . import outputs as o
from .api import _detail
from .models import Case, CoRequester, Rating
from .serializers import CaseDetailOutput


def _shows_numbers(user: User) -> bool:
    return user_may(user, "citizens.personal_data")


class DuplicateInput(serializers.Serializer):
    content = serializers.CharField(required=False, allow_blank=True, default="", max_length=20000)
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    phone = serializers.CharField(required=False, allow_blank=True, default="", max_length=20)
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=50)
    exclude = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="排除的工单（本单）"
    )
    days = serializers.IntegerField(required=False, default=duplicates.WINDOW_DAYS, min_value=1, max_value=90)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not (attrs["content"].strip() or attrs["phone"].strip() or attrs["name"].strip()):
            raise serializers.ValidationError({"content": [_("请至少提供诉求内容、电话或姓名之一")]})
        return attrs


def _case_brief(case: Case, user: User) -> dict[str, Any]:
    caller = masking.caller(case, user)
    return {
        "id": case.pk,
        "number": case.number,
        "title": case.title,
        "status": case.status,
        "status_display": case.get_status_display(),
        "case_type": case.case_type.name if case.case_type_id else "",
        "citizen_name": caller.name,
        "citizen_phone": caller.phone,
        "main_unit": case.main_unit.name if case.main_unit_id and case.main_unit else "",
        "created_at": case.created_at,
        "link": reverse("case-detail", args=[case.pk]),
        "api": f"/api/v1/cases/{case.pk}/",
    }


def _report(report: duplicates.DuplicateReport, user: User) -> dict[str, Any]:
    return {
        "since": report.since,
        "threshold": duplicates.THRESHOLD,
        "counts": {"same_phone": report.same_phone, "same_name": report.same_name, "similar": report.similar},
        "candidates": [
            {
                **_case_brief(c.case, user),
                "score": c.score,
                "similar": c.similar,
                "same_phone": c.same_phone,
                "same_name": c.same_name,
            }
            for c in report.candidates
        ],
    }


class DuplicatesApi(APIView):
    """INT-5: candidates of the last 15 days by same number, same name and similar content."""

    def _run(self, request: Request, data: Any) -> Response:
        params = DuplicateInput(data=data)
        params.is_valid(raise_exception=True)
        v = params.validated_data
        user = _user(request)
        report = duplicates.find_duplicates(
            user=user,
            content=v["content"],
            title=v["title"],
            phone=v["phone"],
            name=v["name"],
            exclude_case=v["exclude"],
            days=v["days"],
        )
        masking.record_view(
            user=user,
            callers=[masking.caller(c.case, user) for c in report.candidates],
            what="重复诉求筛查",
            filters={key: value for key, value in v.items() if key != "content"},
        )
        return Response(_report(report, user))

    @extend_schema(
        summary="重复诉求筛查（近15天：同号码、同姓名、相似内容）",
        parameters=[DuplicateInput],
        responses=o.DuplicateReportOutput,
    )
    def get(self, request: Request) -> Response:
        return self._run(request, request.query_params)

    @extend_schema(
        summary="重复诉求筛查（长文本用 POST）", request=DuplicateInput, responses=o.DuplicateReportOutput
    )
    def post(self, request: Request) -> Response:
        return self._run(request, request.data)


class ClusterInput(serializers.Serializer):
    days = serializers.IntegerField(required=False, default=7, min_value=1, max_value=60)
    min_size = serializers.IntegerField(required=False, default=3, min_value=2, max_value=1000)


class HotClustersApi(APIView):
    @extend_schema(
        summary="热点聚类：近N天相似的在办诉求（可并单）",
        parameters=[ClusterInput],
        responses=o.HotClusterOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        user = _user(request)
        permissions.may_see_clusters.require(user)
        params = ClusterInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        clusters = duplicates.hot_clusters(user=user, **params.validated_data)
        masking.record_view(
            user=user,
            callers=[masking.caller(case, user) for c in clusters for case in c.cases],
            what="热点聚类",
            filters=params.validated_data,
        )
        return Response(
            [
                {"size": c.size, "terms": c.terms, "cases": [_case_brief(case, user) for case in c.cases]}
                for c in clusters
            ]
        )


class MergeInput(serializers.Serializer):
    target = serializers.IntegerField(help_text="并入的主工单")
    version = serializers.IntegerField(required=False, min_value=1, help_text="本工单版本号")
    target_version = serializers.IntegerField(required=False, min_value=1, help_text="主工单版本号")
    opinion = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class MergeApi(APIView):
    @extend_schema(summary="并单：把本工单并入已有工单", request=MergeInput, responses=CaseDetailOutput)
    def post(self, request: Request, pk: int) -> Response:
        actor = _user(request)
        case = selectors.case_get(user=actor, pk=pk)
        data = MergeInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        target = selectors.case_get(user=actor, pk=v["target"])
        merge.case_merge(
            case=case,
            into=target,
            actor=actor,
            expected_version=v.get("version"),
            target_version=v.get("target_version"),
            opinion=v["opinion"],
        )
        return _detail(request, pk)


class UnmergeInput(serializers.Serializer):
    version = serializers.IntegerField(required=False, min_value=1)
    reason = serializers.CharField(allow_blank=True)


class UnmergeApi(APIView):
    @extend_schema(summary="撤销并单（热线办）", request=UnmergeInput, responses=CaseDetailOutput)
    def post(self, request: Request, pk: int) -> Response:
        actor = _user(request)
        case = selectors.case_get(user=actor, pk=pk)
        data = UnmergeInput(data=request.data)
        data.is_valid(raise_exception=True)
        merge.case_unmerge(
            case=case, actor=actor, expected_version=data.validated_data.get("version"),
            reason=data.validated_data["reason"],
        )  # fmt: skip
        return _detail(request, pk)


def _co_output(co: CoRequester, user: User) -> dict[str, Any]:
    hidden = masking.caller_hidden(co.merged_case, user)
    return {
        "id": co.pk,
        "case": co.case_id,
        "merged_case": co.merged_case_id,
        "merged_number": co.merged_case.number,
        "citizen": None if hidden else co.citizen_id,
        "name": masking.hidden_text() if hidden else co.name,
        "phone": masking.hidden_text()
        if hidden
        else masking.phone(co.phone, masked=not _shows_numbers(user)),
        "merged_at": co.merged_at,
        "merged_by": str(co.merged_by),
        "opinion": co.opinion,
        "undone_at": co.undone_at,
        "called_back_at": co.called_back_at,
        "callback_rating": co.callback_rating,
    }


class CoRequestersApi(APIView):
    @extend_schema(summary="并单来电人（需一并回访）", responses=o.CoRequesterOutput(many=True))
    def get(self, request: Request, pk: int) -> Response:
        user = _user(request)
        case = selectors.case_get(user=user, pk=pk)
        rows = list(CoRequester.objects.filter(case=case).select_related("merged_case", "merged_by"))
        masking.record_view(
            user=user,
            callers=[masking.caller(co.merged_case, user) for co in rows],
            what=f"并单来电人（工单 {case.number}）",
        )
        return Response([_co_output(co, user) for co in rows])


class CoCallbackInput(serializers.Serializer):
    rating = serializers.ChoiceField(choices=Rating.choices)
    citizen_words = serializers.CharField(required=False, allow_blank=True, default="")


class CoRequesterCallbackApi(APIView):
    @extend_schema(summary="回访并单来电人", request=CoCallbackInput, responses=o.CoRequesterOutput)
    def post(self, request: Request, pk: int) -> Response:
        user = _user(request)
        co = CoRequester.objects.select_related("case", "merged_case", "merged_by").filter(pk=pk).first()
        if co is None or not selectors.case_visible(user=user).filter(pk=co.case_id).exists():
            raise NotFound(_("并单记录不存在或无权查看"))
        data = CoCallbackInput(data=request.data)
        data.is_valid(raise_exception=True)
        merge.co_requester_callback(
            co_requester=co, actor=user, rating=data.validated_data["rating"],
            words=data.validated_data["citizen_words"],
        )  # fmt: skip
        return Response(_co_output(co, user))
