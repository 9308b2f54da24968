"""Shared scaffolding of the end-to-end telephony tests (real processes on 127.0.0.1): SIPp citizens, Kamailio,
the pjsua2 media node, baresip phones answering over ctrl_tcp. Skipped (with the reason) only when the binaries
are absent; CI installs them.

Ports (HOTLINE_TEST_SIP_BASE moves them all, default 25060): Kamailio BASE; media node SIP +10, control +11;
citizens +20..+39 (SIPp), media +1840..; phones SIP +40+4i (and +41+4i, baresip's TLS), ctrl_tcp +42+4i, RTP
+2540+100i; the node's RTP +940..+1340. Kannel's test ports (13xxx) and the recipe's 15060 are left alone.

The two-node stack (Kamailio's dispatcher over two media nodes, two phones) of the scale-out and fault tests is
built by `start_two_nodes` and driven by `run_pool_controller`, one module at a time, all within
TWO_NODES_BASE..+699 (HOTLINE_TEST_SIP_BASE2, default BASE + 3100): Kamailio +0, node i SIP +10+4i and
control +11+4i, citizens +20+i, phones SIP +40+4i and ctrl_tcp +42+4i, the nodes' RTP +100..+299, the phones'
+300+100i, citizens' media +500+20i.

Waiting is always on events (a database state, a process exit) with generous deadlines: the machine running
them may be loaded.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hotline.telephony import push, services
from hotline.telephony.models import Agent, Call, Number, Queue
from hotline.telephony.states import AgentEvent

from .sip_tools import Baresip, missing

BASE = int(os.environ.get("HOTLINE_TEST_SIP_BASE", "25060"))
# HOTLINE_TEST_TEL_COMPACT=1 packs the layout into BASE..BASE+999 (several runs on one machine, each in its own
# range of 1,000 ports): the node's RTP +100..+499, the phones' RTP +500+100i, SIPp media from MEDIA_BASE (+900).
# Only the tests that take their SIPp media ports from MEDIA_BASE fit in it.
COMPACT = os.environ.get("HOTLINE_TEST_TEL_COMPACT", "") == "1"
MEDIA_BASE = BASE + (900 if COMPACT else 2300)
PROXY = f"127.0.0.1:{BASE}"
TWO_NODES_BASE = int(os.environ.get("HOTLINE_TEST_SIP_BASE2", str(BASE + 3100)))
TWO_NODES_PROXY = f"127.0.0.1:{TWO_NODES_BASE}"
# Deadlines are generous multiples of what an idle machine needs (they only bound a failing test's wait).
PATIENCE = float(os.environ.get("HOTLINE_TEST_TEL_PATIENCE", "3"))
# Each phone sends its own tone, so who hears whom shows in the recordings (Goertzel).
PHONES = (("1001", 700.0), ("1002", 1000.0), ("1003", 1300.0), ("1009", 1700.0))


def start_stack(
    work: Path,
    *,
    base: int,
    nodes: int,
    phones: tuple[tuple[str, float], ...],
    node_rtp: int,
    node_rtp_span: int,
    phone_rtp: int,
) -> Iterator[dict[str, Any]]:
    """Kamailio at `base` and `nodes` media nodes behind it (node i SIP base+10+4i, control base+11+4i, RTP from
    base+node_rtp), the phones (SIP base+40+4i, ctrl_tcp base+42+4i, RTP base+phone_rtp+100i) registered;
    everything stopped by PID afterwards. Skips (with the reason) when the binaries are absent."""
    absent = missing()
    if absent:
        pytest.skip(f"telephony binaries absent: {', '.join(absent)}")
    from hotline.telephony.runtime import Stack

    stack = Stack(
        work_dir=work,
        sip_port=base,
        node_sip_port=base + 10,
        ctl_port=base + 11,
        rtp_port=base + node_rtp,
        nodes=nodes,
        rtp_span=node_rtp_span,
    )
    started: dict[str, Baresip] = {}
    try:
        stack.start()
        for i, (user, freq) in enumerate(phones):
            started[user] = Baresip(
                user=user,
                work=work,
                registrar=stack.registrar,
                sip_port=base + 40 + 4 * i,  # baresip also takes sip_port + 1 (TLS)
                ctrl_port=base + 42 + 4 * i,
                rtp=base + phone_rtp + 100 * i,
                freq=freq,
            )
        deadline = time.monotonic() + 30
        while not all(p.registered() for p in started.values()):
            assert time.monotonic() < deadline, "phones did not register at Kamailio"
            time.sleep(0.2)
        yield {"work": work, "stack": stack, "phones": started, "base": base, "proxy": stack.registrar}
    finally:
        for phone in started.values():
            phone.stop()
        stack.stop()


def _work_dir(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    keep = os.environ.get("HOTLINE_TEST_TEL_DIR")  # to read the processes' logs after a run
    if keep:
        return Path(keep) / name if name != "tel" else Path(keep)
    return tmp_path_factory.mktemp(name)


def start_sip_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Kamailio, one media node and the phones (1001, 1002 agents; 1003 a second agent or an outside number;
    1009 the supervisor), registered."""
    yield from start_stack(
        _work_dir(tmp_path_factory, "tel"),
        base=BASE,
        nodes=1,
        phones=PHONES,
        node_rtp=100 if COMPACT else 940,
        node_rtp_span=400,
        phone_rtp=500 if COMPACT else 2540,
    )


def start_two_nodes(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[dict[str, Any]]:
    """Kamailio's dispatcher in front of two media nodes, agents 1001 and 1002 (the scale-out and fault tests;
    each module starts its own, one after the other, on the same TWO_NODES_BASE ports)."""
    yield from start_stack(
        _work_dir(tmp_path_factory, name),
        base=TWO_NODES_BASE,
        nodes=2,
        phones=PHONES[:2],
        node_rtp=100,
        node_rtp_span=100,
        phone_rtp=300,
    )


def _ready_controller(ctrl: Any, env: dict[str, Any], what: str) -> Any:
    deadline = time.monotonic() + 30
    while not ctrl.node_ready.is_set():
        assert time.monotonic() < deadline, f"{what} not registered"
        ctrl.run_once(0.05)
    for phone in env["phones"].values():
        while phone.next_event():
            pass
    return ctrl


def run_controller(sip_env: dict[str, Any], settings: Any, tmp_path: Path) -> Iterator[Any]:
    from hotline.telephony.adapters.pjsua_node import PjsuaNodeEngine
    from hotline.telephony.controller import CallController

    settings.VAR_DIR = tmp_path
    engine = PjsuaNodeEngine(name="node1", port=BASE + 11)
    ctrl = CallController(engine, registrar=PROXY, ring_timeout=8)
    yield _ready_controller(ctrl, sip_env, "media node")
    ctrl.close()
    engine.close()


def run_pool_controller(env: dict[str, Any], settings: Any, tmp_path: Path) -> Iterator[Any]:
    """The call controller over every media node of `env` (a `NodePool`), once they are registered."""
    from hotline.telephony.adapters.pjsua_node import PjsuaNodeEngine
    from hotline.telephony.adapters.pool import NodePool
    from hotline.telephony.controller import CallController

    settings.VAR_DIR = tmp_path
    stack = env["stack"]
    pool = NodePool([PjsuaNodeEngine(name=n, port=stack.node_ctl_port(n)) for n in stack.node_names()])
    ctrl = CallController(pool, registrar=env["proxy"], ring_timeout=8)
    yield _ready_controller(ctrl, env, "media nodes")
    ctrl.close()
    pool.close()


def two_nodes_citizen(
    env: dict[str, Any], caller: str, i: int, script: str = "citizen_hung_up_on.xml", talk_ms: int = 8000
) -> Any:
    """A SIPp citizen calling 12345 on a two-node stack (its i-th: SIP base+20+i, media base+500+20i)."""
    from .sip_tools import sipp_citizen

    return sipp_citizen(
        work=env["work"],
        proxy=env["proxy"],
        number="12345",
        caller=caller,
        sip_port=env["base"] + 20 + i,
        media_port=env["base"] + 500 + 20 * i,
        script=script,
        keys="",
        talk_ms=talk_ms,
    )


def pump(
    ctrl: Any,
    phones: dict[str, Baresip],
    on_ring: Callable[[str], str],
    until: Callable[[], bool],
    secs: float,
):
    """Run the controller until `until()`; when a phone rings, `on_ring(user)` says 'accept' or 'hangup'
    (reject). `secs` is what an idle machine needs at most; the deadline is PATIENCE times that."""
    deadline = time.monotonic() + secs * PATIENCE
    seen: list[str] = []
    while not until():
        if os.environ.get("HOTLINE_TEST_TEL_TRACE") and seen:
            print(seen[-1])
        if time.monotonic() > deadline:
            calls = list(Call.objects.values_list("caller", "status", "disposition"))
            raise AssertionError(f"timed out; media events {seen}; calls {calls}")
        event = ctrl.run_once(0.02)
        if event is not None:
            seen.append(f"{event.kind}:{event.leg[:6]}:{event.data}")
        for user, phone in phones.items():
            ev = phone.next_event()
            if ev:
                seen.append(f"{user}:{ev.get('type')}")
            if ev and ev.get("type") == "CALL_INCOMING":
                phone.cmd(on_ring(user))


def setup_hotline(*users: str) -> tuple[Queue, list[Agent]]:
    queue = Queue.objects.create(code="general", name="综合")
    Number.objects.create(number="12345", name="12345热线", queue=queue)
    agents = []
    for user in users:
        agent = services.agent_create(
            agent_id=user, password="secret1", extension=user, skills=[queue], actor=None
        )
        services.agent_event(agent_pk=agent.pk, event=AgentEvent.LOGIN)
        agents.append(services.agent_event(agent_pk=agent.pk, event=AgentEvent.READY))
        time.sleep(0.01)  # distinct ready times: the first listed has been idle longest
    return queue, agents


def listen(agent: Agent) -> tuple[list[dict[str, Any]], threading.Event]:
    got: list[dict[str, Any]] = []
    stop = threading.Event()

    def run() -> None:
        for message in push.broker().listen(push.agent_channel(agent.pk), timeout=0.1):
            if stop.is_set():
                return
            if message:
                got.append(json.loads(message))

    threading.Thread(target=run, daemon=True).start()
    time.sleep(0.05)
    return got, stop


def finished(call_filter: dict[str, Any]) -> Callable[[], bool]:
    def check() -> bool:
        call = Call.objects.filter(**call_filter).first()
        return bool(
            call and call.status == "ended" and not call.recordings.filter(ended_at__isnull=True).exists()
        )

    return check


def controller_var_dir() -> str:
    from django.conf import settings

    return str(settings.VAR_DIR)


def run_for(ctrl: Any, phones: dict[str, Baresip], seconds: float) -> None:
    """Let audio flow for `seconds` (for who-hears-whom); the controller keeps running meanwhile."""
    end = time.monotonic() + seconds
    pump(ctrl, phones, lambda user: "accept", lambda: time.monotonic() > end, seconds + 5)


def tap(ctrl: Any, leg_id: str, path: Path) -> None:
    """Record what the leg hears (the media node's tap), into `path`."""
    ctrl.engine.tap(f"tap-{path.stem}", leg_id, str(path))


def stop_tap(ctrl: Any, phones: dict[str, Baresip], path: Path) -> list[int]:
    """End the tap and wait for the file to be complete; its samples."""
    import wave

    ctrl.engine.stop_record(f"tap-{path.stem}")
    stopped = time.monotonic()

    def complete() -> bool:
        """The header is written when the recorder is destroyed: then it counts every byte of the file. A
        leg that heard nobody (music only) leaves a bare header, complete too once the node had time to stop it."""
        try:
            size = path.stat().st_size
            with wave.open(str(path)) as w:
                frames = w.getnframes()
        except (OSError, wave.Error, EOFError):
            return False
        if size > 44:
            return frames * 2 + 44 == size
        return time.monotonic() - stopped > 2

    pump(ctrl, phones, lambda user: "accept", complete, 10)
    with wave.open(str(path)) as w:
        return list(memoryview(w.readframes(w.getnframes())).cast("h"))


def heard(samples: list[int], freq: float, rate: int = 8000) -> float:
    """The strongest share of `freq` in any one-second window (a party's tone heard at some point)."""
    from .sip_tools import goertzel_share

    windows = [samples[i : i + rate] for i in range(0, max(0, len(samples) - rate + 1), rate // 2)]
    return max((goertzel_share(w, rate, freq) for w in windows if any(w)), default=0.0)


def state_is(agent: Agent, state: str) -> Callable[[], bool]:
    return lambda: Agent.objects.get(pk=agent.pk).state == state
