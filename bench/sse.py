"""The benches' SSE reader: one browser-like stream (`GET` with `Accept: text/event-stream`, an optional session
cookie) read line by line on asyncio, many per process. `opened` is set at the server's `retry:` line; every
`data:` line is decoded and handed to `on_data` with the moment it arrived."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any


class SseStream:
    def __init__(self, port: int, path: str, *, cookie: str = "") -> None:
        self.port, self.path, self.cookie = port, path, cookie
        self.opened = asyncio.Event()
        self.status = ""  # the HTTP status line

    def on_data(self, data: dict[str, Any], received_at: float) -> None:
        """One event's JSON; what a bench times."""

    async def run(self) -> None:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:
            return
        cookie = f"Cookie: {self.cookie}\r\n" if self.cookie else ""
        writer.write(
            f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n{cookie}\r\n".encode()
        )
        await writer.drain()
        try:
            while True:
                raw = await reader.readline()
                if not raw:
                    return
                line = raw.decode(errors="replace").strip()
                if line.startswith("HTTP/1.1"):
                    self.status = line
                elif line.startswith("retry:"):
                    self.opened.set()
                elif line.startswith("data: "):
                    self.on_data(json.loads(line[6:]), time.time())
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            writer.close()
