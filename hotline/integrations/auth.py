"""Verifying a partner's signed request (API-5): who, from where, when, once, and what it may do.

Order matters: cheap refusals first, the nonce is spent only by a request whose signature is right (so nobody
can burn a partner's nonces), and every refusal names its reason code in the 401/403/429 answer and the call log.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from hotline.common.netaddr import request_client_ip

from . import replay, signing
from .models import Partner
from .services import active_partner, partner_by_api_key, partner_secret


class PartnerRefused(exceptions.APIException):
    """A refusal with a machine-readable reason code (`reason`) beside the message."""

    status_code: int = status.HTTP_401_UNAUTHORIZED

    def __init__(self, reason: str, message: str, status_code: int = 401, partner: Partner | None = None):
        super().__init__(detail={"detail": message, "reason": reason})
        self.status_code = status_code
        self.reason = reason
        self.partner = partner


@dataclass(frozen=True)
class SignedCall:
    partner: Partner
    nonce: str


def window_seconds() -> int:
    return int(getattr(settings, "HOTLINE_PARTNER_SIGNATURE_WINDOW", 300))


def verify(request: Any, *, now: float | None = None) -> SignedCall:
    meta = request.META
    code = meta.get("HTTP_X_HOTLINE_PARTNER", "")
    stamp = meta.get("HTTP_X_HOTLINE_TIMESTAMP", "")
    nonce = meta.get("HTTP_X_HOTLINE_NONCE", "")
    method = meta.get("HTTP_X_HOTLINE_SIGNATURE_METHOD", signing.HMAC_SHA256)
    signature = meta.get("HTTP_X_HOTLINE_SIGNATURE", "")
    if not (code and stamp and nonce and signature):
        raise PartnerRefused("missing_signature", _("缺少签名请求头"))
    if not signing.valid_nonce(nonce):
        raise PartnerRefused("bad_nonce", _("随机串应为 16–64 位字母、数字、- 或 _"))
    current = time.time() if now is None else now
    if not stamp.isdigit() or len(stamp) > 12 or abs(current - int(stamp)) > window_seconds():
        raise PartnerRefused("expired", _("时间戳超出允许范围（±%(s)d 秒）") % {"s": window_seconds()})
    partner = active_partner(code[:40])
    if partner is None:
        raise PartnerRefused("unknown_partner", _("接入系统不存在或已停用"))
    if not address_allowed(partner.allowed_networks, request_client_ip(request)):
        raise PartnerRefused("ip_not_allowed", _("来源地址不在白名单内"), 403, partner)
    if method != partner.sign_method:
        raise PartnerRefused("bad_sign_method", _("签名算法与登记的不一致"), 401, partner)
    expected = signing.sign(
        secret=partner_secret(partner),
        method=request.method,
        path=request.get_full_path(),
        timestamp=stamp,
        nonce=nonce,
        body=request.body,
        algorithm=method,
    )
    if not signing.signatures_equal(expected, signature):
        raise PartnerRefused("bad_signature", _("签名不正确"), 401, partner)
    spent = replay.spend(
        partner_id=partner.pk, nonce=nonce, minute=int(current // 60), nonce_ttl=2 * window_seconds()
    )
    if not spent.fresh:
        raise PartnerRefused("replayed", _("请求已处理过（随机串重复）"), 401, partner)
    if spent.count > partner.rate_per_minute:
        raise PartnerRefused("rate_limited", _("请求过于频繁"), 429, partner)
    return SignedCall(partner=partner, nonce=nonce)


def api_key_of(request: Any) -> str:
    """`X-Api-Key: <prefix>.<secret>` or `Authorization: ApiKey <prefix>.<secret>`."""
    key = request.META.get("HTTP_X_API_KEY", "")
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not key and header.lower().startswith("apikey "):
        key = header[7:]
    return str(key).strip()[:100]


def verify_api_key(request: Any, *, now: float | None = None) -> SignedCall:
    """A partner calling with its issued key instead of a signature (read-only endpoints that allow it): the same
    address allowlist and per-minute limit as a signed call; no nonce, so the key itself must stay secret (TLS)."""
    key = api_key_of(request)
    partner = partner_by_api_key(key) if key else None
    if partner is None:
        raise PartnerRefused("bad_api_key", _("接口密钥无效或已停用"))
    if not address_allowed(partner.allowed_networks, request_client_ip(request)):
        raise PartnerRefused("ip_not_allowed", _("来源地址不在白名单内"), 403, partner)
    current = time.time() if now is None else now
    if replay.count(partner_id=partner.pk, minute=int(current // 60)) > partner.rate_per_minute:
        raise PartnerRefused("rate_limited", _("请求过于频繁"), 429, partner)
    return SignedCall(partner=partner, nonce="")


@lru_cache(maxsize=256)
def _parsed_networks(text: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(line, strict=False) for line in text.split() if line)


def address_allowed(networks: str, address: str | None) -> bool:
    if not networks.strip():
        return True
    if address is None:
        return False
    ip = ipaddress.ip_address(address)
    return any(ip in network for network in _parsed_networks(networks))


class PartnerSignatureAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, SignedCall]:
        from django.contrib.auth.models import AnonymousUser

        call = verify(request._request)
        request._request.partner_call = call  # type: ignore[attr-defined]
        return AnonymousUser(), call

    def authenticate_header(self, request: Request) -> str:
        return 'HotlineSignature realm="partners"'


class PartnerKeyOrSignatureAuthentication(PartnerSignatureAuthentication):
    """A signed request, or (without signature headers) the partner's `X-Api-Key`."""

    def authenticate(self, request: Request) -> tuple[Any, SignedCall]:
        from django.contrib.auth.models import AnonymousUser

        raw = request._request
        if "HTTP_X_HOTLINE_SIGNATURE" in raw.META or not api_key_of(raw):
            return super().authenticate(request)
        call = verify_api_key(raw)
        raw.partner_call = call  # type: ignore[attr-defined]
        return AnonymousUser(), call


class PartnerKeyOrSignatureScheme(OpenApiAuthenticationExtension):
    target_class = "hotline.integrations.auth.PartnerKeyOrSignatureAuthentication"
    name = "partnerApiKeyOrSignature"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Api-Key",
            "description": "The partner's issued key, or the signature headers of a signed request (README).",
        }


class PartnerSignatureScheme(OpenApiAuthenticationExtension):
    target_class = "hotline.integrations.auth.PartnerSignatureAuthentication"
    name = "partnerSignature"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": signing.HEADER_SIGNATURE,
            "description": "HMAC over method, path, timestamp, nonce and body digest; see the README.",
        }


def signed_call_of(request: Request) -> SignedCall:
    call = request.auth
    if not isinstance(call, SignedCall):
        raise PartnerRefused("missing_signature", _("缺少签名请求头"))
    return call
