"""The WeChat server endpoint: URL verification (GET) and messages (POST), plain or safe mode.

Every refusal answers 4xx with a reason code and is recorded (ChannelRejection) for the abuse figures; an accepted
message answers with a passive reply (encrypted in safe mode) or `success` when there is nothing to say.
"""

from __future__ import annotations

import time

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseNotAllowed
from django.views.decorators.csrf import csrf_exempt

from hotline.common.netaddr import request_client_ip
from hotline.common.refcache import RefCache

from ..models import ChannelKind, ChannelRejection, WeChatAccount
from . import conversation, news
from .protocol import (
    Account,
    MessageCrypto,
    ProtocolError,
    check_signature,
    check_timestamp,
    news_reply,
    parse_xml,
    text_reply,
)


def _refuse(account: WeChatAccount, request: HttpRequest, error: ProtocolError) -> HttpResponse:
    ChannelRejection.objects.create(
        channel=ChannelKind.WECHAT,
        account=account.app_id,
        code=error.code,
        address=request_client_ip(request),
    )
    status = 401 if error.code in {"bad_signature", "stale_timestamp", "bad_timestamp", "bad_appid"} else 400
    return HttpResponse(error.code, status=status, content_type="text/plain")


# The accounts from the process's cache (refreshed on a save here, within a minute elsewhere): every message
# names its account, and reading it was one query and the AES key's decryption per message.
ACCOUNTS: RefCache[WeChatAccount] = RefCache(WeChatAccount)
_CRYPTO: dict[tuple[str, str, str], MessageCrypto] = {}


def _crypto(account: WeChatAccount) -> MessageCrypto:
    key = (account.app_id, account.token, account.encoding_aes_key_encrypted)
    crypto = _CRYPTO.get(key)
    if crypto is None:
        crypto = MessageCrypto(
            Account(app_id=account.app_id, token=account.token, encoding_aes_key=account.encoding_aes_key)
        )
        if len(_CRYPTO) > 64:
            _CRYPTO.clear()
        _CRYPTO[key] = crypto
    return crypto


@csrf_exempt
def wechat_endpoint(request: HttpRequest, app_id: str) -> HttpResponse:
    account = ACCOUNTS.get_by(app_id=app_id)
    if account is None or not account.is_active:
        raise Http404
    q = request.GET
    try:
        check_timestamp(q.get("timestamp", ""), now=time.time())
        if request.method == "GET":
            check_signature(q.get("signature", ""), account.token, q.get("timestamp", ""), q.get("nonce", ""))
            return HttpResponse(q.get("echostr", ""), content_type="text/plain")
        if request.method != "POST":
            return HttpResponseNotAllowed(["GET", "POST"])
        raw, crypto = _open(account, request)
        fields = parse_xml(raw)
    except ProtocolError as error:
        return _refuse(account, request, error)
    if not fields.get("FromUserName") or not fields.get("MsgType"):
        return HttpResponseBadRequest("bad_message", content_type="text/plain")
    reply = conversation.receive(
        account=account, message=conversation.incoming(fields), raw=raw.decode("utf-8", "replace")
    )
    if not reply:
        return HttpResponse("success", content_type="text/plain")
    articles = news.decode(reply)
    if articles is not None:  # a news reply (announcements, knowledge)
        body = news_reply(
            to_user=fields["FromUserName"],
            from_user=fields.get("ToUserName", ""),
            articles=articles,
            created=int(time.time()),
        )
    else:
        body = text_reply(
            to_user=fields["FromUserName"],
            from_user=fields.get("ToUserName", ""),
            content=reply,
            created=int(time.time()),
        )
    if crypto is not None:
        body = crypto.encrypt(body, timestamp=q.get("timestamp", ""), nonce=q.get("nonce", ""))
    return HttpResponse(body, content_type="application/xml; charset=utf-8")


def _open(account: WeChatAccount, request: HttpRequest) -> tuple[bytes, MessageCrypto | None]:
    """The message XML, decrypted in safe mode; the signature checked either way."""
    q = request.GET
    timestamp, nonce = q.get("timestamp", ""), q.get("nonce", "")
    if q.get("encrypt_type", "raw") == "aes":
        if not account.encoding_aes_key:
            raise ProtocolError("bad_mode", "该公众号未配置安全模式")
        envelope = parse_xml(request.body)
        crypto = _crypto(account)
        raw = crypto.decrypt(
            encrypt=envelope.get("Encrypt", ""),
            msg_signature=q.get("msg_signature", ""),
            timestamp=timestamp,
            nonce=nonce,
        )
        return raw, crypto
    check_signature(q.get("signature", ""), account.token, timestamp, nonce)
    return request.body, None
