"""MediaEngine adapter for the pjsua2 media node (`medianode.py`): JSON lines over one local TCP connection."""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
import time
from typing import Any

from ..engine import Ev, MediaEvent


class PjsuaNodeEngine:
    def __init__(
        self, *, name: str, host: str = "127.0.0.1", port: int, connect_timeout: float = 10.0
    ) -> None:
        self.name = name
        self.events: queue.Queue[MediaEvent] = queue.Queue()
        self._lock = threading.Lock()
        deadline = time.monotonic() + connect_timeout
        while True:
            try:
                self._sock = socket.create_connection((host, port), timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self._sock.settimeout(None)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._closed = False
        threading.Thread(target=self._reader, daemon=True, name=f"media-{name}").start()

    def _reader(self) -> None:
        buf = b""
        while True:
            try:
                chunk = self._sock.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                if not self._closed:
                    self.events.put(MediaEvent(Ev.NODE_DOWN, node=self.name))
                return
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                msg = json.loads(line)
                kind = msg.pop("ev")
                leg = msg.pop("leg", "")
                msg.pop("node", None)
                self.events.put(MediaEvent(kind, leg=leg, node=self.name, data=msg))

    def _send(self, op: str, **params: Any) -> None:
        line = (json.dumps({"op": op, **params}) + "\n").encode()
        with self._lock:
            self._sock.sendall(line)

    # ------------------------------------------------------------------ the port
    def answer(self, leg: str) -> None:
        self._send("answer", leg=leg)

    def play(self, leg: str, prompt: str, *, loop: bool = False) -> None:
        self._send("play", leg=leg, prompt=prompt, loop=loop)

    def stop_play(self, leg: str) -> None:
        self._send("stop_play", leg=leg)

    def park(self, leg: str, music: str) -> None:
        self._send("park", leg=leg, prompt=music)

    def collect_digits(
        self, leg: str, *, max_digits: int, timeout_ms: int, terminator: str = "#", flush: bool = False
    ) -> None:
        self._send(
            "collect",
            leg=leg,
            max_digits=max_digits,
            timeout_ms=timeout_ms,
            terminator=terminator,
            flush=flush,
        )

    def record(self, rec: str, path: str, legs: list[str]) -> None:
        self._send("record", rec=rec, path=path, legs=legs)

    def stop_record(self, rec: str) -> None:
        self._send("stop_record", rec=rec)

    def call_out(self, leg: str, uri: str, *, caller_id: str = "", near: str = "") -> None:
        self._send("call_out", leg=leg, uri=uri, caller_id=caller_id)

    def bridge(self, leg_a: str, leg_b: str) -> None:
        self._send("bridge", a=leg_a, b=leg_b)

    def unbridge(self, leg_a: str, leg_b: str) -> None:
        self._send("unbridge", a=leg_a, b=leg_b)

    def connect(self, src: str, dst: str, *, stop_music: bool = False) -> None:
        self._send("connect", src=src, dst=dst, stop_music=stop_music)

    def disconnect(self, src: str, dst: str) -> None:
        self._send("disconnect", src=src, dst=dst)

    def record_add(self, rec: str, leg: str) -> None:
        self._send("record_add", rec=rec, leg=leg)

    def tap(self, rec: str, leg: str, path: str) -> None:
        self._send("tap", rec=rec, leg=leg, path=path)

    def hold(self, leg: str) -> None:
        self._send("hold", leg=leg)

    def retrieve(self, leg: str) -> None:
        self._send("retrieve", leg=leg)

    def transfer(self, leg: str, uri: str) -> None:
        self._send("transfer", leg=leg, uri=uri)

    def hangup(self, leg: str, *, code: int = 0) -> None:
        self._send("hangup", leg=leg, code=code)

    def next_event(self, timeout: float) -> MediaEvent | None:
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._sock.close()
