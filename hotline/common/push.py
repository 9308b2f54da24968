"""Real-time push of agent and call events to the workbench (SSE).

In the embedded default the broker is in memory (the call controller runs in the web process); with
`HOTLINE_TELEPHONY_REDIS` set, events go through Redis pub/sub so a controller in another process reaches
every web worker. A channel is per agent (`agent:<pk>`)."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Generator
from typing import Any

from django.conf import settings


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
        self._redis.publish(f"hotline:tel:{channel}", json.dumps(message, ensure_ascii=False))

    def listen(self, channel: str, *, timeout: float) -> Generator[str | None, None, None]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(f"hotline:tel:{channel}")  # subscribed now, before the first message is asked for
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
            url = getattr(settings, "HOTLINE_TELEPHONY_REDIS", "")
            _broker = RedisBroker(url) if url else MemoryBroker()
        return _broker
