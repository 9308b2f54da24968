"""The outbound side of WeChat: the official account's access token and the customer-service message API
(客服消息), which carries an agent's online-chat lines to a follower after the passive reply's 5 seconds are gone.

Spoken over HTTP to the account's `api_base_url` (https://api.weixin.qq.com in production; tests point it at a
loopback stand-in speaking WeChat's JSON). The token (GET /cgi-bin/token) is cached in the shared cache until
shortly before it expires; an answer saying the token is invalid or expired (40001, 40014, 42001) drops it and
tries once more with a fresh one. Progress notices may go as template messages (模板消息, `send_template`).
"""

from __future__ import annotations

import json
import logging
import mimetypes
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from django.core.cache import cache

from ..models import WeChatAccount

logger = logging.getLogger(__name__)
TIMEOUT_SECONDS = 5.0
TOKEN_ERRORS = {40001, 40014, 42001}
TOKEN_MARGIN_SECONDS = 300
MAX_TEXT = 2000  # WeChat takes up to 2048 bytes of content per text message; longer lines are cut


class WeChatApiError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.attempts = 1


def _call(url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    if data is not None:
        request.add_header("Content-Type", "application/json; charset=utf-8")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 (configured URL)
            answer = json.loads(response.read().decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise WeChatApiError(-1, f"unreachable or bad answer: {exc}") from exc
    if not isinstance(answer, dict):
        raise WeChatApiError(-1, "bad answer")
    code = int(answer.get("errcode", 0) or 0)
    if code:
        raise WeChatApiError(code, str(answer.get("errmsg", "")))
    return answer


def _token_key(account: WeChatAccount) -> str:
    return f"wechat-token:{account.app_id}"


def access_token(account: WeChatAccount, *, fresh: bool = False) -> str:
    key = _token_key(account)
    if not fresh and (token := cache.get(key)):
        return str(token)
    query = urllib.parse.urlencode(
        {"grant_type": "client_credential", "appid": account.app_id, "secret": account.app_secret}
    )
    answer = _call(f"{account.api_base_url.rstrip('/')}/cgi-bin/token?{query}")
    token = str(answer.get("access_token", ""))
    if not token:
        raise WeChatApiError(-1, "no access_token in the answer")
    lifetime = int(answer.get("expires_in", 7200) or 7200)
    cache.set(key, token, max(lifetime - TOKEN_MARGIN_SECONDS, 60))
    return token


def send_text(account: WeChatAccount, *, open_id: str, text: str) -> None:
    """A customer-service text message to a follower (within 48 hours of their last message, WeChat's rule)."""
    body = {"touser": open_id, "msgtype": "text", "text": {"content": text[:MAX_TEXT]}}
    base = account.api_base_url.rstrip("/")
    for attempt in (1, 2):
        token = access_token(account, fresh=attempt == 2)
        try:
            _call(f"{base}/cgi-bin/message/custom/send?access_token={urllib.parse.quote(token)}", body)
            return
        except WeChatApiError as exc:
            if exc.code in TOKEN_ERRORS and attempt == 1:
                cache.delete(_token_key(account))
                continue
            raise


UNSUBSCRIBED = 43004  # "require subscribe": the follower has left the account


def send_template(
    account: WeChatAccount, *, open_id: str, template_id: str, data: dict[str, dict[str, str]], url: str = ""
) -> tuple[str, int]:
    """A template message (模板消息, POST /cgi-bin/message/template/send): (WeChat's msgid, calls made). A token
    error (40001 invalid credential, 42001 expired…) fetches a fresh token and retries once; any other errcode
    (43004 unsubscribed, 40037 bad template id…) is raised at once, its `attempts` set."""
    body: dict[str, Any] = {"touser": open_id, "template_id": template_id, "data": data}
    if url:
        body["url"] = url
    base = account.api_base_url.rstrip("/")
    for attempt in (1, 2):
        try:
            token = access_token(account, fresh=attempt == 2)
            answer = _call(
                f"{base}/cgi-bin/message/template/send?access_token={urllib.parse.quote(token)}", body
            )
        except WeChatApiError as exc:
            if exc.code in TOKEN_ERRORS and attempt == 1:
                cache.delete(_token_key(account))
                continue
            exc.attempts = attempt
            raise
        return str(answer.get("msgid", ""))[:32], attempt
    raise WeChatApiError(-1, "unreachable")  # pragma: no cover (the loop returns or raises)


MAX_MEDIA_BYTES = 10 * 1024 * 1024  # WeChat's own limit for an image message is 10 MB


def get_media(account: WeChatAccount, *, media_id: str) -> tuple[bytes, str, str]:
    """A follower's image (or other temporary media, kept 3 days by WeChat): (content, content type, file name)
    from GET /cgi-bin/media/get. WeChat answers JSON only for an error (40007 invalid media_id, token errors)."""
    base = account.api_base_url.rstrip("/")
    for attempt in (1, 2):
        token = access_token(account, fresh=attempt == 2)
        query = urllib.parse.urlencode({"access_token": token, "media_id": media_id})
        request = urllib.request.Request(f"{base}/cgi-bin/media/get?{query}")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                content_type = response.headers.get_content_type()
                data = response.read(MAX_MEDIA_BYTES + 1)
                disposition = response.headers.get("Content-Disposition", "")
        except OSError as exc:
            raise WeChatApiError(-1, f"unreachable: {exc}") from exc
        if len(data) > MAX_MEDIA_BYTES:
            raise WeChatApiError(-2, "media too large")
        if content_type in {"application/json", "text/plain"}:
            try:
                answer = json.loads(data.decode("utf-8"))
            except ValueError as exc:
                raise WeChatApiError(-1, "bad answer") from exc
            code = int(answer.get("errcode", -1) or -1) if isinstance(answer, dict) else -1
            if code in TOKEN_ERRORS and attempt == 1:
                cache.delete(_token_key(account))
                continue
            raise WeChatApiError(code, str(answer.get("errmsg", "")) if isinstance(answer, dict) else "")
        name = ""
        if 'filename="' in disposition:
            name = disposition.split('filename="', 1)[1].split('"', 1)[0]
        if not name:
            name = media_id[:40] + (mimetypes.guess_extension(content_type) or ".jpg")
        return data, content_type, name.replace("/", "_").replace("\\", "_")[:100]
    raise WeChatApiError(-1, "no media")
