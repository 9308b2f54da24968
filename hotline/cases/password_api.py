"""INT-6 public API: a citizen who forgot a case's query password gets a code at the phone or e-mail given at
intake and sets a new password with it. Anonymous, throttled per address; the rules are in
services/password_reset.py."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hotline.common.throttles import AnonymousAddressRateThrottle

from . import services

CODE_SENT = "若工单编号与联系方式相符，验证码已发送至该联系方式，15分钟内有效。"


class CodeRequestThrottle(AnonymousAddressRateThrottle):
    scope = "query_password_code"
    rate = "20/hour"


class ResetThrottle(AnonymousAddressRateThrottle):
    scope = "query_password_reset"
    rate = "30/hour"


class CodeRequestInput(serializers.Serializer):
    number = serializers.CharField(max_length=32, label="工单编号")
    contact = serializers.CharField(max_length=100, label="受理时登记的手机号码或电子邮箱")


class ResetInput(serializers.Serializer):
    number = serializers.CharField(max_length=32, label="工单编号")
    code = serializers.RegexField(r"^\d{6}$", label="验证码", error_messages={"invalid": "验证码为6位数字"})


class CodeRequestApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [CodeRequestThrottle]

    @extend_schema(
        summary="市民获取查询密码重置验证码",
        request=CodeRequestInput,
        responses={202: inline_serializer("CodeSentOutput", {"detail": serializers.CharField()})},
    )
    def post(self, request: Request) -> Response:
        data = CodeRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.query_password_code_request(**data.validated_data)
        # The same answer whether or not the number and contact matched: it tells a stranger nothing.
        return Response({"detail": CODE_SENT}, status=status.HTTP_202_ACCEPTED)


class ResetApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [ResetThrottle]

    @extend_schema(
        summary="市民凭验证码重置查询密码",
        request=ResetInput,
        responses=inline_serializer(
            "QueryPasswordResetOutput",
            {"number": serializers.CharField(), "query_password": serializers.CharField()},
        ),
    )
    def post(self, request: Request) -> Response:
        data = ResetInput(data=request.data)
        data.is_valid(raise_exception=True)
        password = services.query_password_reset(**data.validated_data)
        return Response({"number": data.validated_data["number"].strip(), "query_password": password})
