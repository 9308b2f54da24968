"""GET /api/v1/analytics/crosstab/: a cross-tab as JSON (the same engine and parameters as the builder)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import api as measures_api
from ..crosstab import dimensions as dims
from ..crosstab import engine
from ..crosstab import grouped as g

PARAMS = [
    OpenApiParameter("rows", str, required=True, enum=[d.key for d in dims.DIMENSIONS], description="行维度"),
    OpenApiParameter(
        "cols", str, enum=[d.key for d in dims.DIMENSIONS], description="列维度（可空：按指标分列）"
    ),
    OpenApiParameter(
        "measure",
        str,
        many=True,
        required=True,
        enum=[x.key for x in g.GROUPED],
        description="指标（可多个）",
    ),
    *[p for p in measures_api.PARAMS],
    *[
        OpenApiParameter(key, int, description=str(engine.FILTER_LABELS[key]))
        for key in ("case_type", "nature", "urgency", "bureau", "district", "area")
    ],
    OpenApiParameter("channel", str, description="来源渠道"),
    OpenApiParameter("status", str, many=True, description="工单状态"),
]


class CellOutput(serializers.Serializer):
    value = serializers.FloatField(allow_null=True)
    numerator = serializers.FloatField(allow_null=True)
    denominator = serializers.IntegerField()
    url = serializers.CharField(allow_blank=True, help_text="该格对应工单的查询地址（不能还原时为空）")


class RowOutput(serializers.Serializer):
    key = serializers.CharField(allow_null=True)
    name = serializers.CharField()
    total = serializers.BooleanField()
    cells = CellOutput(many=True)


class ColumnOutput(serializers.Serializer):
    key = serializers.CharField(allow_null=True)
    name = serializers.CharField()
    measure = serializers.CharField()
    total = serializers.BooleanField()


class CrosstabOutput(serializers.Serializer):
    filter = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))
    params = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    columns = ColumnOutput(many=True)
    rows = RowOutput(many=True)


def _key(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


class CrosstabApi(APIView):
    @extend_schema(summary="交叉统计表（行×列×指标×筛选）", parameters=PARAMS, responses=CrosstabOutput)
    def get(self, request: Request) -> Response:
        user = measures_api.require_viewer(request.user)
        spec = engine.parse(request.query_params, user=user)
        table = engine.run(spec)
        body = {
            "filter": [list(x) for x in spec.describe()],
            "params": spec.params,
            "columns": [
                {"key": _key(c.key), "name": c.label, "measure": c.measure.key, "total": c.total}
                for c in table.columns
            ],
            "rows": [
                {
                    "key": _key(r.key),
                    "name": r.label,
                    "total": r.total,
                    "cells": [
                        {
                            "value": c.value,
                            "numerator": c.numerator,
                            "denominator": c.denominator,
                            "url": c.url,
                        }
                        for c in r.cells
                    ],
                }
                for r in table.rows
            ],
        }
        return Response(CrosstabOutput(body).data)
