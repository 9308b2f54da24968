"""Base of every endpoint a partner system calls: signature, scope, payload decryption, call log."""

from __future__ import annotations

import json
import time
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hotline.common.bounds import InputRejected, check_json
from hotline.common.netaddr import request_client_ip

from . import payload
from .auth import PartnerRefused, PartnerSignatureAuthentication, SignedCall, signed_call_of
from .models import Partner, PartnerCall
from .services import call_record, partner_payload_key

REFUSALS = {
    400: OpenApiResponse(
        description="bad_payload: the body is not the partner's (encrypted) JSON; payload_bounds: the JSON carries "
        "a NUL character, an integer beyond 64 bits, a date out of range or nesting deeper than 32"
    ),
    401: OpenApiResponse(
        description="missing_signature, bad_nonce, expired, unknown_partner, bad_sign_method, bad_signature, replayed"
    ),
    403: OpenApiResponse(description="ip_not_allowed, scope"),
    429: OpenApiResponse(description="rate_limited"),
}


class PartnerApiView(APIView):
    authentication_classes: list[Any] = [PartnerSignatureAuthentication]
    permission_classes = [AllowAny]  # the signature is the permission: authentication refuses everything else
    throttle_classes: list[Any] = []
    required_scope: str = Partner.Scope.PING

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self._started = time.monotonic()
        self._refusal: PartnerRefused | None = None
        super().initial(request, *args, **kwargs)
        call = signed_call_of(request)
        if self.required_scope not in call.partner.scopes:
            raise PartnerRefused("scope", _("未授权此接口"), 403, call.partner)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, PartnerRefused):
            self._refusal = exc
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        refusal = getattr(self, "_refusal", None)
        call = request._request.__dict__.get("partner_call")
        partner = call.partner if isinstance(call, SignedCall) else (refusal.partner if refusal else None)
        started = getattr(self, "_started", time.monotonic())
        call_record(
            partner=partner,
            direction=PartnerCall.Direction.IN,
            method=request.method or "",
            path=request._request.path,
            status_code=response.status_code,
            reason=refusal.reason if refusal else "",
            client_ip=request_client_ip(request._request),
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        return response

    def partner_data(self, request: Request) -> Any:
        """The request's JSON, decrypted with the partner's key when its payloads are encrypted.

        The JSON actually read (decrypted or plain, whatever the content type) passes the same bounds as a plain
        request's (common/bounds.py: NUL characters, 64-bit integers, dates, nesting depth), so a crafted body inside
        an envelope is a 400 naming the field, never a 500. Size needs no second check: the envelope is bounded by
        DATA_UPLOAD_MAX_MEMORY_SIZE before anything reads it, and the plaintext is smaller than its base64."""
        partner = signed_call_of(request).partner
        body = request._request.body
        if not body:
            return {}
        try:
            if partner.encryption != payload.NONE:
                body = payload.decrypt(
                    algorithm=partner.encryption, key=partner_payload_key(partner), envelope=body
                )
        except payload.PayloadError as exc:
            raise PartnerRefused("bad_payload", _("报文无法解密或不是 JSON"), 400, partner) from exc
        try:
            check_json(body)
            return json.loads(body)
        except InputRejected as rejected:
            raise PartnerRefused(
                "payload_bounds", f"{rejected.field}：{rejected.message}", 400, partner
            ) from rejected
        except (ValueError, RecursionError) as exc:
            raise PartnerRefused("bad_payload", _("报文无法解密或不是 JSON"), 400, partner) from exc

    def partner_response(self, request: Request, data: Any, status: int = 200) -> Any:
        partner = signed_call_of(request).partner
        if partner.encryption == payload.NONE:
            return Response(data, status=status)
        raw = json.dumps(data, ensure_ascii=False, default=str).encode()
        envelope = payload.encrypt(
            algorithm=partner.encryption, key=partner_payload_key(partner), plaintext=raw
        )
        return HttpResponse(envelope, status=status, content_type="application/json")
