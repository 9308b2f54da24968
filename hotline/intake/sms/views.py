"""The endpoint smsbox's `sms-service` get-url calls (no login: the deployment's MO key authenticates Kannel).

It answers with an empty body (configure `omit-empty = true`): the acknowledgement goes out through the outbox,
with a delivery report, instead of as smsbox's direct reply."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from hotline.cases.models import Channel
from hotline.citizens.selectors import blacklist_lookup
from hotline.common.errors import ServiceError
from hotline.common.netaddr import request_client_ip

from ..models import ChannelRejection
from . import mo


def _refuse(request: HttpRequest, account: str, code: str, status: int) -> HttpResponse:
    ChannelRejection.objects.create(
        channel=Channel.SMS, account=account[:64], code=code, address=request_client_ip(request)
    )
    return HttpResponse(code, status=status, content_type="text/plain")


@csrf_exempt
@require_GET
def kannel_mo(request: HttpRequest) -> HttpResponse:
    params = mo.decode_query(request.META.get("QUERY_STRING", ""))
    account = params.get("to", "")[:64] or "kannel"
    if not mo.valid_mo_key(params.get("key", "")):
        return _refuse(request, account, "bad_key", 403)
    sender, text, message_id = params.get("from", ""), params.get("text", ""), params.get("id", "")
    if not sender or not message_id or len(message_id) > 128 or len(sender) > 32:
        return _refuse(request, account, "bad_message", 400)
    if not text.strip():
        return _refuse(request, account, "empty_text", 400)
    if blacklist_lookup(sender) is not None:  # CIT-4: nothing saved, no reply, the refusal counted
        return _refuse(request, account, "blacklisted", 403)
    try:
        mo.receive(
            account=account,
            message_id=message_id,
            sender=sender,
            text=text[:2000],
            raw=request.META.get("QUERY_STRING", "")[:4000],
        )
    except ServiceError as exc:
        return _refuse(request, account, (exc.code or "refused")[:32], 400)
    return HttpResponse("", content_type="text/plain; charset=utf-8")
