"""The media-engine port: what the platform asks of signalling and media, and the events it gets back.

Python owns every decision (flows, queues, agent states, records); an engine only executes. The adapter built
and tested here is the pjsua2 media node (`adapters/pjsua_node.py` driving `medianode.py` behind Kamailio). A
FreeSWITCH (ESL) or Asterisk (ARI) adapter implements the same methods and normalises its events to
`MediaEvent` (see the README's telephony section).

Leg ids are strings chosen by the engine for incoming legs and by the platform for legs it calls out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class Ev:
    """Normalised event kinds."""

    INCOMING = "incoming"  # leg, caller, dialed: a new inbound call (already ringing)
    RINGING = "ringing"  # leg: an outbound leg's far end is ringing
    ANSWERED = "answered"  # leg: the leg is connected (200 OK / ACK)
    DTMF = "dtmf"  # leg, digit
    DIGITS = "digits"  # leg, digits, reason (max|terminator|timeout): the end of collect_digits
    PLAY_DONE = "play_done"  # leg, prompt
    RECORD_DONE = "record_done"  # rec, path, bytes
    HUNGUP = "hungup"  # leg, code, reason
    NODE_UP = "node_up"  # node
    NODE_DOWN = "node_down"  # node: the connection to the engine is lost; every leg on it is gone
    ERROR = "error"  # op, message


@dataclass
class MediaEvent:
    kind: str
    leg: str = ""
    node: str = ""
    data: dict[str, Any] = field(default_factory=dict)


class MediaEngine(Protocol):
    name: str

    def answer(self, leg: str) -> None: ...

    def play(self, leg: str, prompt: str, *, loop: bool = False, rec: str = "") -> None:
        """Play a WAV prompt (a file name in the prompts directory) to the leg; `loop` for music on hold; `rec`:
        a running recording the prompt goes into as well (the agent-ID announcement is part of the call)."""

    def stop_play(self, leg: str) -> None: ...

    def park(self, leg: str, music: str) -> None:
        """Keep the leg waiting with music (a looped prompt)."""

    def collect_digits(
        self, leg: str, *, max_digits: int, timeout_ms: int, terminator: str = "#", flush: bool = False
    ) -> None:
        """Collect keys; keys pressed before (type-ahead, e.g. during the prompt) count unless `flush`."""

    def record(self, rec: str, path: str, legs: list[str]) -> None:
        """Record what the given legs say, mixed, into a WAV file at `path` (absolute)."""

    def stop_record(self, rec: str) -> None: ...

    def call_out(
        self,
        leg: str,
        uri: str,
        *,
        caller_id: str = "",
        near: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        """Call `uri` as a new leg; `near`: the leg it will be bridged with (a pool of nodes places it there);
        `headers`: extra SIP headers of the INVITE (e.g. the auto-answer ones)."""

    def bridge(self, leg_a: str, leg_b: str) -> None: ...

    def unbridge(self, leg_a: str, leg_b: str) -> None: ...

    def connect(self, src: str, dst: str, *, stop_music: bool = False) -> None:
        """One way: `dst` hears `src` (conference, supervisor listen / whisper / barge are sets of these)."""

    def disconnect(self, src: str, dst: str) -> None: ...

    def record_add(self, rec: str, leg: str) -> None:
        """A leg joining a call (transfer, conference, barge) is recorded too."""

    def tap(self, rec: str, leg: str, path: str) -> None:
        """Record what one leg hears (quality checks, and the tests' who-hears-whom); ended by `stop_record`."""

    def hold(self, leg: str) -> None:
        """The leg's party hears music on hold and is no longer heard by the party it is bridged to."""

    def retrieve(self, leg: str) -> None:
        """Back into its bridge."""

    def transfer(self, leg: str, uri: str) -> None:
        """Blind transfer (REFER) of the leg's far end to `uri`."""

    def hangup(self, leg: str, *, code: int = 0) -> None: ...

    def next_event(self, timeout: float) -> MediaEvent | None: ...

    def close(self) -> None: ...
