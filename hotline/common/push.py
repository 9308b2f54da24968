"""Real-time push to browsers (SSE) for every package: the call bar, live boards, chat.

In the embedded default the broker is in memory (publishers run in the web process); with
`HOTLINE_PUSH_REDIS` (or the older `HOTLINE_TELEPHONY_REDIS`) set, messages go through Redis pub/sub so a
publisher in another process (the call controller, a worker) reaches every web worker. Channels are names
chosen by the owning package (`agent:<pk>`, `board:unit:<pk>` ...); `sse_response` streams one of them."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from typing import Any

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import connections, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.utils.translation import gettext as _

KEEPALIVE_SECONDS = 15.0
RECONNECT_SECONDS = 1.0  # wait before a pub/sub reader reconnects after Redis dropped it
log = logging.getLogger(__name__)


def client_name() -> str:
    """How this process's pub/sub connections are named in Redis (`CLIENT LIST`): one process, one name."""
    return f"hotline-push-{os.getpid()}"


class _LoopSink:
    """An asyncio subscriber of the memory broker: `put` (from any thread) hands the message to its loop."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[str] = asyncio.Queue()

    def put(self, data: str) -> None:
        self.loop.call_soon_threadsafe(self.queue.put_nowait, data)


class MemoryBroker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, list[queue.Queue[str] | _LoopSink]] = {}

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

    async def alisten(self, channel: str, *, timeout: float) -> AsyncIterator[str | None]:
        """As `listen`, for an ASGI server: waits on the event loop, holding no thread. The first item, "", says
        the subscription is in place."""
        sink = _LoopSink()
        with self._lock:
            self._subs.setdefault(channel, []).append(sink)
        try:
            yield ""
            while True:
                try:
                    yield await asyncio.wait_for(sink.queue.get(), timeout)
                except TimeoutError:
                    yield None
        finally:
            with self._lock:
                self._subs[channel].remove(sink)


class RedisBroker:
    def __init__(self, url: str) -> None:
        import redis

        self._url = url
        self._redis = redis.Redis.from_url(url, client_name=client_name())
        self._async: dict[int, Any] = {}  # one asyncio client per event loop (an ASGI worker has one)

    def publish(self, channel: str, message: dict[str, Any]) -> None:
        self._redis.publish(f"hotline:push:{channel}", json.dumps(message, ensure_ascii=False))

    def listen(self, channel: str, *, timeout: float) -> Generator[str | None, None, None]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(f"hotline:push:{channel}")  # subscribed now, before the first message is asked for
        return self._messages(pubsub, timeout)

    def _messages(self, pubsub: Any, timeout: float) -> Generator[str | None, None, None]:
        import redis

        try:
            while True:
                try:
                    msg = pubsub.get_message(timeout=timeout)
                except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                    # Redis restarted or dropped us: the next read reconnects and subscribes again (redis-py's
                    # on_connect); what was published in between is lost, as with any pub/sub.
                    log.warning("push: Redis pub/sub connection lost (%s); reconnecting", exc)
                    time.sleep(RECONNECT_SECONDS)
                    msg = None
                yield msg["data"].decode() if msg else None
        finally:
            pubsub.close()

    async def alisten(self, channel: str, *, timeout: float) -> AsyncIterator[str | None]:
        """As `listen`, for an ASGI server: no thread and no Redis connection per stream — one pub/sub
        connection per event loop carries every channel its streams listen to. The first item, "", says the
        subscription is in place."""
        loop = asyncio.get_running_loop()
        hub = self._async.get(id(loop))
        if hub is None:
            hub = self._async[id(loop)] = _RedisHub(self._url)
        q = await hub.subscribe(channel)
        try:
            yield ""
            while True:
                try:
                    yield await asyncio.wait_for(q.get(), timeout)
                except TimeoutError:
                    yield None
        finally:
            await hub.unsubscribe(channel, q)


class _RedisHub:
    """One asyncio pub/sub connection shared by the streams of an event loop; a reader task hands each message to
    the queues of its channel."""

    def __init__(self, url: str) -> None:
        import redis.asyncio

        self._pubsub = redis.asyncio.Redis.from_url(url, client_name=client_name()).pubsub(
            ignore_subscribe_messages=True
        )
        self._subs: dict[str, set[asyncio.Queue[str]]] = {}
        self._lock = asyncio.Lock()
        self._reader: asyncio.Task[None] | None = None

    async def subscribe(self, channel: str) -> asyncio.Queue[str]:
        key = f"hotline:push:{channel}"
        q: asyncio.Queue[str] = asyncio.Queue()
        async with self._lock:
            subs = self._subs.setdefault(key, set())
            if not subs:
                await self._pubsub.subscribe(key)
            subs.add(q)
            if self._reader is None or self._reader.done():
                self._reader = asyncio.create_task(self._read())
        return q

    async def unsubscribe(self, channel: str, q: asyncio.Queue[str]) -> None:
        key = f"hotline:push:{channel}"
        async with self._lock:
            subs = self._subs.get(key)
            if subs is None:
                return
            subs.discard(q)
            if not subs:
                del self._subs[key]
                await self._pubsub.unsubscribe(key)

    async def _read(self) -> None:
        import redis

        while True:
            try:
                msg = await self._pubsub.get_message(timeout=1.0)
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                # as in RedisBroker._messages: the next read reconnects and subscribes every channel again
                log.warning("push: Redis pub/sub connection lost (%s); reconnecting", exc)
                await asyncio.sleep(RECONNECT_SECONDS)
                continue
            if msg and msg.get("type") == "message":
                for q in list(self._subs.get(msg["channel"].decode(), ())):
                    q.put_nowait(msg["data"].decode())


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


# A stream's transform turns a message of the channel into what this subscriber receives (its own view of a
# shared "changed" notice, e.g. a board scoped to the viewer's unit); None drops the message.
Transform = Callable[[str], str | None]


def _event(message: str | None, transform: Transform | None) -> str | None:
    if message and transform is not None:
        message = transform(message)
        if message is None:
            return None
    return f"data: {message}\n\n" if message else ": keep-alive\n\n"


# --------------------------------------------------------------------------- the streams' database work, bounded
#
# A stream's view reads the database once (sign-in, session, who may listen) and then holds no connection while
# it streams. Under ASGI every request's sync part runs in a thread of its own, so a burst of stream opens (500
# citizens' chats at once) would open one PostgreSQL connection each at the same moment, past max_connections.
# `db_section` runs that work inside a process-wide semaphore of HOTLINE_PUSH_DB_SLOTS (the most connections
# the stream opens of one process take at once) and closes the thread's connections before it lets the next one
# in; a burst beyond the slots waits its turn (up to HOTLINE_PUSH_DB_WAIT_SECONDS, then 503).


class StreamsBusy(Exception):
    """No slot for a stream's database work came free in time."""


_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()


def _db_slots() -> threading.BoundedSemaphore:
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(max(1, int(getattr(settings, "HOTLINE_PUSH_DB_SLOTS", 8))))
        return _slots


def close_connections() -> None:
    """This thread's database connections closed (not one inside a transaction: a test's, or the caller's)."""
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close()


@contextlib.contextmanager
def db_section() -> Iterator[None]:
    """A bounded piece of a stream's database work: waits for one of the process's slots (StreamsBusy after
    HOTLINE_PUSH_DB_WAIT_SECONDS), and on leaving closes the connections it opened before freeing the slot."""
    slots = _db_slots()
    if not slots.acquire(timeout=float(getattr(settings, "HOTLINE_PUSH_DB_WAIT_SECONDS", 30.0))):
        raise StreamsBusy
    try:
        yield
    finally:
        try:
            close_connections()
        finally:
            slots.release()


def stream_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """For a view answering with `sse_response`, outermost (above `login_required`, whose sign-in read is part of
    the work): the view runs inside `db_section`, so stream opens use at most HOTLINE_PUSH_DB_SLOTS connections
    at once and none once streaming. A burst beyond the slots queues; one that waited too long gets 503."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            with db_section():
                return view(request, *args, **kwargs)
        except StreamsBusy:
            response = HttpResponse(
                _("服务繁忙，请稍后重试"), status=503, content_type="text/plain; charset=utf-8"
            )
            response["Retry-After"] = "2"
            return response

    wrapped.bounded_stream = True  # type: ignore[attr-defined]  # tests/common/test_push_slots.py
    return wrapped


def _bounded_event(message: str, transform: Transform) -> str | None:
    """A transform (it may query the database) inside a slot, its connection closed after."""
    try:
        with db_section():
            return _event(message, transform)
    except StreamsBusy:
        return None


def _sync_stream(channel: str, keepalive: float, transform: Transform | None) -> Iterator[str]:
    listener = broker().listen(channel, timeout=keepalive)
    yield "retry: 2000\n\n"
    for message in listener:
        event = (
            _event(message, None) if not message or transform is None else _bounded_event(message, transform)
        )
        if event is not None:
            yield event


async def _async_stream(channel: str, keepalive: float, transform: Transform | None) -> AsyncIterator[str]:
    """Under ASGI (scripts/serve-push.sh): every stream waits on the event loop, so one worker holds hundreds of
    them (a thread per stream, as under gunicorn's threads, would not). A transform (it may query the database)
    runs in a worker thread, inside a `db_section`."""
    listener = broker().alisten(channel, timeout=keepalive)
    try:
        async for message in listener:
            if message == "":  # subscribed: from here on nothing published is missed
                yield "retry: 2000\n\n"
                continue
            if message and transform is not None:
                event = await asyncio.to_thread(_bounded_event, message, transform)
            else:
                event = _event(message, None)
            if event is not None:
                yield event
    finally:
        await listener.aclose()  # type: ignore[attr-defined]


def sse_response(
    request: HttpRequest,
    channel: str,
    *,
    keepalive: float = KEEPALIVE_SECONDS,
    transform: Transform | None = None,
) -> StreamingHttpResponse:
    """An SSE stream of `channel`; the caller has already checked that the user may read it. `transform` rewrites
    each message for this subscriber (inside a `db_section`, as the view should be: `stream_view`).

    The stream needs no database: the view's connection is closed now (outside a transaction) instead of when
    the stream ends, or every open stream would hold one (500 chat streams > PostgreSQL's max_connections)."""
    close_connections()
    if isinstance(request, ASGIRequest):
        stream: Iterator[str] | AsyncIterator[str] = _async_stream(channel, keepalive, transform)
    else:
        stream = _sync_stream(channel, keepalive, transform)
    response = StreamingHttpResponse(stream, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
