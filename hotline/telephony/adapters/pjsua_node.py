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
        self,
        *,
        name: str,
        host: str = "127.0.0.1",
        port: int,
        connect_timeout: float = 10.0,
        reconnect_seconds: float = 0.5,
    ) -> None:
        self.name = name
        self.events: queue.Queue[MediaEvent] = queue.Queue()
        self._events_lock = threading.Lock()
        self._lock = threading.Lock()
        self._address = (host, port)
        self._reconnect_seconds = reconnect_seconds
        self._closed = False
        deadline = time.monotonic() + connect_timeout
        while True:
            try:
                sock: socket.socket | None = self._connect()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self._sock = sock
        threading.Thread(target=self._reader, daemon=True, name=f"media-{name}").start()

    def _put(self, event: MediaEvent) -> None:
        with self._events_lock:
            self.events.put(event)

    def attach(self, inbox: queue.Queue[MediaEvent]) -> None:
        """From now on events go into `inbox` (a pool's queue shared by its nodes); those already here first."""
        with self._events_lock:
            while True:
                try:
                    inbox.put(self.events.get_nowait())
                except queue.Empty:
                    break
            self.events = inbox

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self._address, timeout=2)
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _reader(self) -> None:
        """Events from the node. When the connection is lost (the node died): NODE_DOWN, then the node is called
        again every `reconnect_seconds` until it answers — a node that comes back is adopted again (it says
        NODE_UP on the new connection) without restarting the controller."""
        while True:
            sock = self._sock
            buf = b""
            while sock is not None:
                try:
                    chunk = sock.recv(65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    break
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    msg = json.loads(line)
                    kind = msg.pop("ev")
                    leg = msg.pop("leg", "")
                    msg.pop("node", None)
                    self._put(MediaEvent(kind, leg=leg, node=self.name, data=msg))
            with self._lock:
                self._sock = None
            if self._closed:
                return
            self._put(MediaEvent(Ev.NODE_DOWN, node=self.name))
            while not self._closed:
                time.sleep(self._reconnect_seconds)
                try:
                    sock = self._connect()
                except OSError:
                    continue
                with self._lock:
                    if self._closed:
                        sock.close()
                        return
                    self._sock = sock
                break
            if self._closed:
                return

    def _send(self, op: str, **params: Any) -> None:
        line = (json.dumps({"op": op, **params}) + "\n").encode()
        with self._lock:
            if self._sock is None:
                raise ConnectionError(f"media node {self.name} is down")
            self._sock.sendall(line)

    # ------------------------------------------------------------------ the port
    def answer(self, leg: str) -> None:
        self._send("answer", leg=leg)

    def play(self, leg: str, prompt: str, *, loop: bool = False, rec: str = "") -> None:
        if rec:
            self._send("play", leg=leg, prompt=prompt, loop=loop, rec=rec)
        else:
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

    def call_out(
        self,
        leg: str,
        uri: str,
        *,
        caller_id: str = "",
        near: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        self._send("call_out", leg=leg, uri=uri, caller_id=caller_id, headers=headers or {})

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
        with self._lock:
            sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
