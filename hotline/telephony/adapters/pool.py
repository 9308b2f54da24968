"""Several media nodes behind one MediaEngine (scale-out): Kamailio's dispatcher spreads incoming calls over the
nodes; the pool remembers which node holds each leg, sends every command to that node, places a new outbound leg
on the node of the leg it will be bridged with (`near`), and merges the nodes' events into one stream.

A node that goes away reports NODE_DOWN (with its name): the controller closes the calls that were on it; the
other nodes carry on. When it comes back its engine reconnects and reports NODE_UP: the node is alive again and
takes new calls (Kamailio's dispatcher re-activates it when it answers the OPTIONS probes).
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Sequence

from ..engine import Ev, MediaEngine, MediaEvent


class NodePool:
    name = "pool"

    def __init__(self, engines: Sequence[MediaEngine]) -> None:
        self.engines = {e.name: e for e in engines}
        self.alive = set(self.engines)
        self.leg_node: dict[str, str] = {}
        self.events: queue.Queue[MediaEvent] = queue.Queue()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        for engine in engines:
            # An engine that can put its events straight into the pool's queue does (no thread per node: with
            # ~50 nodes, a forwarding thread each cost a hand-over of the GIL per event and a wake-up every
            # 0.2 s); any other engine is pulled by a thread of its own.
            attach = getattr(engine, "attach", None)
            if attach is not None:
                attach(self.events)
            else:
                threading.Thread(
                    target=self._pull, args=(engine,), daemon=True, name=f"pool-{engine.name}"
                ).start()

    def _note(self, event: MediaEvent, name: str) -> None:
        """Which node holds which leg, and which nodes are alive, as the events tell."""
        with self._lock:
            if event.kind == Ev.INCOMING and event.leg:
                self.leg_node[event.leg] = name
            elif event.kind == Ev.NODE_DOWN:
                self.alive.discard(name)
                self.leg_node = {leg: n for leg, n in self.leg_node.items() if n != name}
            elif event.kind == Ev.NODE_UP:
                self.alive.add(name)

    def _pull(self, engine: MediaEngine) -> None:
        while not self._stop.is_set():
            event = engine.next_event(0.2)
            if event is None:
                continue
            self._note(event, engine.name)
            self.events.put(event)

    def node_of(self, leg: str) -> str:
        return self.leg_node.get(leg, "")

    def _on(self, leg: str) -> MediaEngine:
        name = self.leg_node.get(leg)
        if name is None or name not in self.alive:
            raise KeyError(f"no live node holds leg {leg}")
        return self.engines[name]

    # ------------------------------------------------------------------ the port
    def answer(self, leg: str) -> None:
        self._on(leg).answer(leg)

    def play(self, leg: str, prompt: str, *, loop: bool = False, rec: str = "") -> None:
        self._on(leg).play(leg, prompt, loop=loop, rec=rec)

    def stop_play(self, leg: str) -> None:
        self._on(leg).stop_play(leg)

    def park(self, leg: str, music: str) -> None:
        self._on(leg).park(leg, music)

    def collect_digits(
        self, leg: str, *, max_digits: int, timeout_ms: int, terminator: str = "#", flush: bool = False
    ) -> None:
        self._on(leg).collect_digits(
            leg, max_digits=max_digits, timeout_ms=timeout_ms, terminator=terminator, flush=flush
        )

    def record(self, rec: str, path: str, legs: list[str]) -> None:
        node = self._on(legs[0])
        self.leg_node[f"rec:{rec}"] = node.name
        node.record(rec, path, legs)

    def stop_record(self, rec: str) -> None:
        name = self.leg_node.pop(f"rec:{rec}", None)
        if name in self.alive:
            self.engines[name].stop_record(rec)

    def record_add(self, rec: str, leg: str) -> None:
        self._on(leg).record_add(rec, leg)

    def tap(self, rec: str, leg: str, path: str) -> None:
        node = self._on(leg)
        self.leg_node[f"rec:{rec}"] = node.name
        node.tap(rec, leg, path)

    def call_out(
        self,
        leg: str,
        uri: str,
        *,
        caller_id: str = "",
        near: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        name = self.leg_node.get(near) if near else None
        if name is None or name not in self.alive:
            name = sorted(self.alive)[0]
        self.leg_node[leg] = name
        self.engines[name].call_out(leg, uri, caller_id=caller_id, headers=headers)

    def bridge(self, leg_a: str, leg_b: str) -> None:
        self._on(leg_a).bridge(leg_a, leg_b)

    def unbridge(self, leg_a: str, leg_b: str) -> None:
        self._on(leg_a).unbridge(leg_a, leg_b)

    def connect(self, src: str, dst: str, *, stop_music: bool = False) -> None:
        self._on(src).connect(src, dst, stop_music=stop_music)

    def disconnect(self, src: str, dst: str) -> None:
        self._on(src).disconnect(src, dst)

    def hold(self, leg: str) -> None:
        self._on(leg).hold(leg)

    def retrieve(self, leg: str) -> None:
        self._on(leg).retrieve(leg)

    def transfer(self, leg: str, uri: str) -> None:
        self._on(leg).transfer(leg, uri)

    def hangup(self, leg: str, *, code: int = 0) -> None:
        with contextlib.suppress(KeyError):  # its node is gone: so is the leg
            self._on(leg).hangup(leg, code=code)

    def next_event(self, timeout: float) -> MediaEvent | None:
        try:
            event = self.events.get(timeout=timeout) if timeout > 0 else self.events.get_nowait()
        except queue.Empty:
            return None
        if event.node in self.engines:  # an attached engine's event: noted here, on the consumer's thread
            self._note(event, event.node)
        return event

    def close(self) -> None:
        self._stop.set()
        for engine in self.engines.values():
            engine.close()
