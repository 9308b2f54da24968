"""Open311 GeoReport v2 endpoints at /open311/v2/ and discovery at /open311/discovery.{json,xml}.

Reads are public but narrow: without a key, only cases the office published as hot questions; with a partner's
`api_key`, also the requests that partner posted. No output ever carries a caller's name, number or address.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from hotline.cases import services as case_services
from hotline.cases.models import Case, Channel
from hotline.common import clock
from hotline.common.errors import ServiceError
from hotline.common.netaddr import request_client_ip

from .. import replay
from ..auth import address_allowed
from ..models import Open311Request, Partner, PartnerCall
from ..services import call_record, partner_for_api_key
from . import catalogue, requests_view
from .render import errors, respond

MAX_DAYS = 90
MAX_RESULTS = 1000


def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    base = request.build_absolute_uri(reverse("open311-root"))
    return respond(
        fmt,
        "discovery",
        {
            "changeset": "2026-12-07T00:00:00+08:00",
            "contact": getattr(settings, "HOTLINE_OPEN311_CONTACT", "12345 热线办"),
            "key_service": request.build_absolute_uri(reverse("open311-key-request")),
            "endpoints": [
                {
                    "specification": "http://wiki.open311.org/GeoReport_v2",
                    "url": base.rstrip("/"),
                    "changeset": "2026-12-07T00:00:00+08:00",
                    "type": "production",
                    "formats": ["application/json", "text/xml"],
                }
            ],
        },
    )


@require_GET
def root(request: HttpRequest) -> HttpResponse:
    return respond(
        "json", "discovery", {"see": request.build_absolute_uri(reverse("open311-discovery", args=["json"]))}
    )


@require_GET
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    return respond(fmt, "services", catalogue.services())


@require_GET
def service_definition(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    definition = catalogue.definition(code)
    if definition is None:
        return errors(fmt, 404, _("没有这项服务：%(code)s") % {"code": code[:40]})
    return respond(fmt, "service_definition", definition)


def _logged(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A call that presents an `api_key` is a partner's call: logged in the partner's call log like every signed
    call (an unknown key as a refused call of nobody). Keyless public reads are not partner calls."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        started = time.monotonic()
        response = view(request, *args, **kwargs)
        keyed = request.POST.get("api_key") if request.method == "POST" else request.GET.get("api_key")
        if keyed:
            partner = getattr(request, "open311_partner", None)
            call_record(
                partner=partner,
                direction=PartnerCall.Direction.IN,
                method=request.method or "",
                path=request.path,
                status_code=response.status_code,
                reason=""
                if response.status_code < 400
                else ("bad_api_key" if partner is None else "open311"),
                client_ip=request_client_ip(request),
                duration_ms=int((time.monotonic() - started) * 1000),
            )
        return response

    return wrapped


@csrf_exempt
@require_http_methods(["GET", "POST"])
@_logged
def request_list(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _post_request(request, fmt)
    partner, refusal = _optional_partner(request, fmt)
    if refusal:
        return refusal
    try:
        window = _window(request.GET.get("start_date"), request.GET.get("end_date"))
    except ValueError as exc:
        return errors(fmt, 400, str(exc))
    rows = requests_view.search(
        partner=partner,
        ids=[i.strip() for i in request.GET.get("service_request_id", "").split(",") if i.strip()][
            :MAX_RESULTS
        ],
        service_codes=[c.strip() for c in request.GET.get("service_code", "").split(",") if c.strip()],
        statuses=[s.strip() for s in request.GET.get("status", "").split(",") if s.strip()],
        window=window,
        limit=MAX_RESULTS,
    )
    return respond(fmt, "service_requests", rows)


@require_GET
@_logged
def request_detail(request: HttpRequest, request_id: str, fmt: str) -> HttpResponse:
    partner, refusal = _optional_partner(request, fmt)
    if refusal:
        return refusal
    rows = requests_view.search(partner=partner, ids=[request_id[:40]], window=None, limit=1)
    if not rows:
        return errors(fmt, 404, _("没有这条诉求，或它不公开"))
    return respond(fmt, "service_requests", rows)


@require_GET
def token_detail(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    link = Open311Request.objects.filter(token=token[:40]).first()
    if link is None:
        return errors(fmt, 404, _("令牌不存在"))
    number = Case.objects.filter(pk=link.case_id).values_list("number", flat=True).first()
    return respond(fmt, "service_requests", [{"service_request_id": number, "token": link.token}])


def _post_request(request: HttpRequest, fmt: str) -> HttpResponse:
    data = request.POST
    partner = partner_for_api_key(data.get("api_key", "")[:100])
    if partner is None:
        return errors(fmt, 403, _("api_key 无效"))
    request.open311_partner = partner  # type: ignore[attr-defined]
    refusal = _partner_limits(request, partner, fmt)
    if refusal:
        return refusal
    case_type = catalogue.case_type(data.get("service_code", "")[:40])
    problems = []
    if case_type is None:
        problems.append(_("service_code 无效"))
    description = data.get("description", "").strip()
    if not description:
        problems.append(_("description 必填"))
    address = data.get("address_string", "").strip()
    lat, lon = data.get("lat", "").strip(), data.get("long", "").strip()
    if not address and not (lat and lon) and not data.get("address_id"):
        problems.append(_("请提供位置：lat/long、address_string 或 address_id"))
    if lat or lon:
        try:
            if not (-90 <= float(lat) <= 90 and -180 <= float(lon) <= 180):
                raise ValueError
        except ValueError:
            problems.append(_("lat/long 无效"))
    if problems:
        return errors(fmt, 400, *problems)
    assert case_type is not None
    token = secrets.token_urlsafe(16)
    name = (data.get("last_name", "") + data.get("first_name", "")).strip()
    origin = {"open311": {"lat": lat, "long": lon, "address_id": data.get("address_id", "")[:100],
                          "media_url": data.get("media_url", "")[:500], "device_id": data.get("device_id", "")[:100]}}  # fmt: skip
    requester = case_services.Requester(
        channel=Channel.APP, account=partner.code, external_id=(data.get("account_id") or token)[:100]
    )
    try:
        with transaction.atomic():
            result = case_services.case_request_from_channel(
                data=case_services.CaseInput(
                    case_type=case_type, content=description[:5000], channel=Channel.APP, citizen_name=name[:50],
                    citizen_phone=data.get("phone", "").strip()[:20], citizen_email=data.get("email", "").strip()[:100],
                    location=address[:200], title=description[:30], origin=origin,
                ),
                requester=requester,
            )  # fmt: skip
            Open311Request.objects.create(
                partner=partner, token=token, case_id=result.case.pk, created_at=clock.now(),
                case_created_at=result.case.created_at,
            )  # fmt: skip
    except ServiceError as exc:
        messages = [f"{field}: {' '.join(msgs)}" for field, msgs in exc.field_errors.items()] or [exc.message]
        return errors(fmt, 400, *messages)
    answer = {
        "service_request_id": result.case.number,
        "token": token,
        "service_notice": _("已收到，等待热线坐席受理"),
        "account_id": data.get("account_id", "")[:100],
    }
    return respond(fmt, "service_requests", [answer], status=201)


def _optional_partner(request: HttpRequest, fmt: str) -> tuple[Partner | None, HttpResponse | None]:
    key = request.GET.get("api_key", "")
    if not key:
        return None, None
    partner = partner_for_api_key(key[:100])
    request.open311_partner = partner  # type: ignore[attr-defined]
    if partner is None:
        return None, errors(fmt, 403, _("api_key 无效"))
    return partner, _partner_limits(request, partner, fmt)


def _partner_limits(request: HttpRequest, partner: Partner, fmt: str) -> HttpResponse | None:
    """The partner's address allowlist and per-minute limit (the counter its signed calls share)."""
    if not address_allowed(partner.allowed_networks, request_client_ip(request)):
        return errors(fmt, 403, _("来源地址不在白名单内"))
    if replay.count(partner_id=partner.pk, minute=int(time.time() // 60)) > partner.rate_per_minute:
        return errors(fmt, 429, _("请求过于频繁"))
    return None


def _window(start: str | None, end: str | None) -> tuple[dt.datetime, dt.datetime]:
    """The standard's defaults: the last 90 days; a range longer than 90 days is refused."""
    end_at = _when(end, "end_date") if end else clock.now()
    start_at = _when(start, "start_date") if start else end_at - dt.timedelta(days=MAX_DAYS)
    if start_at > end_at:
        raise ValueError(_("start_date 晚于 end_date"))
    if end_at - start_at > dt.timedelta(days=MAX_DAYS):
        raise ValueError(_("查询区间不能超过 90 天"))
    return start_at, end_at


def _when(text: str, name: str) -> dt.datetime:
    try:
        moment = parse_datetime(text.replace(" ", "+")[:40])
    except ValueError:
        moment = None
    if moment is None:
        raise ValueError(_("%(name)s 应为 W3C 时间格式，如 2026-12-01T00:00:00Z") % {"name": name})
    if moment.tzinfo is None:
        raise ValueError(_("%(name)s 须带时区") % {"name": name})
    if not 1900 <= moment.year <= 2199:
        raise ValueError(_("%(name)s 超出范围") % {"name": name})
    return moment
