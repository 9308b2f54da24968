"""Live boards over push (MON-1..3): what changed is announced once a second at most, each viewer's stream
turns the announcement into its own view.

A change (an agent's state, a call or queue event, a case transition) marks its board dirty after commit.
`Coalescer` sends one notice per board at most every `INTERVAL` seconds: the first change of a quiet board is
announced at once, a burst after it collapses into one trailing notice a second later. The notice is tiny
(`{"board": ..., "tick": n}`); every SSE stream of that board computes the viewer's scoped snapshot when a notice
arrives (`snapshot_stream`) — the unit scoping stays in one place, and viewers of the same scope share one
computation per tick (`SnapshotCache`). The browser never polls.

Coalescing is per process; with several processes publishing (web workers, the call controller) each sends at
most one notice per board per second.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from django.db import transaction
from django.http import HttpRequest, StreamingHttpResponse

from hotline.common import push

logger = logging.getLogger(__name__)

INTERVAL = 1.0
CALLS = "calls"  # agents and queues (MON-1, MON-2)
CASES = "cases"  # open, due today, overdue by unit; the big screen (MON-3)
BOARDS = (CALLS, CASES)


def channel(board: str) -> str:
    return f"board:{board}"


class Coalescer:
    """At most one `send(board, tick)` per board every `interval` seconds; changes in between are merged."""

    def __init__(self, send: Callable[[str, int], None], interval: float = INTERVAL) -> None:
        self._send = send
        self._interval = interval
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._pending: set[str] = set()
        self._ticks: dict[str, int] = {}

    def mark(self, board: str) -> None:
        with self._lock:
            if board in self._pending:
                return  # a notice is already on its way: this change rides with it
            wait = self._last.get(board, float("-inf")) + self._interval - time.monotonic()
            if wait > 0:
                self._pending.add(board)
                timer = threading.Timer(wait, self._fire, args=(board,))
                timer.daemon = True
                timer.start()
                return
            tick = self._stamp(board)
        self._deliver(board, tick)

    def _stamp(self, board: str) -> int:
        self._last[board] = time.monotonic()
        self._ticks[board] = self._ticks.get(board, 0) + 1
        return self._ticks[board]

    def _fire(self, board: str) -> None:
        with self._lock:
            self._pending.discard(board)
            tick = self._stamp(board)
        self._deliver(board, tick)

    def _deliver(self, board: str, tick: int) -> None:
        try:
            self._send(board, tick)
        except Exception:  # a broker hiccup must not fail the change that was committed
            logger.exception("board notice %s failed", board)


_PROCESS = f"{os.getpid()}-{time.time_ns()}"


def _publish_notice(board: str, tick: int) -> None:
    # The notice id names the process too: notices of several publishers never look alike.
    push.publish(channel(board), {"board": board, "tick": f"{_PROCESS}-{tick}"})


COALESCER = Coalescer(_publish_notice)


def changed(board: str) -> None:
    """Mark a board dirty once the current transaction commits (nothing for a rolled-back change)."""
    transaction.on_commit(lambda: COALESCER.mark(board))


# --------------------------------------------------------------------------- receivers (connected in ready())


def on_telephony_change(sender: Any, **kwargs: Any) -> None:
    changed(CALLS)


def on_case_transitioned(sender: Any, **kwargs: Any) -> None:
    COALESCER.mark(CASES)  # sent after commit already


def connect_receivers() -> None:
    from django.db.models.signals import post_save

    from hotline.cases.events import case_transitioned
    from hotline.telephony.models import Agent, Call, QueueLog

    for model in (Agent, Call, QueueLog):
        post_save.connect(on_telephony_change, sender=model, dispatch_uid=f"analytics-board-{model.__name__}")
    case_transitioned.connect(on_case_transitioned, dispatch_uid="analytics-board-cases")


# --------------------------------------------------------------------------- streams


class SnapshotCache:
    """The latest snapshot per (board, scope key), recomputed when another notice arrives: many screens of the
    same scope cost one computation per notice."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[Hashable, tuple[str, str]] = {}

    def get(self, key: Hashable, tick: str, compute: Callable[[], dict[str, Any]]) -> str:
        with self._lock:
            hit = self._items.get(key)
        if hit is not None and hit[0] == tick:
            return hit[1]
        data = json.dumps(compute(), ensure_ascii=False, default=str)
        with self._lock:
            self._items[key] = (tick, data)
        return data


CACHE = SnapshotCache()


def snapshot_stream(
    request: HttpRequest, board: str, key: Hashable, compute: Callable[[], dict[str, Any]]
) -> StreamingHttpResponse:
    """The SSE stream of `board` for one viewer: each notice becomes the viewer's snapshot (`compute`, already
    scoped by the caller), shared with the viewers of the same `key`."""

    def transform(message: str) -> str | None:
        try:
            tick = str(json.loads(message)["tick"])
        except (ValueError, TypeError, KeyError):
            return None
        return CACHE.get((board, key), tick, compute)

    return push.sse_response(request, channel(board), transform=transform)
