"""A partner system on 127.0.0.1 for contract tests: a real HTTP server that checks our signature like a partner
would (with the module we give partners) and can be taken down and brought back."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from hotline.integrations import signing


@dataclass
class PartnerServer:
    secret: bytes
    code: str
    algorithm: str = signing.HMAC_SHA256
    down: bool = False
    received: list[dict[str, Any]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    bad_signatures: int = 0
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/12345?v=1"

    def start(self) -> PartnerServer:
        partner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if partner.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                expected = signing.sign(
                    secret=partner.secret, method="POST", path=self.path,
                    timestamp=self.headers[signing.HEADER_TIMESTAMP], nonce=self.headers[signing.HEADER_NONCE],
                    body=body, algorithm=partner.algorithm,
                )  # fmt: skip
                if self.headers[signing.HEADER_PARTNER] != partner.code or not signing.signatures_equal(
                    expected, self.headers[signing.HEADER_SIGNATURE]
                ):
                    partner.bad_signatures += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                partner.keys.append(self.headers["Idempotency-Key"])
                partner.received.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
