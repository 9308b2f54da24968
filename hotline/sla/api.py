from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hotline.common import clock
from hotline.common.errors import NotAllowed
from hotline.notify import services as notify
from hotline.orgs.models import User

from . import outputs as o
from . import permissions, selectors

PERIOD_PARAMS = [
    OpenApiParameter("from", dt.date, description="开始日期（含），默认30天前"),
    OpenApiParameter("to", dt.date, description="结束日期（含），默认今天"),
]


def period_from(params: Mapping[str, str]) -> selectors.Period:
    """The period of a supervision query: `from`/`to` dates, inclusive; the last 30 days by default."""
    from django.utils import timezone

    errors: dict[str, list[str]] = {}
    values: dict[str, dt.date] = {}
    for key in ("from", "to"):
        raw = params.get(key)
        if raw:
            try:
                values[key] = dt.date.fromisoformat(raw)
            except ValueError:
                errors[key] = ["日期格式应为 YYYY-MM-DD"]
    if errors:
        raise serializers.ValidationError(errors)
    today = timezone.localtime(clock.now()).date()
    end = values.get("to", today)
    start = values.get("from", end - dt.timedelta(days=30))
    if start > end:
        raise serializers.ValidationError({"from": [_("开始日期不能晚于结束日期")]})
    tz = timezone.get_current_timezone()
    return selectors.Period(
        start=dt.datetime.combine(start, dt.time.min, tz),
        end=dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tz),
    )


def require_supervisor(user: object) -> User:
    """The supervision figures are for the office, leaders and unit leaders."""
    if not isinstance(user, User):
        raise NotAllowed(permissions.may_supervise.refusal)
    permissions.may_supervise.require(user)
    return user


class CardLedgerApi(APIView):
    @extend_schema(
        summary="红黄牌台账（按单位）", parameters=PERIOD_PARAMS, responses=o.CardLedgerRowOutput(many=True)
    )
    def get(self, request: Request) -> Response:
        return Response(
            selectors.card_ledger(
                user=require_supervisor(request.user), period=period_from(request.query_params)
            )
        )


class TimeLimitSupervisionApi(APIView):
    @extend_schema(
        summary="时限督办：签收与答复用时（按单位）",
        parameters=PERIOD_PARAMS,
        responses=o.TimeLimitRowOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        return Response(
            selectors.time_limit_supervision(
                user=require_supervisor(request.user), period=period_from(request.query_params)
            )
        )


class ResultSupervisionApi(APIView):
    @extend_schema(
        summary="结果督办：不予受理工单",
        parameters=PERIOD_PARAMS,
        responses=o.ResultSupervisionRowOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        cases = selectors.result_supervision(
            user=require_supervisor(request.user), period=period_from(request.query_params)
        )[:500]
        return Response(
            [
                {
                    "id": c.pk,
                    "number": c.number,
                    "title": c.title,
                    "status": c.status,
                    "reason": c.not_accepted_reason.name if c.not_accepted_reason else "",
                    "text": c.not_accepted_text,
                }
                for c in cases
            ]
        )


def record_quality_view(*, user: User, quality: dict[str, Any], period: Any) -> None:
    """ORG-3: full numbers of repeat callers on the supervision page or API are an audited view."""
    if quality["repeat_callers"] and not quality["masked"]:
        from hotline.common.audit import audit_access

        audit_access(
            actor=user,
            object_type="cases.case",
            summary=f"质量督办：重复来电 {len(quality['repeat_callers'])} 个号码",
            filters={"from": period.start, "to": period.end},
            rows=len(quality["repeat_callers"]),
        )


class QualitySupervisionApi(APIView):
    @extend_schema(
        summary="质量督办：重复来电与不满意工单",
        parameters=PERIOD_PARAMS,
        responses=o.QualitySupervisionOutput,
    )
    def get(self, request: Request) -> Response:
        user, period = require_supervisor(request.user), period_from(request.query_params)
        data = selectors.quality_supervision(user=user, period=period)
        record_quality_view(user=user, quality=data, period=period)
        return Response(
            {
                "repeat_callers": [
                    {"citizen_phone": r["citizen_phone"], "n": r["n"]} for r in data["repeat_callers"]
                ],
                "dissatisfied": [
                    {
                        "id": c.pk,
                        "number": c.number,
                        "title": c.title,
                        "dissatisfied_count": c.dissatisfied_count,
                        "main_unit": c.main_unit.name if c.main_unit else "",
                    }
                    for c in data["dissatisfied"]
                ],
            }
        )


class NoticeListApi(APIView):
    @extend_schema(summary="我的系统内提醒（未读）", responses=o.NoticeOutput(many=True))
    def get(self, request: Request) -> Response:
        rows = notify.inbox(user=request.user)[:50]
        return Response(
            [
                {"id": m.pk, "subject": m.subject, "body": m.body, "link": m.link, "created_at": m.created_at}
                for m in rows
            ]
        )


class NoticeReadInput(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)


class NoticeReadApi(APIView):
    @extend_schema(summary="标记提醒为已读", request=NoticeReadInput, responses=o.NoticeReadOutput)
    def post(self, request: Request) -> Response:
        data = NoticeReadInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response({"marked": notify.inbox_mark_read(user=request.user, ids=data.validated_data["ids"])})
