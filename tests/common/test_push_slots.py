"""A burst of SSE stream opens: each stream view's database work (sign-in, session, who may listen) runs inside
one of HOTLINE_PUSH_DB_SLOTS, its connections closed before the slot is freed; a burst beyond the slots waits
its turn (503 only after HOTLINE_PUSH_DB_WAIT_SECONDS), and every stream route is so bounded."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver

from hotline.common import push


@pytest.fixture
def slots(monkeypatch: pytest.MonkeyPatch, settings: Any) -> Iterator[Any]:
    """A fresh semaphore sized by the setting the test gives."""
    monkeypatch.setattr(push, "_slots", None)
    yield settings
    push._slots = None


class Recorder:
    """A stand-in view that counts how many run at once and notes when a connection close happens."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.inside = 0
        self.peak = 0
        self.events: list[str] = []
        self.go = threading.Event()

    def view(self, request: Any) -> HttpResponse:
        with self.lock:
            self.inside += 1
            self.peak = max(self.peak, self.inside)
            self.events.append("enter")
        self.go.wait(0.05)  # hold the slot a little, so the others pile up behind it
        with self.lock:
            self.inside -= 1
        return HttpResponse("ok")


def test_a_burst_beyond_the_slots_queues_and_every_open_succeeds(slots: Any) -> None:
    slots.HOTLINE_PUSH_DB_SLOTS = 2
    slots.HOTLINE_PUSH_DB_WAIT_SECONDS = 30
    recorder = Recorder()
    view = push.stream_view(recorder.view)
    request = RequestFactory().get("/x/events/")
    statuses: list[int] = []
    threads = [threading.Thread(target=lambda: statuses.append(view(request).status_code)) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert statuses == [200] * 12  # none refused
    assert recorder.peak == 2  # never more than the slots at once (and the burst did fill them)


def test_connections_are_closed_before_the_slot_is_freed(slots: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    slots.HOTLINE_PUSH_DB_SLOTS = 1
    recorder = Recorder()
    monkeypatch.setattr(push, "close_connections", lambda: recorder.events.append("closed"))
    view = push.stream_view(recorder.view)
    request = RequestFactory().get("/x/events/")
    threads = [threading.Thread(target=view, args=(request,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    # one slot: every view's work ends with its connections closed before the next one starts
    assert recorder.events == ["enter", "closed"] * 4


def test_the_slot_is_freed_when_the_view_raises(slots: Any) -> None:
    slots.HOTLINE_PUSH_DB_SLOTS = 1

    def broken(request: Any) -> HttpResponse:
        raise LookupError

    with pytest.raises(LookupError):
        push.stream_view(broken)(RequestFactory().get("/x/events/"))
    assert push.stream_view(Recorder().view)(RequestFactory().get("/x/events/")).status_code == 200


def test_a_stream_open_that_waited_too_long_gets_503(slots: Any) -> None:
    slots.HOTLINE_PUSH_DB_SLOTS = 1
    slots.HOTLINE_PUSH_DB_WAIT_SECONDS = 0.05
    view = push.stream_view(Recorder().view)
    with push.db_section():  # the only slot is taken
        response = view(RequestFactory().get("/x/events/"))
    assert response.status_code == 503
    assert response["Retry-After"]
    assert view(RequestFactory().get("/x/events/")).status_code == 200  # free again


def test_a_transform_runs_in_a_slot_with_its_connection_closed(
    slots: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    slots.HOTLINE_PUSH_DB_SLOTS = 1
    events: list[str] = []
    monkeypatch.setattr(push, "close_connections", lambda: events.append("closed"))

    def transform(message: str) -> str:
        events.append("transform")
        return message.upper()

    assert push._bounded_event("hi", transform) == "data: HI\n\n"
    assert events == ["transform", "closed"]
    with push.db_section():
        slots.HOTLINE_PUSH_DB_WAIT_SECONDS = 0.05
        assert push._bounded_event("hi", transform) is None  # no slot: the notice is skipped, not stuck


def _routes(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def test_every_stream_route_is_bounded() -> None:
    streams = [
        (route, view)
        for route, view in _routes(get_resolver())
        if route.endswith("events/") or "/stream/" in route or route.endswith("stream/")
    ]
    assert len(streams) >= 8  # chat (3), call bar and monitor (2), boards and screen (3)
    unbounded = [route for route, view in streams if not getattr(view, "bounded_stream", False)]
    assert unbounded == []
