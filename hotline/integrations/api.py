"""Endpoints partner systems call."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request

from hotline.common import clock

from .auth import signed_call_of
from .partner_api import REFUSALS, PartnerApiView

_PING = inline_serializer(
    "PartnerPing",
    {
        "partner": serializers.CharField(),
        "time": serializers.DateTimeField(),
        "received": serializers.JSONField(required=False),
    },
)


class PartnerPingApi(PartnerApiView):
    """A partner checks its signing (and encryption) against us: GET answers, POST echoes the decrypted body."""

    @extend_schema(operation_id="partner_ping", responses={200: _PING, **REFUSALS}, tags=["partners"])
    def get(self, request: Request) -> Any:
        return self.partner_response(request, self._answer(request))

    @extend_schema(
        operation_id="partner_ping_echo",
        request={"application/json": {"type": "object"}},
        responses={200: _PING, **REFUSALS},
        tags=["partners"],
    )
    def post(self, request: Request) -> Any:
        return self.partner_response(
            request, {**self._answer(request), "received": self.partner_data(request)}
        )

    def _answer(self, request: Request) -> dict[str, Any]:
        return {"partner": signed_call_of(request).partner.code, "time": clock.now().isoformat()}
