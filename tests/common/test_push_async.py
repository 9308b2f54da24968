"""Push under ASGI: a stream waits on the event loop (no thread per stream), sees what is published after its
`retry` line, on the memory broker and through Redis pub/sub (db 7 of the local Redis when it answers)."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from typing import Any

import pytest

from hotline.common import push

REDIS_URL = os.environ.get("HOTLINE_TEST_PUSH_REDIS", "redis://127.0.0.1:6379/7")


def _run(coro: Any) -> None:
    """asyncio.run in a thread of its own: the browser tests keep an event loop running in the test thread."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


async def _two_streams_get_their_own_messages(broker: push.MemoryBroker | push.RedisBroker) -> None:
    streams = [push._async_stream(f"t:{n}", 5.0, None) for n in range(300)]
    # Every stream is subscribed once its retry line is out, all on one event loop thread.
    assert [await s.__anext__() for s in streams] == ["retry: 2000\n\n"] * 300
    threads_before = threading.active_count()
    # Published from another thread (a web request's commit), as in production.
    await asyncio.to_thread(broker.publish, "t:7", {"n": 7})
    await asyncio.to_thread(broker.publish, "t:299", {"n": 299})
    got7 = await asyncio.wait_for(streams[7].__anext__(), 5)
    got299 = await asyncio.wait_for(streams[299].__anext__(), 5)
    assert json.loads(got7.removeprefix("data: ")) == {"n": 7}
    assert json.loads(got299.removeprefix("data: ")) == {"n": 299}
    # Nothing for the others: each gets a keep-alive only when its own timeout passes.
    assert threading.active_count() <= threads_before + 2
    for s in streams:
        await s.aclose()


def test_memory_broker_streams_on_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    broker = push.MemoryBroker()
    monkeypatch.setattr(push, "_broker", broker)
    _run(_two_streams_get_their_own_messages(broker))
    assert all(not subs for subs in broker._subs.values())  # closed streams unsubscribed


def _redis_broker() -> push.RedisBroker:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError:
        pytest.skip("no Redis at " + REDIS_URL)
    return push.RedisBroker(REDIS_URL)


def test_redis_broker_streams_on_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    broker = _redis_broker()
    monkeypatch.setattr(push, "_broker", broker)
    _run(_two_streams_get_their_own_messages(broker))


def test_keepalive_when_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    broker = push.MemoryBroker()
    monkeypatch.setattr(push, "_broker", broker)

    async def run() -> None:
        stream = push._async_stream("quiet", 0.05, None)
        assert await stream.__anext__() == "retry: 2000\n\n"
        assert await stream.__anext__() == ": keep-alive\n\n"
        await stream.aclose()

    _run(run())


def _drop_our_pubsub_connections() -> int:
    """What a Redis restart does to this process: its pub/sub connections are closed by the server."""
    import redis

    admin = redis.Redis.from_url(REDIS_URL)
    ours = [c for c in admin.client_list(_type="pubsub") if c.get("name") == push.client_name()]
    for client in ours:
        admin.client_kill_filter(_id=client["id"])
    return len(ours)


async def _stream_outlives_a_dropped_connection(broker: push.RedisBroker) -> None:
    stream = broker.alisten("t:reconnect", timeout=0.2)
    assert await stream.__anext__() == ""
    assert await asyncio.to_thread(_drop_our_pubsub_connections) >= 1
    got = None
    for _ in range(100):  # the reader waits RECONNECT_SECONDS, then reads again and subscribes anew
        await asyncio.to_thread(broker.publish, "t:reconnect", {"n": 1})
        got = await stream.__anext__()
        if got:
            break
    assert got is not None and json.loads(got) == {"n": 1}
    await stream.aclose()


def test_redis_streams_reconnect_after_the_connection_drops(monkeypatch: pytest.MonkeyPatch) -> None:
    broker = _redis_broker()
    monkeypatch.setattr(push, "RECONNECT_SECONDS", 0.1)
    _run(_stream_outlives_a_dropped_connection(broker))
    listener = broker.listen("t:reconnect-sync", timeout=0.1)  # the sync reader (the call controller's)
    assert _drop_our_pubsub_connections() >= 1
    got = None
    for _ in range(100):
        broker.publish("t:reconnect-sync", {"n": 2})
        got = next(listener)
        if got:
            break
    assert got is not None and json.loads(got) == {"n": 2}
    listener.close()
