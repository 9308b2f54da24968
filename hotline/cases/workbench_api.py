"""Thin API beside the case loop: revealing a caller's number (audited) and the public hot-questions list."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hotline.common.throttles import AnonymousAddressRateThrottle
from hotline.orgs.http import request_user

from . import selectors
from .models import Case
from .services.contact import case_reveal_phone


class RevealPhoneApi(APIView):
    @extend_schema(
        summary="查看来电号码（记录审计）",
        request=None,
        responses=inline_serializer("RevealPhoneOutput", {"phone": serializers.CharField()}),
    )
    def post(self, request: Request, pk: int) -> Response:
        user = request_user(request)
        case = selectors.case_get(user=user, pk=pk)
        return Response({"phone": case_reveal_phone(case=case, actor=user)})


class HotQuestionOutput(serializers.Serializer):
    number = serializers.CharField()
    title = serializers.CharField()
    case_type = serializers.CharField()
    district = serializers.CharField()
    closed_at = serializers.DateTimeField()
    reply = serializers.CharField()


def _hot_row(case: Case) -> dict[str, Any]:
    """What a public case may show on the portal: no caller, no address, no content as typed."""
    return {
        "number": case.number,
        "title": case.title,
        "case_type": case.case_type.name if case.case_type_id else "",
        "district": case.district.name if case.district_id and case.district else "",
        "closed_at": case.closed_at,
        "reply": selectors.public_reply(case),
    }


class HotQuestionsThrottle(AnonymousAddressRateThrottle):
    rate = "60/min"


class HotQuestionsApi(GenericAPIView):
    """CLS-4: the data source of the portal's hot questions (public cases marked to push, anonymous)."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [HotQuestionsThrottle]
    serializer_class = HotQuestionOutput

    @extend_schema(summary="热点问题（公开工单）", responses=HotQuestionOutput(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.hot_questions())
        return self.get_paginated_response(
            HotQuestionOutput([_hot_row(c) for c in page or []], many=True).data
        )
