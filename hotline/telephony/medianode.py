"""The pjsua2 media node: a separate process that registers the hotline numbers at Kamailio, answers, plays,
collects DTMF, records and bridges calls in its conference bridge, and does only what the platform tells it.

It imports no Django. The platform drives it over one local TCP connection (127.0.0.1) with JSON lines:
commands `{"op": "answer", "leg": "..."}` in, normalised events `{"ev": "answered", "leg": "..."}` out (see
`engine.py`). pjsua2 runs with no worker threads: the main loop pumps pjsip and runs the queued commands, so
every pjsua2 call happens on one thread. The loop sleeps in pjsip's poll until a SIP or RTP-control event, a
pjsip timer, its own next deadline, or a command: the thread reading commands wakes the poll with a CRLF
keep-alive datagram to the node's own SIP port (which pjsip ignores). An idle node no longer wakes 100 times a
second: with ~50 nodes on a machine (the wheel's 4 legs a node) those wake-ups were most of their CPU.

    python -m hotline.telephony.medianode --name node1 --sip-port 25070 --ctl-port 25071 \
        --registrar 127.0.0.1:25060 --aor 12345 --prompts DIR --rtp-port 26000
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import re
import signal
import socket
import threading
import time
import uuid
from typing import Any

import pjsua2 as pj

USER_RE = re.compile(r"sips?:([^@;>]+)@")
# The longest the loop sleeps with nothing due (ms). Callbacks pjsua2 queues from its media threads for the main
# thread run when the wait ends, so this bounds their delay when nothing else wakes the loop.
IDLE_WAIT_MS = int(os.environ.get("HOTLINE_MEDIANODE_IDLE_WAIT_MS", "1000"))  # no call on the node
CALLS_WAIT_MS = 200  # calls on the node, nothing due (a key pressed while no digits are awaited, a re-INVITE)
# Audio frame and RTP packet length (ms). 40 ms instead of pjsua's 20 halves the conference bridge's ticks and
# the packets this node sends (and an echoing peer sends back); the payload is the same G.711. Phones accept any
# ptime they are sent; a caller's 20 ms packets are still taken as they come.
PTIME_MS = int(os.environ.get("HOTLINE_MEDIANODE_PTIME_MS", "40"))
# RTP on the main loop's poll (1, default) or on pjmedia's own "media" thread (0, pjsua's default). pjmedia's
# worker polls its own I/O queue with a 10 ms timeout, and with no call's sockets in it (most of the time on a
# node of 4 legs) that is a 10 ms sleep in a loop: 100 wake-ups a second per node, measured as ~90 % of the
# nodes' CPU in a 20 calls/s run (perf). Shared, the RTP sockets join the SIP socket in the poll the loop
# already sleeps in: a packet wakes it, an idle node sleeps.
SHARED_IOQUEUE = os.environ.get("HOTLINE_MEDIANODE_SHARED_IOQUEUE", "1") == "1"


def prompt_path(prompts: str, prompt: str) -> str:
    """A prompt is a file name in the prompts directory, or an absolute path to a WAV file the platform
    rendered or stored (TTS cache, uploaded prompts under its var directory)."""
    if os.path.isabs(prompt) and prompt.endswith(".wav") and ".." not in prompt.split(os.sep):
        return prompt
    return os.path.join(prompts, os.path.basename(prompt))


def sip_user(uri: str) -> str:
    found = USER_RE.search(uri or "")
    return found.group(1) if found else ""


class Node:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.name = args.name
        # Commands from the reader thread (deque: append / popleft need no lock; the loop checks it on every
        # wake-up, one per RTP packet with the shared poll).
        self.commands: collections.deque[dict[str, Any]] = collections.deque()
        self.client: socket.socket | None = None
        self.client_lock = threading.Lock()
        self.legs: dict[str, Leg] = {}
        self.dead: list[
            Leg
        ] = []  # disconnected legs, dropped on the next loop turn (never inside a callback)
        self.players: dict[str, Player] = {}
        self.recorders: dict[str, tuple[pj.AudioMediaRecorder, str]] = {}
        # Who hears whom: directed links (source leg, listening leg) in the conference bridge. Bridges,
        # conferences, supervisor listen/whisper/barge are all sets of links; a held leg's links are kept aside.
        self.links: set[tuple[str, str]] = set()
        self.held: dict[str, set[tuple[str, str]]] = {}
        self.collect: dict[str, dict[str, Any]] = {}
        # Keys pressed while no collection was armed (IVR type-ahead).
        self.typeahead: dict[str, str] = {}
        # Leg → recorder id: what the leg hears is recorded (quality checks).
        self.taps: dict[str, str] = {}
        # Recorder → the legs it records: stopped when they are all gone.
        self.rec_legs: dict[str, set[str]] = {}
        self.finished_records: list[tuple[float, str, str]] = []
        self.registered: dict[str, int] = {}
        self.running = True
        # Callers held at once: each may need its agent's leg on this node too (bridged in its conference).
        self.max_callers = max(1, args.max_calls // 2)
        self.refused: list[Leg] = []  # callers answered 486 (full), kept until their call is gone
        self.waker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def wake(self) -> None:
        """Ends the main loop's wait in pjsip's poll now (a command is queued)."""
        with contextlib.suppress(OSError):
            self.waker.sendto(b"\r\n\r\n", ("127.0.0.1", self.args.sip_port))

    def wait_ms(self) -> int:
        """How long the loop may sleep in pjsip's poll: short while a prompt may end (its end-of-file callback is
        delivered by the loop) or a finished recording is due, until the next DTMF deadline, else long. Commands
        and SIP traffic end the wait at once."""
        if self.finished_records or (self.players and any(not p.loop for p in self.players.values())):
            return 20
        if self.collect:  # keys are awaited: their callbacks come through the loop
            due = min(c["deadline"] for c in self.collect.values()) - time.time()
            return min(50, max(0, int(due * 1000) + 1))
        return CALLS_WAIT_MS if self.legs else IDLE_WAIT_MS

    # ------------------------------------------------------------------ control connection
    def emit(self, ev: str, **data: Any) -> None:
        line = (json.dumps({"ev": ev, "node": self.name, **data}, ensure_ascii=False) + "\n").encode()
        with self.client_lock:
            if self.client is None:
                return
            try:
                self.client.sendall(line)
            except OSError:
                self.client = None

    def serve_control(self) -> None:
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", self.args.ctl_port))
        srv.listen(4)
        while self.running:
            conn, _addr = srv.accept()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.client_lock:
                if self.client is not None:
                    self.client.close()
                self.client = conn
            self.commands.append({"op": "_hello"})
            self.wake()
            threading.Thread(target=self.read_commands, args=(conn,), daemon=True).start()

    def read_commands(self, conn: socket.socket) -> None:
        buf = b""
        while True:
            try:
                chunk = conn.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if line.strip():
                    try:
                        self.commands.append(json.loads(line))
                    except ValueError:
                        self.emit("error", op="?", message="bad json")
            self.wake()

    # ------------------------------------------------------------------ pjsua2
    def start(self) -> None:
        a = self.args
        self.ep = pj.Endpoint()
        self.ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        # Legs this node holds at once. The PyPI wheel (pjsua2-python) is built with pjproject's default
        # PJSUA_MAX_CALLS = 4 (since pjproject 2.11) and caps the setting at it: one node holds 4 legs (2 calls with
        # their agents). More calls take more nodes behind Kamailio's dispatcher, or a pjproject built with a larger
        # PJSUA_MAX_CALLS in config_site.h (then --max-calls).
        cfg.uaConfig.maxCalls = a.max_calls
        level = int(os.environ.get("HOTLINE_MEDIANODE_LOG_LEVEL", "1"))  # pjsip's 0..6 (5: every SIP message)
        cfg.logConfig.level = level
        cfg.logConfig.consoleLevel = level
        cfg.medConfig.clockRate = 8000
        cfg.medConfig.sndClockRate = 8000
        cfg.medConfig.noVad = True
        cfg.medConfig.ptime = PTIME_MS
        cfg.medConfig.audioFramePtime = PTIME_MS
        if SHARED_IOQUEUE:
            cfg.medConfig.hasIoqueue = False
            cfg.medConfig.threadCnt = 0
        self.ep.libInit(cfg)
        t = pj.TransportConfig()
        t.port = a.sip_port
        t.boundAddress = "127.0.0.1"
        t.publicAddress = "127.0.0.1"
        self.ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, t)
        self.ep.libStart()
        self.ep.audDevManager().setNullDev()
        for c in self.ep.codecEnum2():
            self.ep.codecSetPriority(c.codecId, 255 if c.codecId.startswith(("PCMU", "PCMA")) else 0)
        self.accounts = []
        for aor in a.aor:
            acfg = pj.AccountConfig()
            acfg.idUri = f"sip:{aor}@{a.registrar}"
            acfg.regConfig.registrarUri = f"sip:{a.registrar}"
            acfg.regConfig.timeoutSec = 300
            acfg.mediaConfig.transportConfig.port = a.rtp_port
            acfg.mediaConfig.transportConfig.portRange = a.rtp_range
            acfg.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
            acc = Account(self, aor)
            acc.create(acfg)
            self.accounts.append(acc)

    def loop(self) -> None:
        while self.running:
            self.ep.libHandleEvents(self.wait_ms())
            while self.commands:
                cmd = self.commands.popleft()
                try:
                    self.run(cmd)
                except Exception as exc:  # a bad command must not stop the node
                    self.emit("error", op=cmd.get("op", ""), leg=cmd.get("leg", ""), message=str(exc))
            if self.collect:
                self.check_collect()
            if self.finished_records:
                self.report_records()
            if self.dead:
                self.dead.clear()
        self.ep.hangupAllCalls()
        end = time.time() + 0.5
        while time.time() < end:
            self.ep.libHandleEvents(10)
        os._exit(0)  # libDestroy with SWIG-owned objects alive is unsafe; every call was released above

    def check_collect(self) -> None:
        now = time.time()
        for leg_id, c in list(self.collect.items()):
            if now >= c["deadline"]:
                del self.collect[leg_id]
                self.emit("digits", leg=leg_id, digits=c["digits"], reason="timeout")

    # ------------------------------------------------------------------ commands
    def leg(self, leg_id: str) -> Leg:
        leg = self.legs.get(leg_id)
        if leg is None:
            raise KeyError(f"no leg {leg_id}")
        return leg

    def run(self, cmd: dict[str, Any]) -> None:
        op = cmd["op"]
        if op == "_hello":
            self.emit("node_up", legs=sorted(self.legs), registered=self.registered)
        elif op == "answer":
            prm = pj.CallOpParam()
            prm.statusCode = 200
            self.leg(cmd["leg"]).answer(prm)
        elif op in ("play", "park"):
            self.stop_play(cmd["leg"])
            leg = self.leg(cmd["leg"])
            if leg.am is None:
                raise RuntimeError("no media yet")
            loop = bool(cmd.get("loop")) or op == "park"
            player = Player(self, cmd["leg"], cmd["prompt"], loop)
            path = prompt_path(self.args.prompts, cmd["prompt"])
            player.createPlayer(path, 0 if loop else pj.PJMEDIA_FILE_NO_LOOP)
            player.startTransmit(leg.am)
            recorder = self.recorders.get(cmd.get("rec") or "")
            if recorder is not None:  # the prompt is part of the recorded call (the agent-ID announcement)
                player.startTransmit(recorder[0])
            self.players[cmd["leg"]] = player
        elif op == "stop_play":
            self.stop_play(cmd["leg"])
        elif op == "collect":
            self.leg(cmd["leg"])
            ahead = "" if cmd.get("flush") else self.typeahead.pop(cmd["leg"], "")
            self.typeahead.pop(cmd["leg"], None)
            self.collect[cmd["leg"]] = {
                "digits": "",
                "max": int(cmd.get("max_digits", 1)),
                "terminator": cmd.get("terminator", "#"),
                "deadline": time.time() + int(cmd.get("timeout_ms", 5000)) / 1000,
            }
            for digit in ahead:
                if self.collect_digit(cmd["leg"], digit):
                    break
        elif op == "record":
            rec = pj.AudioMediaRecorder()
            os.makedirs(os.path.dirname(cmd["path"]), exist_ok=True)
            rec.createRecorder(cmd["path"])
            # A party may already have hung up (the command crossed its BYE): record who is left; with nobody
            # left the recording ends at once (the platform still gets its record_done).
            present = [leg_id for leg_id in cmd["legs"] if leg_id in self.legs]
            for leg_id in present:
                am = self.legs[leg_id].am
                if am is not None:
                    am.startTransmit(rec)
            self.recorders[cmd["rec"]] = (rec, cmd["path"])
            self.rec_legs[cmd["rec"]] = set(present)
            if not present:
                self.commands.append({"op": "stop_record", "rec": cmd["rec"]})
        elif op == "stop_record":
            self.stop_record(cmd["rec"])
        elif op == "call_out":
            leg = Leg(self, self.accounts[0], cmd["leg"], outbound=True)
            self.legs[cmd["leg"]] = leg
            prm = pj.CallOpParam(True)
            for name, value in (cmd.get("headers") or {}).items():  # e.g. the auto-answer headers
                header = pj.SipHeader()
                header.hName, header.hValue = str(name), str(value)
                prm.txOption.headers.append(header)
            try:
                leg.makeCall(cmd["uri"], prm)
            except Exception as exc:  # e.g. no call slot left (PJ_ETOOMANY): the leg never existed
                # Dropped here: a later hang-up of a leg pjsua never made would abort the node (pjsua asserts).
                self.legs.pop(cmd["leg"], None)
                self.dead.append(leg)
                self.emit("hungup", leg=cmd["leg"], code=503, reason=f"not placed: {exc}"[:200])
        elif op == "bridge":
            a, b = cmd["a"], cmd["b"]
            self.stop_play(a)
            self.stop_play(b)
            self.held.pop(a, None)  # a held leg bridged elsewhere (a transfer) drops its old links
            self.held.pop(b, None)
            self.link(a, b)
            self.link(b, a)
        elif op == "unbridge":
            self.unlink(cmd["a"], cmd["b"])
            self.unlink(cmd["b"], cmd["a"])
        elif op == "connect":  # one way: `dst` hears `src` (supervisor listen / whisper / barge, conference)
            if cmd.get("stop_music"):
                self.stop_play(cmd["dst"])
            self.link(cmd["src"], cmd["dst"])
        elif op == "disconnect":
            self.unlink(cmd["src"], cmd["dst"])
        elif op == "hold":
            # Media-level hold in the bridge (no re-INVITE to the party): the leg hears music, nobody hears it.
            leg_id = cmd["leg"]
            self.leg(leg_id)
            mine = {link for link in self.links if leg_id in link}
            for src, dst in mine:
                self.unlink(src, dst)
            self.held.setdefault(leg_id, set()).update(mine)
            self.run({"op": "park", "leg": leg_id, "prompt": cmd.get("music", "hold.wav")})
        elif op == "retrieve":
            leg_id = cmd["leg"]
            self.stop_play(leg_id)
            for src, dst in self.held.pop(leg_id, set()):
                if src in self.legs and dst in self.legs:
                    self.link(src, dst)
        elif op == "tap":
            rec = pj.AudioMediaRecorder()
            os.makedirs(os.path.dirname(cmd["path"]), exist_ok=True)
            rec.createRecorder(cmd["path"])
            self.recorders[cmd["rec"]] = (rec, cmd["path"])
            self.taps[cmd["leg"]] = cmd["rec"]
            for src, dst in self.links:
                if dst == cmd["leg"]:
                    self._tap_link(src, dst, True)
        elif op == "record_add":
            rec = self.recorders.get(cmd["rec"])
            am = self.leg(cmd["leg"]).am
            if rec is not None and am is not None:
                am.startTransmit(rec[0])
                self.rec_legs.setdefault(cmd["rec"], set()).add(cmd["leg"])
        elif op == "transfer":
            self.leg(cmd["leg"]).xfer(cmd["uri"], pj.CallOpParam(True))
        elif op == "hangup":
            gone = self.legs.get(cmd["leg"])
            if gone is None:  # already gone: say so, the platform may be catching up after a restart
                self.emit("hungup", leg=cmd["leg"], code=0, reason="unknown leg")
                return
            prm = pj.CallOpParam(True)
            if cmd.get("code"):
                prm.statusCode = int(cmd["code"])
            gone.hangup(prm)
        elif op == "shutdown":
            self.running = False
        else:
            raise ValueError(f"unknown op {op}")

    def link(self, src: str, dst: str) -> None:
        a, b = self.legs.get(src), self.legs.get(dst)
        if a is None or b is None:
            raise KeyError(f"no leg {src if a is None else dst}")
        self.links.add((src, dst))
        if a.am is not None and b.am is not None:
            a.am.startTransmit(b.am)
        self._tap_link(src, dst, True)

    def _tap_link(self, src: str, dst: str, on: bool) -> None:
        rec = self.recorders.get(self.taps.get(dst, ""))
        leg = self.legs.get(src)
        if rec is None or leg is None or leg.am is None:
            return
        with contextlib.suppress(Exception):
            leg.am.startTransmit(rec[0]) if on else leg.am.stopTransmit(rec[0])

    def unlink(self, src: str, dst: str) -> None:
        self.links.discard((src, dst))
        self._tap_link(src, dst, False)
        a, b = self.legs.get(src), self.legs.get(dst)
        if a is not None and b is not None and a.am is not None and b.am is not None:
            with contextlib.suppress(Exception):
                a.am.stopTransmit(b.am)

    def collect_digit(self, leg_id: str, digit: str) -> bool:
        """One key into an armed collection; True when the collection ended (and was reported)."""
        c = self.collect.get(leg_id)
        if c is None:
            self.typeahead[leg_id] = (self.typeahead.get(leg_id, "") + digit)[-20:]
            return False
        if digit == c["terminator"]:
            reason = "terminator"
        else:
            c["digits"] += digit
            reason = "max" if len(c["digits"]) >= c["max"] else ""
        if reason:
            del self.collect[leg_id]
            self.emit("digits", leg=leg_id, digits=c["digits"], reason=reason)
            return True
        return False

    def stop_play(self, leg_id: str) -> None:
        player = self.players.pop(leg_id, None)
        leg = self.legs.get(leg_id)
        if player is not None and leg is not None and leg.am is not None:
            with contextlib.suppress(Exception):
                player.stopTransmit(leg.am)

    def stop_record(self, rec_id: str) -> None:
        if rec_id not in self.recorders:
            return
        self.taps = {leg: r for leg, r in self.taps.items() if r != rec_id}
        self.rec_legs.pop(rec_id, None)
        rec, path = self.recorders.pop(rec_id)
        del rec  # the last reference: destroying the recorder flushes the file and writes the WAV header
        self.finished_records.append((time.time() + 0.2, rec_id, path))

    def report_records(self) -> None:
        now = time.time()
        for item in [r for r in self.finished_records if r[0] <= now]:
            self.finished_records.remove(item)
            _due, rec_id, path = item
            size = os.path.getsize(path) if os.path.exists(path) else 0
            self.emit("record_done", rec=rec_id, path=path, bytes=size)

    # ------------------------------------------------------------------ leg callbacks
    def on_disconnected(self, leg: Leg, code: int, reason: str) -> None:
        if leg in self.refused:  # a caller turned away (node full): nothing to tell
            self.refused.remove(leg)
            self.dead.append(leg)
            return
        self.legs.pop(leg.leg_id, None)
        self.players.pop(leg.leg_id, None)
        self.collect.pop(leg.leg_id, None)
        self.typeahead.pop(leg.leg_id, None)
        for link in [link for link in self.links if leg.leg_id in link]:
            self._tap_link(*link, False)
        self.links = {link for link in self.links if leg.leg_id not in link}
        if leg.leg_id in self.taps:  # finished on the next loop turn (no recorder destroyed in a callback)
            self.commands.append({"op": "stop_record", "rec": self.taps[leg.leg_id]})
        # A recording whose parties have all hung up is finished even if nobody asks (the platform restarted).
        for rec_id, legs in list(self.rec_legs.items()):
            legs.discard(leg.leg_id)
            if not legs:
                self.commands.append({"op": "stop_record", "rec": rec_id})
        self.held.pop(leg.leg_id, None)
        for kept in self.held.values():
            kept.difference_update({link for link in kept if leg.leg_id in link})
        self.dead.append(leg)
        self.emit("hungup", leg=leg.leg_id, code=code, reason=reason)


class Player(pj.AudioMediaPlayer):
    def __init__(self, node: Node, leg_id: str, prompt: str, loop: bool) -> None:
        super().__init__()
        self.node, self.leg_id, self.prompt, self.loop = node, leg_id, prompt, loop

    def onEof2(self) -> None:
        if not self.loop:  # music on hold loops until stopped: no event per turn
            self.node.emit("play_done", leg=self.leg_id, prompt=self.prompt)


class Leg(pj.Call):
    def __init__(
        self,
        node: Node,
        acc: pj.Account,
        leg_id: str,
        call_id: int = pj.PJSUA_INVALID_ID,
        outbound: bool = False,
    ) -> None:
        super().__init__(acc, call_id)
        self.node, self.leg_id, self.outbound = node, leg_id, outbound
        self.am: pj.AudioMedia | None = None
        self.answered = False

    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        ci = self.getInfo()
        if ci.state == pj.PJSIP_INV_STATE_EARLY and self.outbound:
            self.node.emit("ringing", leg=self.leg_id, code=ci.lastStatusCode)
        elif ci.state == pj.PJSIP_INV_STATE_CONFIRMED and not self.answered:
            self.answered = True
            self.node.emit("answered", leg=self.leg_id)
        elif ci.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.node.on_disconnected(self, int(ci.lastStatusCode), str(ci.lastReason))

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        ci = self.getInfo()  # keep the CallInfo alive while reading its media (SWIG temporary)
        for mi in ci.media:
            if mi.type == pj.PJMEDIA_TYPE_AUDIO and mi.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                self.am = self.getAudioMedia(mi.index)
                # After a re-INVITE the links are restored on the (possibly new) port.
                for src, dst in list(self.node.links):
                    if self.leg_id in (src, dst):
                        a, b = self.node.legs.get(src), self.node.legs.get(dst)
                        if a is not None and b is not None and a.am is not None and b.am is not None:
                            a.am.startTransmit(b.am)
                            self.node._tap_link(src, dst, True)

    def onDtmfDigit(self, prm: pj.OnDtmfDigitParam) -> None:
        self.node.emit("dtmf", leg=self.leg_id, digit=prm.digit)
        self.node.collect_digit(self.leg_id, prm.digit)


class Account(pj.Account):
    def __init__(self, node: Node, aor: str) -> None:
        super().__init__()
        self.node, self.aor = node, aor

    def onRegState(self, prm: pj.OnRegStateParam) -> None:
        self.node.registered[self.aor] = int(prm.code)
        self.node.emit("registered", aor=self.aor, code=int(prm.code))

    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:
        if sum(1 for held in self.node.legs.values() if not held.outbound) >= self.node.max_callers:
            # Full: every caller here may need a second leg (its agent) on this node, so a caller is taken only
            # while there is room for both. 486: Kamailio's dispatcher tries the next node. Never reported.
            refused = Leg(self.node, self, "", prm.callId)
            self.node.refused.append(refused)
            busy = pj.CallOpParam()
            busy.statusCode = 486
            refused.answer(busy)
            return
        leg_id = f"in-{uuid.uuid4().hex[:20]}"
        leg = Leg(self.node, self, leg_id, prm.callId)
        self.node.legs[leg_id] = leg
        ci = leg.getInfo()
        ring = pj.CallOpParam()
        ring.statusCode = 180
        leg.answer(ring)
        caller = sip_user(ci.remoteUri) or ci.remoteUri
        self.node.emit("incoming", leg=leg_id, caller=caller, dialed=sip_user(ci.localUri) or self.aor)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--name", default="node1")
    p.add_argument("--sip-port", type=int, required=True)
    p.add_argument("--ctl-port", type=int, required=True)
    p.add_argument("--registrar", required=True, help="host:port of Kamailio")
    p.add_argument("--aor", action="append", required=True, help="a number this node answers (repeatable)")
    p.add_argument("--prompts", required=True)
    p.add_argument("--rtp-port", type=int, default=26000)
    p.add_argument("--rtp-range", type=int, default=400, help="RTP ports from --rtp-port (2 per leg)")
    p.add_argument(
        "--max-calls", type=int, default=4, help="legs at once (capped by pjsua's PJSUA_MAX_CALLS)"
    )
    args = p.parse_args(argv)
    node = Node(args)
    node.start()
    signal.signal(signal.SIGTERM, lambda *_: setattr(node, "running", False))
    signal.signal(signal.SIGINT, lambda *_: setattr(node, "running", False))
    threading.Thread(target=node.serve_control, daemon=True).start()
    print(
        f"media node {args.name} sip 127.0.0.1:{args.sip_port} control 127.0.0.1:{args.ctl_port}", flush=True
    )
    node.loop()


if __name__ == "__main__":
    main()
