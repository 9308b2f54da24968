"""Real-time push to browsers (SSE) for every package: the call bar, live boards, chat.

In the embedded default the broker is in memory (publishers run in the web process); with
`HOTLINE_PUSH_REDIS` (or the older `HOTLINE_TELEPHONY_REDIS`) set, messages go through Redis pub/sub so a
publisher in another process (the call controller, a worker) reaches every web worker. Channels are names
chosen by the owning package (`agent:<pk>`, `board:unit:<pk>` ...); `sse_response` streams one of them."""

from __future__ import annotations

import asyncio
import json
import queue
import threading
from collections.abc import AsyncIterator, Generator, Iterator
from typing import Any

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import transaction
from django.http import HttpRequest, StreamingHttpResponse

KEEPALIVE_SECONDS = 15.0


class MemoryBroker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, list[queue.Queue[str]]] = {}

    def publish(self, channel: str, message: dict[str, Any]) -> None:
        data = json.dumps(message, ensure_ascii=False)
        with self._lock:
            subscribers = list(self._subs.get(channel, []))
        for q in subscribers:
            q.put(data)

    def listen(self, channel: str, *, timeout: float) -> Generator[str | None, None, None]:
        """Messages as they come; None after `timeout` seconds of silence (the caller sends a keep-alive)."""
        q: queue.Queue[str] = queue.Queue()
        with self._lock:  # subscribed now, before the first message is asked for
            self._subs.setdefault(channel, []).append(q)
        return self._messages(channel, q, timeout)

    def _messages(
        self, channel: str, q: queue.Queue[str], timeout: float
    ) -> Generator[str | None, None, None]:
        try:
            while True:
                try:
                    yield q.get(timeout=timeout)
                except queue.Empty:
                    yield None
        finally:
            with self._lock:
                self._subs[channel].remove(q)


class RedisBroker:
    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url)

    def publish(self, channel: str, message: dict[str, Any]) -> None:
        self._redis.publish(f"hotline:push:{channel}", json.dumps(message, ensure_ascii=False))

    def listen(self, channel: str, *, timeout: float) -> Generator[str | None, None, None]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(f"hotline:push:{channel}")  # subscribed now, before the first message is asked for
        return self._messages(pubsub, timeout)

    def _messages(self, pubsub: Any, timeout: float) -> Generator[str | None, None, None]:
        try:
            while True:
                msg = pubsub.get_message(timeout=timeout)
                yield msg["data"].decode() if msg else None
        finally:
            pubsub.close()


_broker: MemoryBroker | RedisBroker | None = None
_broker_lock = threading.Lock()


def broker() -> MemoryBroker | RedisBroker:
    global _broker
    with _broker_lock:
        if _broker is None:
            url = getattr(settings, "HOTLINE_PUSH_REDIS", "") or getattr(
                settings, "HOTLINE_TELEPHONY_REDIS", ""
            )
            _broker = RedisBroker(url) if url else MemoryBroker()
        return _broker


def publish(channel: str, message: dict[str, Any]) -> None:
    broker().publish(channel, message)


def publish_on_commit(channel: str, message: dict[str, Any]) -> None:
    """Push once the current transaction commits (nothing is pushed for a rolled-back change)."""
    transaction.on_commit(lambda: publish(channel, message))


def _sync_stream(channel: str, keepalive: float) -> Iterator[str]:
    listener = broker().listen(channel, timeout=keepalive)
    yield "retry: 2000\n\n"
    for message in listener:
        yield f"data: {message}\n\n" if message else ": keep-alive\n\n"


async def _async_stream(channel: str, keepalive: float) -> AsyncIterator[str]:
    listener = broker().listen(channel, timeout=keepalive)
    yield "retry: 2000\n\n"
    try:
        while True:
            message = await asyncio.to_thread(next, listener)
            yield f"data: {message}\n\n" if message else ": keep-alive\n\n"
    finally:
        await asyncio.to_thread(listener.close)


def sse_response(
    request: HttpRequest, channel: str, *, keepalive: float = KEEPALIVE_SECONDS
) -> StreamingHttpResponse:
    """An SSE stream of `channel`; the caller has already checked that the user may read it."""
    if isinstance(request, ASGIRequest):
        stream: Iterator[str] | AsyncIterator[str] = _async_stream(channel, keepalive)
    else:
        stream = _sync_stream(channel, keepalive)
    response = StreamingHttpResponse(stream, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
