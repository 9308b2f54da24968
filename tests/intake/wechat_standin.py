"""A loopback stand-in for WeChat's API servers (https://api.weixin.qq.com): the access-token endpoint, the
customer-service and template message endpoints and temporary media, speaking WeChat's JSON, recording what the
platform sent."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests import ports

PORTS = range(18700, 18800)  # this suite's share of 127.0.0.1 (HOTLINE_TEST_PORTS moves it: tests/ports.py)


def free_port() -> int:
    return ports.free_port(PORTS)


class StandIn:
    def __init__(self, app_id: str, secret: str) -> None:
        self.app_id, self.secret = app_id, secret
        self.tokens_issued = 0
        self.sent: list[dict[str, Any]] = []
        self.expire_next = False  # answer the next send with 42001 (access_token expired)
        self.down = False
        self.media: dict[str, tuple[bytes, str]] = {}  # media_id → (content, content type)
        self.media_fetched: list[str] = []
        self.lock = threading.Lock()
        self.url = ""
        self.templates: dict[str, set[str]] = {}  # template id → its field keys (40037 for another id)
        self.templates_sent: list[dict[str, Any]] = []
        self.template_calls = 0
        self.unsubscribed: set[str] = set()  # open ids answered 43004 (require subscribe)
        self.refuse_tokens = False  # every template call answered 40001, whatever the token

    def rotate_token(self) -> None:
        """The token given out stops working (another server fetched a new one, or it expired): calls with it get
        40001 until the platform fetches a fresh one."""
        with self.lock:
            self.tokens_issued += 1

    def token(self) -> str:
        return f"TOKEN-{self.tokens_issued}"

    def handle(
        self, method: str, path: str, query: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any] | tuple[bytes, str]]:
        with self.lock:
            if self.down:
                return 503, {"errcode": -1, "errmsg": "system busy"}
            if path == "/cgi-bin/token" and method == "GET":
                if query.get("appid") != self.app_id or query.get("secret") != self.secret:
                    return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
                self.tokens_issued += 1
                return 200, {"access_token": self.token(), "expires_in": 7200}
            if path == "/cgi-bin/message/custom/send" and method == "POST":
                if query.get("access_token") != self.token():
                    return 200, {"errcode": 40001, "errmsg": "invalid credential"}
                if self.expire_next:
                    self.expire_next = False
                    return 200, {"errcode": 42001, "errmsg": "access_token expired"}
                self.sent.append(json.loads(body.decode("utf-8")))
                return 200, {"errcode": 0, "errmsg": "ok"}
            if path == "/cgi-bin/message/template/send" and method == "POST":
                self.template_calls += 1
                if self.refuse_tokens or query.get("access_token") != self.token():
                    return 200, {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
                message = json.loads(body.decode("utf-8"))
                if message.get("touser") in self.unsubscribed:
                    return 200, {"errcode": 43004, "errmsg": "require subscribe"}
                keys = self.templates.get(message.get("template_id", ""))
                if keys is None:
                    return 200, {"errcode": 40037, "errmsg": "invalid template_id"}
                data = message.get("data")
                if (
                    not isinstance(data, dict)
                    or set(data) - keys
                    or not all("value" in v for v in data.values())
                ):
                    return 200, {"errcode": 47003, "errmsg": "argument invalid! data.value invalid"}
                self.templates_sent.append(message)
                return 200, {"errcode": 0, "errmsg": "ok", "msgid": 200228332 + len(self.templates_sent)}
            if path == "/cgi-bin/media/get" and method == "GET":
                if query.get("access_token") != self.token():
                    return 200, {"errcode": 40001, "errmsg": "invalid credential"}
                self.media_fetched.append(query.get("media_id", ""))
                if query.get("media_id") not in self.media:
                    return 200, {"errcode": 40007, "errmsg": "invalid media_id"}
                return 200, self.media[query["media_id"]]
            return 404, {"errcode": 404, "errmsg": "not found"}


@contextmanager
def wechat_api(app_id: str, secret: str) -> Iterator[StandIn]:
    standin = StandIn(app_id, secret)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method: str) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, payload = standin.handle(method, url.path, query, body)
            if isinstance(payload, tuple):  # a media file, as WeChat sends it
                data, content_type = payload
                ext = {"image/png": "png", "image/gif": "gif"}.get(content_type, "jpg")
                disposition = f'attachment; filename="{query.get("media_id", "media")}.{ext}"'
            else:
                data = json.dumps(payload, ensure_ascii=False).encode()
                content_type, disposition = "application/json; charset=utf-8", ""
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            if disposition:
                self.send_header("Content-Disposition", disposition)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            self._answer("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._answer("POST")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    standin.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield standin
    finally:
        server.shutdown()
        server.server_close()
