"""GET /api/v1/analytics/measures/: every measure over a period and (optionally) a unit's subtree."""

from __future__ import annotations

import datetime as dt
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hotline.common.errors import NotAllowed
from hotline.orgs.models import User

from . import permissions, selectors
from .measures import Figure, Measure, Scope

PARAMS = [
    OpenApiParameter(
        "period",
        str,
        enum=list(selectors.PERIODS),
        description="day 今日 / week 本周 / month 本月 / custom 自定义（默认）",
    ),
    OpenApiParameter("from", dt.date, description="开始日期（含），自定义时有效，默认30天前"),
    OpenApiParameter("to", dt.date, description="结束日期（含），自定义时有效，默认今天"),
    OpenApiParameter("unit", int, description="单位编号：该单位及其下级；单位领导默认且只能为本单位及下级"),
]


def require_viewer(user: object) -> User:
    if not isinstance(user, User):
        raise NotAllowed(permissions.may_view.refusal)
    permissions.may_view.require(user)
    return user


class BreakdownOutput(serializers.Serializer):
    key = serializers.CharField(help_text="渠道编码")
    name = serializers.CharField(help_text="渠道名称")
    n = serializers.IntegerField()


class MeasureOutput(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(
        choices=["count", "rate", "average"], help_text="count 计数 / rate 百分比 / average 平均（小时）"
    )
    formula = serializers.CharField(help_text="计算公式（文字）")
    tables = serializers.CharField(help_text="数据来源表")
    applicable = serializers.BooleanField(help_text="false：该指标不按单位统计（如话务指标）")
    value = serializers.FloatField(allow_null=True, help_text="计数，或百分比（一位小数）；分母为0时为空")
    numerator = serializers.IntegerField(allow_null=True)
    denominator = serializers.IntegerField(allow_null=True)
    breakdown = BreakdownOutput(many=True)


class MeasuresOutput(serializers.Serializer):
    period = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(help_text="不含")
    unit = serializers.IntegerField(allow_null=True)
    unit_name = serializers.CharField(allow_blank=True)
    measures = MeasureOutput(many=True)


def measure_row(measure: Measure, figure: Figure) -> dict[str, Any]:
    return {
        "key": measure.key,
        "name": str(measure.name),
        "kind": measure.kind,
        "formula": str(measure.formula),
        "tables": measure.source,
        "applicable": figure.applicable,
        "value": figure.value,
        "numerator": figure.numerator,
        "denominator": figure.denominator,
        "breakdown": figure.breakdown,
    }


def measures_body(*, period: selectors.Period, scope: Scope) -> dict[str, Any]:
    return {
        "period": period.kind,
        "start": scope.start,
        "end": scope.end,
        "unit": scope.unit.pk if scope.unit else None,
        "unit_name": scope.unit.name if scope.unit else "",
        "measures": [measure_row(m, f) for m, f in selectors.measure_table(scope=scope)],
    }


class MeasuresApi(APIView):
    @extend_schema(summary="运行指标（每项指标的公式与数值）", parameters=PARAMS, responses=MeasuresOutput)
    def get(self, request: Request) -> Response:
        user = require_viewer(request.user)
        period = selectors.period_from(request.query_params)
        scope = selectors.scope_for(user=user, period=period, unit_id=request.query_params.get("unit"))
        return Response(MeasuresOutput(measures_body(period=period, scope=scope)).data)
