"""The call controller: turns the media engine's normalised events into decisions and records.

Default flow of a hotline number (IVR-6, no menu): call arrives → blacklist check (the citizens package's
selector) → its treatment, or → answer, optional welcome prompt, music on hold, queue → the ACD offers it to
the longest-idle ready agent with the skill → the agent's phone rings (screen pop pushed to the workbench) →
answered: bridged and recorded → hang-up: CDR legs closed, queue log, agent in wrap-up, recording indexed.
An agent phone that does not answer within `ring_timeout` (or rejects) makes the agent not-ready and the call
goes back to the head of its queue. Calls waiting past their queue's limit overflow to the next queue or to
voicemail.

Everything runs on one thread (`run_once` in a loop): events are handled one at a time, in order.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from hotline.citizens.models import BlacklistTreatment, CitizenLevel
from hotline.citizens.selectors import blacklist_lookup, citizen_for_number
from hotline.common import clock
from hotline.common.errors import ServiceError
from hotline.common.workdays import is_workday

from . import acd, announce, ivr, ivr_run, push, seat, selectors, services, tts
from .engine import Ev, MediaEngine, MediaEvent
from .models import (
    Agent,
    Call,
    CallLeg,
    CallStatus,
    ControlKind,
    Disposition,
    Flow,
    IvrPrompt,
    IvrStepEvent,
    IvrVersion,
    IvrVersionStatus,
    LegPurpose,
    LegRole,
    Number,
    Queue,
    Recording,
)
from .states import AgentEvent, AgentState

log = logging.getLogger(__name__)

PRIORITY: dict[str, int] = {CitizenLevel.VIP: 2, CitizenLevel.SENSITIVE: 1}
TRANSFER_PRIORITY = 5  # a caller transferred to a queue has already waited once: ahead of new calls
MONITOR_ACTIONS = ("monitor", "monitor_end")
VOICEMAIL_MAX_SECONDS = 120
ASK_CASE_NUMBER = "请输入工单编号，以井号键结束。"
ASK_QUERY_PASSWORD = "请输入查询密码，以井号键结束。"
RATING_THANKS = "感谢您的评价，再见。"
RATING_GOODBYE = "未收到有效按键，稍后将再次回访，再见。"
MAX_RATING_CALLS = 10  # rating calls at the same time (they do not take agents, only lines)
OUTBOUND_RING_FACTOR = 3
DISPATCH_IDLE_SECONDS = 0.25  # a citizen called out rings this many times an agent's ring timeout
BATCH_EVENTS = 64  # events handled per pass of the loop before the timers and the ACD run once
QUEUE_RULES_SECONDS = 1.0  # queue rules (strategy, wait limit, overflow) are re-read at most this often


# Attributes of the controller a pass may change (restored when a pass is rolled back).
_PASS_STATE = (
    "_callbacks",
    "_callbacks_read_at",
    "_ratings_read_at",
    "_dispatched_at",
    "_dirty",
    "_wrap_up_read_at",
    "_rules",
    "_rules_read_at",
)
# What a pass asks of the media engine (sent after its transaction committed); everything else (node_of, name,
# alive) is read straight through.
_ENGINE_COMMANDS = frozenset(
    (
        "answer play stop_play park collect_digits record stop_record record_add tap call_out bridge unbridge "
        "connect disconnect hold retrieve transfer hangup"
    ).split()
)


class _Deferred:
    """The media engine during a pass: commands are queued and sent in order once the pass committed."""

    def __init__(self, engine: MediaEngine) -> None:
        self._engine = engine
        self._queued: list[tuple[Callable[..., None], tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._engine, name)
        if name not in _ENGINE_COMMANDS:
            return attr
        return lambda *args, **kwargs: self._queued.append((attr, args, kwargs))

    def send(self) -> None:
        for command, args, kwargs in self._queued:
            try:
                command(*args, **kwargs)
            except Exception:  # e.g. the leg's node is gone: its events tell the rest
                log.exception("media command %s%s failed", getattr(command, "__name__", command), args)
        self._queued.clear()


@dataclass
class Live:
    """A call the controller is working on (its durable state is the Call row)."""

    call_pk: int
    call_id: str
    citizen_leg: str
    state: str = "ivr"  # ivr | queued | offering | talking | hold | announce | voicemail | ending
    queue_id: int | None = None
    priority: int = 0
    waiting_since: float = 0.0  # in the current queue (overflow timing)
    agent_leg: str = ""
    agent_pk: int | None = None
    # (agent pk, agent ID) of the ACD's last offer, as the offer read it: the agent-ID announcement needs no read
    # when that agent answers (any other agent on the leg is read).
    agent_code: tuple[int, str] = (0, "")
    offered_at: float = 0.0
    rec: str = ""
    voicemail_started: float = 0.0
    # IVR: the version's graph, the node the caller is in, tries at this menu, the prompt playing and what
    # follows it (next | hangup), whether the flow ended by its own hang-up node.
    ivr_version: int | None = None
    ivr_nodes: dict[str, dict[str, Any]] | None = None
    ivr_node: str = ""
    ivr_tries: int = 0
    playing: str = ""
    after_play: str = ""
    ivr_end: bool = False
    # IVR logic nodes: the variables menus / collect nodes set, the call's facts (read at the first condition).
    ivr_vars: dict[str, str] = field(default_factory=dict)
    ivr_facts: dict[str, str] | None = None
    # The caller's citizen profile as read when the call arrived (None: no profile), for the facts' level.
    citizen: Any = field(default=selectors.NOT_READ, repr=False)
    ivr_return: bool = False  # an agent transferred the caller into the IVR and waits on hold for `back`
    # Agent call control: the consulted (or blind-transfer) party's leg, its agent (None: an outside number),
    # ringing | talking | conference, when it was called.
    consult_leg: str = ""
    consult_agent_pk: int | None = None
    consult_state: str = ""
    consult_offered_at: float = 0.0
    # Supervisor (SPV-1): the supervisor's phone leg, the mode asked for, who asked.
    monitor_leg: str = ""
    monitor_mode: str = ""
    monitor_answered: bool = False
    # Click-to-call: the number to call once the agent's phone answered (dialing_agent → dialing_citizen).
    dial_number: str = ""
    # Queue announcements (position, expected wait) and the place-keeping callback key of the current queue.
    announce_every: int = 0
    announced_at: float = 0.0
    callback_key: str = ""
    kept_place: bool = False
    # Self-service case progress: which key entry is awaited (number | password), the number keyed, the
    # spoken answers to delete when the call ends (they may carry a case's result).
    ss_step: str = ""
    ss_number: str = ""
    ss_files: list[str] = field(default_factory=list)
    # Automated rating call (CLS-5): how many times the question was asked.
    rating_tries: int = 0
    # The call's row as this controller last wrote it (it is the only writer of a live call's row): read once,
    # not on every event (`CallController._call`).
    row: Call | None = field(default=None, repr=False)


_WAV_MS: dict[str, int] = {}


def wav_ms(path: str) -> int:
    """How long a prompt plays (the menu's key timeout starts after it); 0 if unknown."""
    if not path:
        return 0
    if path not in _WAV_MS:
        import wave

        try:
            with wave.open(path) as w:
                _WAV_MS[path] = int(w.getnframes() * 1000 / w.getframerate())
        except (OSError, wave.Error, EOFError):
            return 0
    return _WAV_MS[path]


def recordings_dir() -> Path:
    return Path(settings.VAR_DIR) / "telephony" / "recordings"


class CallController:
    def __init__(
        self,
        engine: MediaEngine,
        *,
        registrar: str,
        ring_timeout: float = 20.0,
        wrap_up_seconds: int = 0,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.registrar = registrar
        self.ring_timeout = ring_timeout
        self.wrap_up_seconds = wrap_up_seconds  # 0: wrap-up ends only when the agent says so
        self.now = now
        self.by_leg: dict[str, Live] = {}
        self.recordings: dict[str, int] = {}  # rec id → Recording pk, until the node reports the file
        self._callbacks: list[acd.WaitingCall] = []
        self._ratings_read_at = 0.0
        self._callbacks_read_at = 0.0
        # The ACD reads the ready agents from the database: on every tick after something happened here, else at
        # most every DISPATCH_IDLE_SECONDS (agents made ready in the web process are seen that late at most).
        self._dispatched_at = 0.0
        self._dirty = True
        self._wrap_up_read_at = 0.0
        self._rules: dict[int, acd.QueueRule] = {}
        self._rules_read_at = -QUEUE_RULES_SECONDS
        self._numbers: dict[str, Number | None] = {}
        self._numbers_read_at = -QUEUE_RULES_SECONDS
        self.node_ready = threading.Event()
        # The agents' call-bar commands (hold, retrieve, hang up), from the web process(es).
        self.control = push.broker().listen(push.CONTROL_CHANNEL, timeout=0)

    # ------------------------------------------------------------------ loop
    def run_once(self, timeout: float = 0.05) -> MediaEvent | None:
        """One pass: the events that have arrived (waiting up to `timeout` for the first, at most BATCH_EVENTS),
        the agents' commands, then the timers and the ACD once — all in ONE transaction (group commit: the
        round trips to PostgreSQL are paid per pass, not per call; the pass's queue-log and agent-state rows go
        in one INSERT per table). What the pass asks of the media engine is sent only after that transaction
        committed: whatever a caller or an agent experienced has its CDR on disk, and a controller killed
        mid-pass leaves nothing done that is not recorded (the next one's `recover` closes the open calls, and
        the node's legs it does not know are hung up). If anything in the pass fails, the pass is rolled back,
        this controller's memory restored, and its items handled again one transaction each (as they were
        before group commit), so one bad event cannot take the others down. Returns the first event."""
        first = self.engine.next_event(timeout)
        events: list[MediaEvent] = []
        event = first
        while event is not None:
            events.append(event)
            event = self.engine.next_event(0) if len(events) < BATCH_EVENTS else None
        commands = []
        while (command := next(self.control)) is not None:
            commands.append(command)
        if events or commands:
            self._dirty = True
        snapshot = self._snapshot()
        real, deferred = self.engine, _Deferred(self.engine)
        self.engine = deferred
        try:
            with transaction.atomic(), services.logs_written_behind():
                for command in commands:
                    self.on_control(json.loads(command))
                for event in events:
                    self.handle(event)
                self.tick()
        except Exception:
            log.exception("telephony pass failed: its %d events handled one by one", len(events))
            self.engine = real
            self._restore(snapshot)
            with services.logs_written_behind():
                for command in commands:
                    self._one(self.on_control, command, decode=True)
                for event in events:
                    self._one(self.handle, event)
                self.tick()
            return first
        finally:
            self.engine = real
        deferred.send()
        return first

    def _one(self, handler: Callable[[Any], None], item: Any, *, decode: bool = False) -> None:
        """A command or an event in a transaction of its own; one that fails must not stop the hotline."""
        mark = services.logs_mark()
        try:
            with transaction.atomic():
                handler(json.loads(item) if decode else item)
        except Exception:
            log.exception("telephony %s failed", item)
            services.logs_drop_after(mark)
            self._forget_rows()

    def _snapshot(self) -> dict[str, Any]:
        """This controller's memory before a pass (shallow: a live call's fields are replaced, not mutated,
        except its spoken-files list and its cached row, which is dropped on restore)."""
        lives: dict[int, Live] = {}
        for live in self.by_leg.values():
            if id(live) not in lives:
                lives[id(live)] = dataclasses.replace(live, ss_files=list(live.ss_files))
        return {
            "by_leg": {leg: lives[id(live)] for leg, live in self.by_leg.items()},
            "attrs": {name: getattr(self, name) for name in _PASS_STATE},
            "recordings": dict(self.recordings),
        }

    def _restore(self, snapshot: dict[str, Any]) -> None:
        self.by_leg = snapshot["by_leg"]
        self.recordings = snapshot["recordings"]
        for name, value in snapshot["attrs"].items():
            setattr(self, name, value)
        self._forget_rows()

    def _call(self, live: Live) -> Call:
        """The live call's row, read once (with its number and queue) and kept: every write to a live call goes
        through this controller's services on this instance."""
        if live.row is None:
            live.row = Call.objects.select_related("number", "queue").get(pk=live.call_pk)
        return live.row

    def _forget_rows(self) -> None:
        """After a failed (rolled-back) event the cached rows may hold what was not committed: read them again."""
        for live in self.by_leg.values():
            live.row = None

    def _queue_rules(self, queue_ids: set[int]) -> dict[int, acd.QueueRule]:
        """Every queue's rule, re-read at most every QUEUE_RULES_SECONDS (and when a queue is new to it)."""
        now = self.now()
        if now - self._rules_read_at >= QUEUE_RULES_SECONDS or not queue_ids <= self._rules.keys():
            self._rules = {q.pk: q.rule() for q in Queue.objects.all()}
            self._rules_read_at = now
        return {pk: self._rules[pk] for pk in queue_ids if pk in self._rules}

    def _number(self, dialed: str) -> Number | None:
        """The active number dialled (with its queue), read at most every QUEUE_RULES_SECONDS per number."""
        now = self.now()
        if now - self._numbers_read_at >= QUEUE_RULES_SECONDS:
            self._numbers, self._numbers_read_at = {}, now
        if dialed not in self._numbers:
            self._numbers[dialed] = (
                Number.objects.filter(number=dialed, is_active=True).select_related("queue").first()
            )
        return self._numbers[dialed]

    def serve_forever(self, stop: threading.Event) -> None:
        self.recover()
        while not stop.is_set():
            self.run_once(0.1)

    def close(self) -> None:
        self.control.close()

    def recover(self, node: str = "") -> None:
        """After a restart of the controller (every node) or the loss of one media node, no leg on it survives:
        close every call still open there, so no CDR or recording stays open and no agent stays in
        ringing/talking (they go to wrap-up or ready). Calls on the other nodes go on."""
        calls = Call.objects.exclude(status=CallStatus.ENDED)
        if node:
            calls = calls.filter(legs__role=LegRole.CITIZEN, legs__node=node)
        for call in calls:
            for recording in call.recordings.filter(ended_at__isnull=True):
                path = Path(settings.VAR_DIR) / recording.path
                services.recording_finish(
                    recording=recording, size_bytes=path.stat().st_size if path.exists() else 0
                )
            # A call that had reached a person stays "answered"; one that had not is "failed" (not the caller's
            # abandonment) and goes on the callback list.
            services.call_end(
                call=call,
                disposition="" if call.answered_at else Disposition.FAILED,
                cause="node_lost" if node else "controller_restart",
            )
            for leg, live in list(self.by_leg.items()):
                if live.call_pk == call.pk:
                    del self.by_leg[leg]
                    self.recordings.pop(live.rec, None)
        if not node:
            self.by_leg.clear()

    def _node(self, leg: str) -> str:
        node_of = getattr(self.engine, "node_of", None)
        return (node_of(leg) if node_of else "") or self.engine.name

    # ------------------------------------------------------------------ events
    def handle(self, ev: MediaEvent) -> None:
        if ev.kind == Ev.NODE_UP:
            # Legs the node still holds that this controller does not know (it restarted mid-call; their calls
            # were closed by `recover`): hung up, so no caller is left in silence.
            for leg in ev.data.get("legs", []):
                if leg not in self.by_leg:
                    self.engine.hangup(leg)
            if all(code == 200 for code in ev.data.get("registered", {}).values()):
                self.node_ready.set()
            return
        if ev.kind == "registered":
            if ev.data.get("code") == 200:
                self.node_ready.set()
            return
        if ev.kind == Ev.NODE_DOWN:
            if not getattr(self.engine, "alive", None):
                self.node_ready.clear()
            self.recover(ev.node if hasattr(self.engine, "alive") else "")
            return
        if ev.kind == Ev.INCOMING:
            self.on_incoming(ev)
            return
        if ev.kind == Ev.RECORD_DONE:
            self.on_record_done(ev)
            return
        live = self.by_leg.get(ev.leg)
        if live is None:
            if ev.kind == Ev.HUNGUP:
                services.leg_end(leg_id=ev.leg, sip_code=ev.data.get("code"), cause=ev.data.get("reason", ""))
            return
        is_citizen = ev.leg == live.citizen_leg
        if live.state in ("dialing_agent", "dialing_citizen") and self.on_outbound_event(live, ev):
            return
        if live.state in ("rating_dial", "rating") and self.on_rating_event(live, ev):
            return
        if (
            ev.kind == Ev.ANSWERED
            and ev.leg == live.agent_leg
            and live.state == "offering"
            and live.offered_at == float("inf")
        ):
            # Answered just as the ring timeout cancelled it (the 200 OK crossed the CANCEL): the node hangs the leg
            # up, and its hung-up event sends the call back to the head of the queue. Not bridged: bridging it
            # would end the caller's call when that leg goes.
            return
        if ev.kind == Ev.ANSWERED and not is_citizen and ev.leg == live.consult_leg:
            self.on_consult_answered(live)
        elif ev.kind == Ev.ANSWERED and not is_citizen and ev.leg == live.monitor_leg:
            self.on_monitor_answered(live)
        elif ev.kind == Ev.HUNGUP and ev.leg == live.consult_leg:
            self.on_consult_hungup(live, ev)
        elif ev.kind == Ev.HUNGUP and ev.leg == live.monitor_leg:
            self.on_monitor_hungup(live, ev)
        elif ev.kind == Ev.ANSWERED:
            self.on_citizen_answered(live) if is_citizen else self.on_agent_answered(live)
        elif ev.kind == Ev.PLAY_DONE and is_citizen:
            self.on_play_done(live, ev.data.get("prompt", ""))
        elif (
            ev.kind == Ev.DTMF
            and is_citizen
            and live.state == "queued"
            and live.callback_key
            and ev.data.get("digit") == live.callback_key
        ):
            self.keep_place(live)
        elif ev.kind == Ev.DIGITS and is_citizen and live.state == "ivr":
            self.on_ivr_digits(live, ev.data.get("digits", ""), ev.data.get("reason", ""))
        elif ev.kind == Ev.HUNGUP:
            if is_citizen:
                self.on_citizen_hungup(live, ev)
            else:
                self.on_agent_hungup(live, ev)

    def on_incoming(self, ev: MediaEvent) -> None:
        caller, dialed = ev.data.get("caller", ""), ev.data.get("dialed", "")
        call = services.call_arrive(
            call_id=uuid.uuid4().hex,
            leg_id=ev.leg,
            caller=caller,
            dialed=dialed,
            node=ev.node,
            number=self._number(dialed),
        )
        live = Live(call.pk, call.call_id, ev.leg, queue_id=call.queue_id, row=call)
        self.by_leg[ev.leg] = live
        if call.number is None:
            self.engine.hangup(ev.leg, code=404)
            live.state = "ending"
            services.call_end(call=call, disposition=Disposition.NO_NUMBER)
            return
        entry = blacklist_lookup(caller)
        if entry is not None:
            services.call_mark_blacklisted(call=call, treatment=entry.treatment)
            if entry.treatment == BlacklistTreatment.ANNOUNCEMENT:
                live.state = "announce"
            elif entry.treatment == BlacklistTreatment.VOICEMAIL:
                live.state = "voicemail"
            else:  # AGENT_GROUP: a dedicated group takes the call
                group = Queue.objects.filter(code=entry.treatment_target).first()
                live.queue_id = group.pk if group else call.queue_id
        citizen = live.citizen = citizen_for_number(caller)
        live.priority = PRIORITY.get(citizen.level, 0) if citizen else 0
        self.engine.answer(ev.leg)

    def on_citizen_answered(self, live: Live) -> None:
        services.leg_answered(leg_id=live.citizen_leg)
        call = self._call(live)
        if live.state == "announce":
            target = call.blacklist_treatment and self._entry_prompt(call.caller)
            self._play(live, target or "blacklist.wav", then="")
            return
        if live.state == "voicemail":
            self._play(live, "voicemail.wav", then="")
            return
        number = call.number
        # A blacklisted caller sent to a dedicated group goes there directly, not through menus.
        if (
            number is not None
            and number.flow == Flow.IVR
            and number.ivr_flow_id
            and not call.blacklist_treatment
        ):
            version = (
                IvrVersion.objects.filter(flow_id=number.ivr_flow_id, status=IvrVersionStatus.PUBLISHED)
                .only("pk", "graph")
                .first()
            )
            if version is not None:
                services.call_start_ivr(call=call, version_pk=version.pk)
                live.ivr_version, live.ivr_nodes = version.pk, ivr.nodes_by_id(version.graph)
                live.state = "ivr"
                self.enter_node(live, str(version.graph.get("start", "")))
                return
        if not call.blacklist_treatment:
            # IVR-6: the caller's open case, read as an IVR condition reads it (`selectors.ivr_facts`), raises the
            # place when it is urgent, as the menu path's urgent queue node does.
            if live.ivr_facts is None:
                live.ivr_facts = selectors.ivr_facts(
                    caller=call.caller, moment=clock.now(), citizen=live.citizen
                )
            live.priority = max(live.priority, ivr.URGENCY_PRIORITY.get(live.ivr_facts["urgency"], 0))
        queue_pk = live.queue_id or call.queue_id or 0
        queue = (
            call.queue
            if call.queue is not None and call.queue.pk == queue_pk
            else Queue.objects.get(pk=queue_pk)
        )
        self._enqueue(live, call, queue, call.number.welcome_prompt if call.number else "")

    def _enqueue(self, live: Live, call: Call, queue: Queue, prompt: str) -> None:
        """Into the queue with music (after the prompt, if any); the ACD offers it on the next tick."""
        if prompt:
            self._play(live, prompt, then="")
        else:
            self.engine.park(live.citizen_leg, "hold.wav")
        services.call_enqueue(call=call, queue=queue, priority=live.priority)
        live.queue_id = queue.pk
        live.state, live.waiting_since = "queued", self.now()
        live.announce_every, live.callback_key = queue.announce_seconds, queue.callback_key
        # The first announcement right after the welcome prompt (or at once), then every `announce_seconds`.
        live.announced_at = live.waiting_since - queue.announce_seconds

    def _play(self, live: Live, prompt: str, *, then: str) -> None:
        live.playing, live.after_play = prompt, then
        self.engine.play(live.citizen_leg, prompt)

    # ------------------------------------------------------------------ IVR (menus as data, ivr.py)
    def _prompt_file(self, node: dict[str, Any]) -> str:
        """The node's prompt as a WAV path for the media node: an uploaded recording, or its text spoken (cached
        when the version was published; rendered now if the cache was emptied)."""
        audio = str(node.get("audio") or "")
        if audio:
            found = IvrPrompt.objects.filter(name=audio).values_list("path", flat=True).first()
            return str(Path(settings.VAR_DIR) / found) if found else ""
        text = str(node.get("prompt") or "").strip()
        if not text:
            return ""
        try:
            return str(tts.speak(text))
        except tts.TtsError:
            log.exception("TTS failed for IVR prompt")
            return ""

    def enter_node(self, live: Live, node_id: str, *, hops: int = 0) -> None:
        nodes = live.ivr_nodes or {}
        node = nodes.get(node_id)
        call = self._call(live)
        if node is None or hops > 20:  # a published graph is validated; this guards against a loop of checks
            log.error("IVR %s: no way on from node %r", live.ivr_version, node_id)
            self.engine.hangup(live.citizen_leg)
            live.state = "ending"
            return
        if node_id != live.ivr_node:
            live.ivr_tries = 0
        live.ivr_node = node_id
        assert live.ivr_version is not None
        services.ivr_step(call=call, version_pk=live.ivr_version, node=node_id, event=IvrStepEvent.ENTER)
        kind, prompt = node.get("type"), self._prompt_file(node)
        if kind == ivr.PLAY:
            if prompt:
                self._play(live, prompt, then="next")
            else:
                self.enter_node(live, str(node.get("next")), hops=hops + 1)
        elif kind == ivr.MENU:
            if prompt:
                self._play(live, prompt, then="")
            self.engine.collect_digits(
                live.citizen_leg,
                max_digits=int(node.get("digits", 1)),
                timeout_ms=wav_ms(prompt) + int(node.get("timeout", 5)) * 1000,
                flush=live.ivr_tries > 0,  # a replay after an invalid key starts clean
            )
        elif kind == ivr.COLLECT:
            ivr_run.enter_collect(self, live, node, prompt)
        elif kind == ivr.BACK:
            ivr_run.back(self, live, call)
        elif kind == ivr.CONDITION:
            self.enter_node(live, ivr_run.condition_target(live, node, call), hops=hops + 1)
        elif kind == ivr.HOURS:
            moment = timezone.localtime(clock.now())
            target = node.get("open") if ivr.is_open(node, moment, is_workday) else node.get("closed")
            self.enter_node(live, str(target), hops=hops + 1)
        elif kind == ivr.QUEUE:
            queue = Queue.objects.filter(code=node.get("queue")).first() or Queue.objects.get(
                pk=live.queue_id or call.queue_id or 0
            )
            # Urgency routed here (a condition on the open case's urgency or a keyed choice) raises the place.
            live.priority = max(live.priority, int(node.get("priority") or 0))
            self._enqueue(live, call, queue, prompt)
        elif kind == ivr.TRANSFER:  # a duty / emergency number: music while it rings, no answer → fallback
            self.engine.park(live.citizen_leg, "hold.wav")
            live.agent_leg, live.agent_pk = self._call_party(
                live, call, "number", str(node.get("number")), purpose=LegPurpose.TRANSFER
            )
            live.state, live.offered_at = "offering", self.now()
        elif kind == ivr.CASE_PROGRESS:
            live.ss_step, live.ss_number = "number", ""
            prompt = prompt or self._say(ASK_CASE_NUMBER)
            self._play(live, prompt, then="")
            self._collect_case_keys(live, node, prompt, max_digits=20)
        elif kind == ivr.VOICEMAIL:
            live.state = "voicemail"
            self._play(live, prompt or "voicemail.wav", then="")
        else:  # hang-up node: the flow ends here (self-service done, or a closed message)
            live.ivr_end = True
            if prompt:
                live.state = "announce"
                self._play(live, prompt, then="")
            else:
                self.engine.hangup(live.citizen_leg)
                live.state = "ending"

    def _say(self, text: str) -> str:
        try:
            return str(tts.speak(text))
        except tts.TtsError:
            log.exception("TTS failed")
            return ""

    def _collect_case_keys(self, live: Live, node: dict[str, Any], prompt: str, *, max_digits: int) -> None:
        self.engine.collect_digits(
            live.citizen_leg,
            max_digits=max_digits,
            timeout_ms=wav_ms(prompt) + int(node.get("timeout", 10)) * 1000,
            terminator="#",
            flush=live.ivr_tries > 0 and live.ss_step == "number",
        )

    def on_case_progress_digits(self, live: Live, node: dict[str, Any], digits: str, reason: str) -> None:
        """Self-service: the case number, then the query password (each ended by #), then the answer spoken."""
        call = self._call(live)
        assert live.ivr_version is not None
        if live.playing:
            self.engine.stop_play(live.citizen_leg)
            live.playing = ""
        if not digits:  # timeout: ask again, then give up (the defined path: `next`)
            services.ivr_step(
                call=call, version_pk=live.ivr_version, node=live.ivr_node, event=IvrStepEvent.TIMEOUT
            )
            live.ivr_tries += 1
            self.enter_node(
                live,
                live.ivr_node if live.ivr_tries <= int(node.get("retries", 2)) else str(node.get("next")),
            )
            return
        if live.ss_step == "number":
            services.ivr_step(
                call=call,
                version_pk=live.ivr_version,
                node=live.ivr_node,
                event=IvrStepEvent.KEYS,
                digits=digits,
            )
            live.ss_step, live.ss_number = "password", digits
            prompt = self._say(ASK_QUERY_PASSWORD)
            self._play(live, prompt, then="")
            self._collect_case_keys(live, node, prompt, max_digits=20)
            return
        outcome, text = services.ivr_case_progress(caller=call.caller, number=live.ss_number, password=digits)
        services.ivr_step(call=call, version_pk=live.ivr_version, node=live.ivr_node, event=outcome)
        live.ss_step = ""
        again = outcome == IvrStepEvent.NOT_FOUND and live.ivr_tries < int(node.get("retries", 2))
        if outcome == IvrStepEvent.NOT_FOUND:
            live.ivr_tries += 1
        path = (
            Path(settings.VAR_DIR) / "telephony" / "selfservice" / f"{live.call_id}-{len(live.ss_files)}.wav"
        )
        try:
            # Numbers, dates and amounts from clips; the rest spoken for this answer only (it may tell a result).
            announce.render(announce.compose(text, free_text=True), path)
        except (tts.TtsError, OSError):
            log.exception("TTS failed for a self-service answer")
            self.enter_node(live, str(node.get("next")))
            return
        live.ss_files.append(str(path))
        self._play(live, str(path), then="again" if again else "next")

    def on_ivr_digits(self, live: Live, digits: str, reason: str) -> None:
        node = (live.ivr_nodes or {}).get(live.ivr_node) or {}
        if node.get("type") == ivr.CASE_PROGRESS:
            self.on_case_progress_digits(live, node, digits, reason)
            return
        if node.get("type") == ivr.COLLECT:
            ivr_run.on_collect_digits(self, live, node, Call.objects.get(pk=live.call_pk), digits, reason)
            return
        if node.get("type") != ivr.MENU:
            return
        call = self._call(live)
        target = ivr.menu_choice(node, digits, reason)
        if target:
            ivr_run.remember_menu_key(live, node, digits)
        event = (
            IvrStepEvent.KEYS if target else (IvrStepEvent.TIMEOUT if not digits else IvrStepEvent.INVALID)
        )
        assert live.ivr_version is not None
        services.ivr_step(
            call=call, version_pk=live.ivr_version, node=live.ivr_node, event=event, digits=digits
        )
        if live.playing:
            self.engine.stop_play(live.citizen_leg)
            live.playing = ""
        if target:
            self.enter_node(live, target)
            return
        live.ivr_tries += 1
        if live.ivr_tries > int(node.get("retries", 2)):
            self.enter_node(live, str(node.get("fallback")))
        else:
            self.enter_node(live, live.ivr_node)  # replay the menu

    def _entry_prompt(self, caller: str) -> str:
        entry = blacklist_lookup(caller)
        target = entry.treatment_target if entry else ""
        return target if target.endswith(".wav") else ""

    def on_play_done(self, live: Live, prompt: str) -> None:
        if live.playing and prompt != live.playing:
            return  # the end of a prompt that was cut short and replaced
        then, live.playing, live.after_play = live.after_play, "", ""
        if live.state == "announce":
            self.engine.hangup(live.citizen_leg)
            live.state = "ending"
        elif live.state == "voicemail" and not live.rec:
            self._start_recording(live, [live.citizen_leg])
            live.voicemail_started = self.now()
        elif live.state in ("queued", "offering"):
            self.engine.park(live.citizen_leg, "hold.wav")
        elif live.state == "ivr" and then == "again":
            self.enter_node(live, live.ivr_node)
        elif live.state == "ivr" and then == "next":
            node = (live.ivr_nodes or {}).get(live.ivr_node) or {}
            self.enter_node(live, str(node.get("next")))

    def on_agent_answered(self, live: Live) -> None:
        call = self._call(live)
        if live.agent_pk is None:  # an outside number (a blind transfer, the IVR's duty number)
            services.call_leg_connected(call=call, leg_id=live.agent_leg, first_person=True)
        else:
            services.call_connect(call=call, leg_id=live.agent_leg)
        self.engine.bridge(live.citizen_leg, live.agent_leg)
        if live.rec:  # a transferred call: the new party joins the recording
            self.engine.record_add(live.rec, live.agent_leg)
        else:
            self._start_recording(live, [live.citizen_leg, live.agent_leg])
        live.state = "talking"
        if (
            live.agent_pk is not None
        ):  # "1001号话务员为您服务" to the caller, in the recording (not `playing`)
            pk, code = live.agent_code
            spoken = seat.announcement(
                code
                if pk == live.agent_pk and code
                else Agent.objects.filter(pk=live.agent_pk).values_list("agent_id", flat=True).first() or ""
            )
            if spoken:
                self.engine.play(live.citizen_leg, spoken, rec=live.rec)
        if live.monitor_leg and live.monitor_answered:
            self._apply_monitor(live, live.monitor_mode, previous="")

    def _start_recording(self, live: Live, legs: list[str]) -> None:
        day = clock.now().astimezone(dt.UTC).strftime("%Y/%m/%d")
        relative = f"telephony/recordings/{day}/{live.call_id}.wav"
        path = Path(settings.VAR_DIR) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        live.rec = live.call_id
        self.engine.record(live.rec, str(path), legs)
        call = self._call(live)
        self.recordings[live.rec] = services.recording_start(call=call, path=relative).pk

    def on_record_done(self, ev: MediaEvent) -> None:
        pk = self.recordings.pop(ev.data.get("rec", ""), None)
        if pk is not None:
            # Only the three columns the file tells are written: no read of the row first.
            services.recording_finish(recording=Recording(pk=pk), size_bytes=int(ev.data.get("bytes", 0)))

    def on_citizen_hungup(self, live: Live, ev: MediaEvent) -> None:
        self.by_leg.pop(live.citizen_leg, None)
        for spoken in live.ss_files:
            Path(spoken).unlink(missing_ok=True)
        hungup = (live.citizen_leg, ev.data.get("code"), str(ev.data.get("reason", "")))
        for other in (live.agent_leg, live.consult_leg, live.monitor_leg):
            if other:
                self.engine.hangup(other)
        if live.rec:
            self.engine.stop_record(live.rec)
        call = self._call(live)
        if call.disposition == Disposition.NO_NUMBER:
            services.leg_end(leg_id=hungup[0], sip_code=hungup[1], cause=hungup[2])
            return
        disposition = ""
        if live.kept_place:
            disposition = Disposition.KEPT_PLACE
        elif live.voicemail_started:
            disposition = Disposition.VOICEMAIL
        elif live.ivr_end and not call.answered_at:
            disposition = Disposition.IVR_END
        elif call.blacklist_treatment and not call.answered_at:
            disposition = Disposition.BLACKLISTED
        services.call_end(call=call, disposition=disposition, hungup=hungup)
        live.state = "ending"

    def on_agent_hungup(self, live: Live, ev: MediaEvent) -> None:
        self.by_leg.pop(live.agent_leg, None)
        code, reason = ev.data.get("code"), ev.data.get("reason", "")
        call = self._call(live)
        if live.state == "ending" and call.status == CallStatus.ENDED:
            # The citizen hung up first: `call_end` closed this leg's CDR row and released its agent (a read of
            # the closed leg would find nothing to do).
            live.agent_leg, live.agent_pk = "", None
            return
        if live.state == "offering":
            if live.agent_pk is None:  # an outside number did not answer
                services.leg_end(leg_id=live.agent_leg, sip_code=code, cause=reason)
                live.agent_leg = ""
                node = (live.ivr_nodes or {}).get(live.ivr_node) or {}
                if node.get("type") == ivr.TRANSFER:  # the IVR's defined path: its fallback node
                    live.state = "ivr"
                    self.enter_node(live, str(node.get("fallback")))
                else:  # a blind transfer: back to the queue
                    self._requeue(live, call, Queue.objects.get(pk=live.queue_id or call.queue_id or 0))
                return
            # Not answered (no answer, busy, rejected, unreachable): agent not ready, call back to the head.
            services.call_offer_failed(call=call, leg_id=live.agent_leg, sip_code=code, cause=reason)
            live.state, live.agent_leg, live.agent_pk = "queued", "", None
            return
        services.call_leg_left(call=call, leg_id=live.agent_leg, sip_code=code, cause=reason)
        live.agent_leg, live.agent_pk = "", None
        if (
            live.state in ("talking", "hold")
            and live.consult_leg
            and live.consult_state in ("talking", "conference")
        ):
            # The agent left a consult or a conference: the consulted party keeps the caller.
            self._hand_over(live, call, purpose=live.consult_state)
        elif live.state in ("talking", "hold"):
            self.engine.hangup(live.citizen_leg)  # the agent ended the call
            live.state = "ending"

    # ------------------------------------------------------------------ agent call control (ACD-3)
    def _release_agent(self, live: Live, call: Call) -> None:
        """The answering agent leaves a call that goes on (blind transfer): its leg hung up, agent to wrap-up."""
        leg = live.agent_leg
        self.by_leg.pop(
            leg, None
        )  # its hung-up event then finds no call and only closes the (closed) CDR row
        self.engine.hangup(leg)
        services.call_leg_left(call=call, leg_id=leg, cause="transferred")
        live.agent_leg, live.agent_pk = "", None

    def _requeue(self, live: Live, call: Call, queue: Queue) -> None:
        services.call_requeue(call=call, queue=queue, priority=max(live.priority, TRANSFER_PRIORITY))
        self.engine.park(live.citizen_leg, "hold.wav")
        live.queue_id, live.priority = queue.pk, max(live.priority, TRANSFER_PRIORITY)
        live.state, live.waiting_since, live.agent_leg, live.agent_pk = "queued", self.now(), "", None

    def _call_party(
        self, live: Live, call: Call, kind: str, target: Any, *, purpose: str
    ) -> tuple[str, int | None]:
        """Ring an agent's phone or an outside number for a transfer or consult; the leg id and the agent."""
        leg = f"out-{uuid.uuid4().hex[:20]}"
        if kind == "agent":
            agent = Agent.objects.get(pk=target)
            uri, agent_pk, role = f"sip:{agent.extension}@{self.registrar}", agent.pk, LegRole.AGENT
        else:
            uri, agent_pk, role = f"sip:{target}@{self.registrar}", None, LegRole.EXTERNAL
        services.call_leg_out(
            call=call,
            leg_id=leg,
            role=role,
            purpose=purpose,
            remote=uri,
            node=self._node(live.citizen_leg),
            agent_pk=agent_pk,
        )
        self.by_leg[leg] = live
        self.engine.call_out(leg, uri, caller_id=call.caller, near=live.citizen_leg)
        return leg, agent_pk

    def _hand_over(self, live: Live, call: Call, *, purpose: str) -> None:
        """The consulted party takes the call over (consult transfer, or the agent left a conference)."""
        if live.consult_state == "talking":
            self.engine.bridge(live.citizen_leg, live.consult_leg)  # off hold, now with the consulted party
            if live.rec:
                self.engine.record_add(live.rec, live.consult_leg)
        services.call_handover(
            call=call, leg_id=live.consult_leg, purpose=purpose, agent_pk=live.consult_agent_pk
        )
        live.agent_leg, live.agent_pk = live.consult_leg, live.consult_agent_pk
        live.consult_leg, live.consult_agent_pk, live.consult_state = "", None, ""
        live.state = "talking"

    def blind_transfer(self, live: Live, call: Call, command: dict[str, Any]) -> None:
        kind, target = command.get("target_kind"), command.get("target")
        if kind == "ivr":  # the agent waits on hold; the flow's `back` node returns the caller
            ivr_run.transfer_to_ivr(self, live, call, command)
            return
        services.call_control_log(
            call=call,
            kind=ControlKind.BLIND_TRANSFER,
            agent_pk=live.agent_pk,
            actor_pk=command.get("actor"),
            target=f"{kind}:{command.get('target_label', target)}",
        )
        self._release_agent(live, call)
        if kind == "queue":
            self._requeue(live, call, Queue.objects.get(pk=int(str(target))))
            return
        self.engine.park(live.citizen_leg, "hold.wav")
        if kind == "agent":
            agent = Agent.objects.get(pk=int(str(target)))
            leg = f"out-{uuid.uuid4().hex[:20]}"
            uri = f"sip:{agent.extension}@{self.registrar}"
            try:
                services.call_offer(
                    call=call, agent_pk=agent.pk, leg_id=leg, remote=uri, node=self._node(live.citizen_leg)
                )
            except ServiceError:  # the agent stopped being ready meanwhile: the caller waits in the queue
                self._requeue(live, call, Queue.objects.get(pk=live.queue_id or call.queue_id or 0))
                return
            CallLeg.objects.filter(leg_id=leg).update(purpose=LegPurpose.TRANSFER)
            live.agent_leg, live.agent_pk = leg, agent.pk
            self.by_leg[leg] = live
            self.engine.call_out(
                leg, uri, caller_id=call.caller, near=live.citizen_leg, **seat.offer_options(agent)
            )
        else:
            live.agent_leg, live.agent_pk = self._call_party(
                live, call, "number", target, purpose=LegPurpose.TRANSFER
            )
        live.state, live.offered_at = "offering", self.now()

    def consult(self, live: Live, call: Call, command: dict[str, Any]) -> None:
        if live.consult_leg:
            return  # one consult at a time
        self.engine.hold(live.citizen_leg)  # the caller hears music, nobody hears the caller
        try:
            leg, agent_pk = self._call_party(
                live, call, str(command.get("target_kind")), command.get("target"), purpose=LegPurpose.CONSULT
            )
        except ServiceError:  # the agent stopped being ready meanwhile
            self.engine.retrieve(live.citizen_leg)
            return
        live.consult_leg, live.consult_agent_pk = leg, agent_pk
        live.consult_state, live.consult_offered_at = "ringing", self.now()
        services.call_control_log(
            call=call,
            kind=ControlKind.CONSULT,
            agent_pk=live.agent_pk,
            actor_pk=command.get("actor"),
            target=f"{command.get('target_kind')}:{command.get('target_label', '')}",
            leg_id=leg,
        )

    def on_consult_answered(self, live: Live) -> None:
        call = self._call(live)
        services.call_leg_connected(call=call, leg_id=live.consult_leg)
        live.consult_state = "talking"
        if live.agent_leg:
            self.engine.bridge(live.agent_leg, live.consult_leg)
        else:  # the consulting agent already left: a transfer on answer
            self._hand_over(live, call, purpose=LegPurpose.TRANSFER)

    def on_consult_hungup(self, live: Live, ev: MediaEvent) -> None:
        leg, state = live.consult_leg, live.consult_state
        self.by_leg.pop(leg, None)
        call = self._call(live)
        services.call_leg_left(
            call=call, leg_id=leg, sip_code=ev.data.get("code"), cause=ev.data.get("reason", "")
        )
        live.consult_leg, live.consult_agent_pk, live.consult_state = "", None, ""
        if live.state in ("ending",):
            return
        if state in ("ringing", "talking") and live.agent_leg:
            self.engine.retrieve(live.citizen_leg)  # back with the consulting agent
        elif not live.agent_leg:
            self.engine.hangup(live.citizen_leg)  # nobody is left for the caller

    def consult_end(self, live: Live, call: Call, action: str, command: dict[str, Any]) -> None:
        if not live.consult_leg:
            return
        if action == "consult_cancel":
            services.call_control_log(
                call=call,
                kind=ControlKind.CONSULT_CANCEL,
                agent_pk=live.agent_pk,
                actor_pk=command.get("actor"),
            )
            leg = live.consult_leg
            self.by_leg.pop(leg, None)
            self.engine.hangup(leg)
            services.call_leg_left(call=call, leg_id=leg, cause="consult_cancelled")
            live.consult_leg, live.consult_agent_pk, live.consult_state = "", None, ""
            self.engine.retrieve(live.citizen_leg)
        elif action == "consult_transfer" and live.consult_state == "talking":
            services.call_control_log(
                call=call,
                kind=ControlKind.CONSULT_TRANSFER,
                agent_pk=live.agent_pk,
                actor_pk=command.get("actor"),
                leg_id=live.consult_leg,
            )
            leaving = live.agent_leg
            self._hand_over(live, call, purpose=LegPurpose.TRANSFER)
            self.by_leg.pop(leaving, None)
            self.engine.hangup(leaving)
            services.call_leg_left(call=call, leg_id=leaving, cause="transferred")
        elif action == "conference" and live.consult_state == "talking":
            services.call_control_log(
                call=call,
                kind=ControlKind.CONFERENCE,
                agent_pk=live.agent_pk,
                actor_pk=command.get("actor"),
                leg_id=live.consult_leg,
            )
            self.engine.retrieve(live.citizen_leg)  # the caller and the agent hear each other again
            self.engine.connect(live.citizen_leg, live.consult_leg)
            self.engine.connect(live.consult_leg, live.citizen_leg)
            if live.rec:
                self.engine.record_add(live.rec, live.consult_leg)
            CallLeg.objects.filter(leg_id=live.consult_leg).update(purpose=LegPurpose.CONFERENCE)
            live.consult_state = "conference"

    def on_control(self, command: dict[str, Any]) -> None:
        if command.get("action") in MONITOR_ACTIONS:
            self.on_monitor_command(command)
            return
        if command.get("action") == "dial":
            self.on_dial(command)
            return
        live = next((v for v in self.by_leg.values() if v.call_id == command.get("call_id")), None)
        if live is None:
            return  # the call ended meanwhile
        if (
            command.get("action") == "hangup"
            and live.state == "dialing_citizen"
            and command.get("agent") == live.agent_pk
        ):
            self.engine.hangup(live.citizen_leg)  # the agent gives up before the citizen answered
            return
        if command.get("action") == "force_release":  # a supervisor ends the call, whatever state it is in
            if live.state != "ending":
                self.engine.hangup(live.citizen_leg)  # its hung-up event closes the CDR and every other leg
                live.state = "ending"
            return
        action, agent = command.get("action"), command.get("agent")
        call = self._call(live)
        if agent is not None and agent == live.consult_agent_pk and action == "hangup":
            self.engine.hangup(
                live.consult_leg
            )  # the consulted agent leaves; its hung-up event does the rest
            return
        if live.agent_pk is None or live.agent_pk != agent or live.state not in ("talking", "hold"):
            return
        if action == "hold" and live.state == "talking" and not live.consult_leg:
            self.engine.hold(live.citizen_leg)
            services.agent_event(agent_pk=live.agent_pk, event=AgentEvent.HOLD, call=call)
            live.state = "hold"
        elif action == "retrieve" and live.state == "hold":
            self.engine.retrieve(live.citizen_leg)
            services.agent_event(agent_pk=live.agent_pk, event=AgentEvent.RETRIEVE, call=call)
            live.state = "talking"
        elif action == "hangup":
            if live.consult_leg and live.consult_state in ("talking", "conference"):
                self.engine.hangup(live.agent_leg)  # leaves; the consulted party keeps the caller
            else:
                self.engine.hangup(live.citizen_leg)
                live.state = (
                    "ending"  # the citizen's hung-up event ends the call and releases the agent's leg
                )
        elif action == "transfer" and live.state == "talking" and not live.consult_leg:
            self.blind_transfer(live, call, command)
        elif action == "consult" and live.state == "talking":
            self.consult(live, call, command)
        elif action in ("consult_cancel", "consult_transfer", "conference"):
            self.consult_end(live, call, str(action), command)

    # ------------------------------------------------------------------ click-to-call (outbound)
    def _hotline_number(self) -> str:
        from .models import Number

        return (
            Number.objects.filter(is_active=True).order_by("pk").values_list("number", flat=True).first()
            or ""
        )

    def on_dial(self, command: dict[str, Any]) -> None:
        """The agent's phone is called first; the citizen when it answers (`on_outbound_event`)."""
        call = Call.objects.filter(call_id=command.get("call_id"), status=CallStatus.RINGING).first()
        if call is None:
            return
        leg = str(command.get("leg"))
        live = Live(call.pk, call.call_id, "", state="dialing_agent", dial_number=str(command.get("number")))
        live.agent_leg, live.agent_pk, live.offered_at = leg, command.get("agent"), self.now()
        self.by_leg[leg] = live
        self.engine.call_out(
            leg, f"sip:{command.get('extension')}@{self.registrar}", caller_id=self._hotline_number()
        )
        CallLeg.objects.filter(leg_id=leg).update(node=self._node(leg))

    def on_outbound_event(self, live: Live, ev: MediaEvent) -> bool:
        """A click-to-call before both ends are connected; True when the event was handled here."""
        call = self._call(live)
        if ev.kind == Ev.ANSWERED and live.state == "dialing_agent" and ev.leg == live.agent_leg:
            services.call_leg_connected(call=call, leg_id=live.agent_leg)  # the agent: ringing → talking
            self.engine.park(live.agent_leg, "hold.wav")  # hears music while the citizen's phone rings
            leg = f"cit-{uuid.uuid4().hex[:20]}"
            uri = f"sip:{live.dial_number}@{self.registrar}"
            services.call_leg_out(
                call=call,
                leg_id=leg,
                role=LegRole.CITIZEN,
                purpose=LegPurpose.OUTBOUND,
                remote=uri,
                node=self._node(live.agent_leg),
            )
            live.citizen_leg, live.state, live.offered_at = leg, "dialing_citizen", self.now()
            self.by_leg[leg] = live
            self.engine.call_out(leg, uri, caller_id=self._hotline_number(), near=live.agent_leg)
            return True
        if ev.kind == Ev.ANSWERED and live.state == "dialing_citizen" and ev.leg == live.citizen_leg:
            services.outbound_answered(call=call, leg_id=live.citizen_leg)
            self.engine.bridge(live.citizen_leg, live.agent_leg)
            self._start_recording(live, [live.citizen_leg, live.agent_leg])
            live.state = "talking"
            return True
        if ev.kind != Ev.HUNGUP:
            return False
        code, reason = ev.data.get("code"), ev.data.get("reason", "")
        if ev.leg == live.agent_leg and live.state == "dialing_agent":  # the agent's phone did not answer
            self.by_leg.pop(ev.leg, None)
            services.leg_end(leg_id=ev.leg, sip_code=code, cause=reason)
            if live.agent_pk is not None:  # like an unanswered offer: not ready, so it is not rung again
                services.agent_event(
                    agent_pk=live.agent_pk, event=AgentEvent.NO_ANSWER, call=call, reason="no_answer"
                )
            services.call_end(call=call, disposition=Disposition.NOT_REACHED, cause="agent_not_answered")
            services.queue_callback_not_reached(call=call, agent_answered=False)
            live.state = "ending"
            return True
        if ev.leg == live.agent_leg:  # the agent gave up while the citizen's phone rang
            self.by_leg.pop(ev.leg, None)
            services.leg_end(leg_id=ev.leg, sip_code=code, cause=reason)
            self.engine.hangup(live.citizen_leg)
            live.agent_leg = ""
            return True
        if ev.leg == live.citizen_leg:  # not answered, busy, rejected, or cancelled by the agent
            self.by_leg.pop(ev.leg, None)
            services.leg_end(leg_id=ev.leg, sip_code=code, cause=reason)
            if live.agent_leg:
                self.by_leg.pop(live.agent_leg, None)
                self.engine.hangup(live.agent_leg)
            services.call_end(call=call, disposition=Disposition.NOT_REACHED, cause="citizen_not_answered")
            services.queue_callback_not_reached(call=call, agent_answered=True)
            live.state = "ending"
            return True
        return False

    # ------------------------------------------------------------------ automated rating calls (CLS-5)
    def start_rating_calls(self) -> None:
        """Dial the rating calls that are due (a few at a time)."""
        from .models import RatingCall, RatingCallStatus

        busy = sum(1 for v in self.by_leg.values() if v.state in ("rating_dial", "rating"))
        if busy >= MAX_RATING_CALLS:
            return
        due = RatingCall.objects.filter(status=RatingCallStatus.PENDING, next_try_at__lte=clock.now())
        for pk in due.order_by("next_try_at", "id").values_list("pk", flat=True)[: MAX_RATING_CALLS - busy]:
            leg = f"rate-{uuid.uuid4().hex[:20]}"
            call = services.rating_call_start(rating_call_pk=pk, leg_id=leg)
            if call is None:
                continue
            live = Live(call.pk, call.call_id, leg, state="rating_dial", offered_at=self.now())
            self.by_leg[leg] = live
            self.engine.call_out(leg, f"sip:{call.caller}@{self.registrar}", caller_id=self._hotline_number())
            CallLeg.objects.filter(leg_id=leg).update(node=self._node(leg))

    def _ask_rating(self, live: Live, call: Call) -> None:
        prompt = self._say(services.rating_call_question(call=call))
        self._play(live, prompt, then="")
        self.engine.collect_digits(
            live.citizen_leg, max_digits=1, timeout_ms=wav_ms(prompt) + 10000, flush=live.rating_tries > 0
        )

    def on_rating_event(self, live: Live, ev: MediaEvent) -> bool:
        call = self._call(live)
        if ev.kind == Ev.ANSWERED and ev.leg == live.citizen_leg and live.state == "rating_dial":
            services.outbound_answered(call=call, leg_id=live.citizen_leg)
            self._start_recording(live, [live.citizen_leg])
            live.state = "rating"
            self._ask_rating(live, call)
            return True
        if ev.kind == Ev.DIGITS and ev.leg == live.citizen_leg and live.state == "rating":
            if live.playing:
                self.engine.stop_play(live.citizen_leg)
                live.playing = ""
            digits = str(ev.data.get("digits", ""))
            if services.rating_call_record(call=call, key=digits[:1]):
                live.state = "announce"
                self._play(live, self._say(RATING_THANKS), then="")
                return True
            live.rating_tries += 1
            if live.rating_tries < 2:
                self._ask_rating(live, call)
            else:  # no valid key: tried again later, then left to an agent
                services.rating_call_not_rated(call=call)
                live.state = "announce"
                self._play(live, self._say(RATING_GOODBYE), then="")
            return True
        if ev.kind == Ev.HUNGUP and ev.leg == live.citizen_leg:  # not answered, or hung up before a key
            self.by_leg.pop(ev.leg, None)
            services.leg_end(leg_id=ev.leg, sip_code=ev.data.get("code"), cause=ev.data.get("reason", ""))
            services.rating_call_not_rated(call=call)
            if live.rec:
                self.engine.stop_record(live.rec)
            services.call_end(
                call=call,
                disposition="" if live.state == "rating" else Disposition.NOT_REACHED,
                cause="rating_call",
            )
            live.state = "ending"
            return True
        return False

    # ------------------------------------------------------------------ supervisor modes (SPV-1)
    def on_monitor_command(self, command: dict[str, Any]) -> None:
        live = next((v for v in self.by_leg.values() if v.call_id == command.get("call_id")), None)
        if live is None or live.state not in ("talking", "hold"):
            return
        mode = str(command.get("mode", ""))
        if command.get("action") == "monitor_end":
            if live.monitor_leg:
                self.engine.hangup(live.monitor_leg)
            return
        if not live.monitor_leg:
            leg = f"sup-{uuid.uuid4().hex[:20]}"
            uri = f"sip:{command.get('extension')}@{self.registrar}"
            call = self._call(live)
            services.call_leg_out(
                call=call,
                leg_id=leg,
                role=LegRole.SUPERVISOR,
                purpose=LegPurpose.MONITOR,
                remote=uri,
                node=self._node(live.citizen_leg),
            )
            live.monitor_leg, live.monitor_mode, live.monitor_answered = leg, mode, False
            self.by_leg[leg] = live
            self.engine.call_out(leg, uri, near=live.citizen_leg)
            return
        previous, live.monitor_mode = live.monitor_mode, mode
        if live.monitor_answered:
            self._apply_monitor(live, mode, previous=previous)

    def on_monitor_answered(self, live: Live) -> None:
        call = self._call(live)
        services.call_leg_connected(call=call, leg_id=live.monitor_leg)
        live.monitor_answered = True
        self._apply_monitor(live, live.monitor_mode, previous="")

    def _apply_monitor(self, live: Live, mode: str, *, previous: str) -> None:
        """Listen: the supervisor hears both; whisper: the agent hears the supervisor too; barge: everyone."""
        sup, citizen, agent = live.monitor_leg, live.citizen_leg, live.agent_leg
        if not previous:
            self.engine.connect(citizen, sup, stop_music=True)
            if agent:
                self.engine.connect(agent, sup)
        wants = {(sup, agent): mode in ("whisper", "barge") and bool(agent), (sup, citizen): mode == "barge"}
        had = {(sup, agent): previous in ("whisper", "barge"), (sup, citizen): previous == "barge"}
        for (src, dst), on in wants.items():
            if on and not had[(src, dst)]:
                self.engine.connect(src, dst)
            elif not on and had[(src, dst)] and dst:
                self.engine.disconnect(src, dst)
        if mode == "barge" and live.rec and previous != "barge":
            self.engine.record_add(live.rec, sup)
        if mode == "intercept":
            self._intercept(live)

    def _intercept(self, live: Live) -> None:
        """The supervisor takes the call over: the agent's leg is released (the agent to wrap-up), the caller and
        the supervisor are bridged; the supervisor's leg is now the call's party (its hang-up ends the call)."""
        call = self._call(live)
        sup, citizen = live.monitor_leg, live.citizen_leg
        if live.agent_leg:
            leaving = live.agent_leg
            self.by_leg.pop(leaving, None)
            self.engine.hangup(leaving)
            services.call_leg_left(call=call, leg_id=leaving, cause="intercepted")
        if live.state == "hold":
            self.engine.retrieve(citizen)
        self.engine.bridge(citizen, sup)
        if live.rec:
            self.engine.record_add(live.rec, sup)
        services.call_handover(call=call, leg_id=sup, purpose=LegPurpose.INTERCEPT, agent_pk=None)
        live.agent_leg, live.agent_pk = sup, None
        live.monitor_leg, live.monitor_mode, live.monitor_answered = "", "", False
        live.state = "talking"

    def on_monitor_hungup(self, live: Live, ev: MediaEvent) -> None:
        self.by_leg.pop(live.monitor_leg, None)
        services.leg_end(
            leg_id=live.monitor_leg, sip_code=ev.data.get("code"), cause=ev.data.get("reason", "")
        )
        live.monitor_leg, live.monitor_mode, live.monitor_answered = "", "", False

    # ------------------------------------------------------------------ timers and the ACD
    def tick(self) -> None:
        now = self.now()
        for live in list(self.by_leg.values()):
            if live.state == "offering" and live.agent_leg and now - live.offered_at > self.ring_timeout:
                self.engine.hangup(live.agent_leg)  # CANCEL; the hung-up event sends the call back
                live.offered_at = float("inf")
            elif (
                live.consult_state == "ringing"
                and live.consult_leg
                and now - live.consult_offered_at > self.ring_timeout
            ):
                self.engine.hangup(live.consult_leg)
                live.consult_offered_at = float("inf")
            elif (
                live.state == "rating_dial"
                and now - live.offered_at > OUTBOUND_RING_FACTOR * self.ring_timeout
            ):
                self.engine.hangup(live.citizen_leg)
                live.offered_at = float("inf")
            elif live.state == "dialing_agent" and now - live.offered_at > self.ring_timeout:
                self.engine.hangup(live.agent_leg)
                live.offered_at = float("inf")
            elif (
                live.state == "dialing_citizen"
                and now - live.offered_at > OUTBOUND_RING_FACTOR * self.ring_timeout
            ):
                self.engine.hangup(live.citizen_leg)
                live.offered_at = float("inf")
            elif live.voicemail_started and now - live.voicemail_started > VOICEMAIL_MAX_SECONDS:
                self.engine.hangup(live.citizen_leg)
                live.voicemail_started = float("inf")
        waiting = {id(v): v for v in self.by_leg.values() if v.state == "queued"}
        callbacks = self._kept_places(now)
        if (waiting or callbacks) and (self._dirty or now - self._dispatched_at >= DISPATCH_IDLE_SECONDS):
            self._dirty, self._dispatched_at = False, now
            if waiting:
                self.overflow(list(waiting.values()), now)
            self.dispatch([v for v in waiting.values() if v.state == "queued"], callbacks)
        due = [v for v in waiting.values() if v.state == "queued" and v.announce_every and not v.playing]
        due = [v for v in due if now - v.announced_at >= v.announce_every]
        if due:
            self.announce(due, [v for v in waiting.values() if v.state == "queued"], callbacks, now)
        if self.wrap_up_seconds and now - self._wrap_up_read_at >= 1.0:
            self._wrap_up_read_at = now
            self.end_wrap_up()
        if now - self._ratings_read_at >= 2.0:
            self._ratings_read_at = now
            self.start_rating_calls()

    def _waiting(self, lives: list[Live]) -> list[acd.WaitingCall]:
        return [
            acd.WaitingCall(v.call_id, v.queue_id, v.waiting_since, v.priority)
            for v in lives
            if v.queue_id is not None
        ]

    def overflow(self, lives: list[Live], now: float) -> None:
        rules = self._queue_rules({v.queue_id for v in lives if v.queue_id is not None})
        by_call = {v.call_id: v for v in lives}
        for item in acd.overflows(calls=self._waiting(lives), rules=rules, now=now):
            live = by_call[item.call_id]
            call = self._call(live)
            if item.queue_id is not None:
                services.call_overflow(call=call, to_queue=Queue.objects.get(pk=item.queue_id))
                live.queue_id, live.waiting_since = item.queue_id, now
            else:
                services.call_overflow(call=call, to_queue=None)
                live.state = "voicemail"
                self._play(live, "voicemail.wav", then="")

    # ------------------------------------------------------------------ queue announcements, kept places (ACD-2)
    def _kept_places(self, now: float) -> list[acd.WaitingCall]:
        """Callers who pressed the callback key: they keep their place in the queue (read at most once a second)."""
        if now - self._callbacks_read_at < 1.0:
            return self._callbacks
        from .models import QueueCallback, QueueCallbackStatus

        moment = clock.now()
        self._callbacks_read_at = now
        self._callbacks = [
            acd.WaitingCall(f"cb:{pk}", queue_id, since.timestamp(), priority)
            for pk, queue_id, since, priority in QueueCallback.objects.filter(
                Q(not_before__isnull=True) | Q(not_before__lte=moment), status=QueueCallbackStatus.WAITING
            ).values_list("pk", "queue_id", "waiting_since", "priority")
        ]
        return self._callbacks

    def announce(
        self, due: list[Live], waiting: list[Live], callbacks: Sequence[acd.WaitingCall], now: float
    ) -> None:
        """Tell each due caller how many callers are ahead and the expected wait (spoken from clips)."""
        ahead = acd.positions([*self._waiting(waiting), *callbacks])
        staffed: dict[int, int] = {}
        handle: dict[int, float] = {}
        for live in due:
            live.announced_at = now
            if live.queue_id is None or live.call_id not in ahead:
                continue
            qid = live.queue_id
            if qid not in staffed:
                staffed[qid] = Agent.objects.filter(skills=qid).exclude(state=AgentState.LOGGED_OUT).count()
                handle[qid] = services.queue_handle_seconds(queue_id=qid)
            position = ahead[live.call_id]
            expected = acd.expected_wait_seconds(position, handle_seconds=handle[qid], agents=staffed[qid])
            try:
                path = announce.join(announce.queue_position(position, expected, live.callback_key))
            except tts.TtsError:
                log.exception("queue announcement could not be spoken")
                continue
            call = self._call(live)
            services.queue_announced(call=call, queue_id=qid, ahead=position, expected_seconds=expected)
            self._play(live, str(path), then="")

    def keep_place(self, live: Live) -> None:
        """The caller pressed the callback key: the place is kept, a confirmation is played, then we hang up."""
        call = self._call(live)
        services.queue_keep_place(call=call, queue_id=live.queue_id or 0, priority=live.priority)
        self._callbacks_read_at = 0.0  # seen by the ACD on the next tick
        live.kept_place, live.state = True, "announce"
        if live.playing:
            self.engine.stop_play(live.citizen_leg)
        try:
            self._play(live, str(announce.join([announce.KEPT_PLACE])), then="")
        except tts.TtsError:
            self.engine.hangup(live.citizen_leg)
            live.state = "ending"

    def dispatch(self, lives: list[Live], callbacks: Sequence[acd.WaitingCall] = ()) -> None:
        calls = [*self._waiting(lives), *callbacks]
        if not calls:
            return
        queue_ids = {c.queue_id for c in calls}
        rules = self._queue_rules(queue_ids)
        # The ready agents with these skills in one read of plain values (no model instances: this runs on every
        # pass with callers waiting).
        extension: dict[int, str] = {}
        auto_answer: dict[int, bool] = {}
        idle_since: dict[int, float] = {}
        skills: dict[int, set[int]] = {}
        for pk, ext, auto, ready_since, skill in Agent.objects.filter(
            state=AgentState.READY, skills__in=queue_ids
        ).values_list("pk", "extension", "auto_answer", "ready_since", "skills"):
            extension[pk], auto_answer[pk] = ext, auto
            idle_since[pk] = ready_since.timestamp() if ready_since else 0.0
            skills.setdefault(pk, set()).add(skill)
        today: dict[int, int] = {}
        if extension and any(rule.strategy == acd.FEWEST_CALLS for rule in rules.values()):
            since = clock.now().replace(
                hour=0, minute=0, second=0, microsecond=0
            )  # calls today: when asked for
            today = dict(
                Call.objects.filter(agent_id__in=list(extension), answered_at__gte=since)
                .values_list("agent_id")
                .annotate(n=Count("id"))
                .values_list("agent_id", "n")
            )
        snapshot = [
            acd.ReadyAgent(pk, frozenset(skills[pk]), idle_since[pk], today.get(pk, 0)) for pk in extension
        ]
        by_call = {v.call_id: v for v in lives}
        for assignment in acd.assign(calls=calls, agents=snapshot, rules=rules):
            if assignment.call_id.startswith("cb:"):  # a kept place: call the caller back through this agent
                command = services.queue_callback_offer(
                    callback_pk=int(assignment.call_id[3:]),
                    agent_pk=assignment.agent_id,
                    leg_id=f"out-{uuid.uuid4().hex[:20]}",
                )
                self._callbacks_read_at = 0.0
                if command is not None:
                    self.on_dial(command)
                continue
            live, agent_pk = by_call[assignment.call_id], assignment.agent_id
            leg = f"out-{uuid.uuid4().hex[:20]}"
            uri = f"sip:{extension[agent_pk]}@{self.registrar}"
            call = self._call(live)
            offered = services.call_offer(
                call=call, agent_pk=agent_pk, leg_id=leg, remote=uri, node=self._node(live.citizen_leg)
            )
            live.state, live.agent_leg, live.agent_pk, live.offered_at = "offering", leg, agent_pk, self.now()
            live.agent_code = (agent_pk, offered.agent_id)
            self.by_leg[leg] = live
            self.engine.call_out(
                leg,
                uri,
                caller_id=call.caller,
                near=live.citizen_leg,
                **seat.answer_options(auto_answer[agent_pk]),
            )

    def end_wrap_up(self) -> None:
        services.agents_end_wrap_up(before=clock.now() - dt.timedelta(seconds=self.wrap_up_seconds))
