"""Telephony at scale (issue 13), with the real processes on 127.0.0.1: Kamailio in front of two pjsua2 media nodes
(its dispatcher spreads the hotline number over them), the call controller of the platform (in this process, on
PostgreSQL), SIPp citizens calling 12345 (G.711 audio from a pcap) and one SIPp process answering for every agent
(each agent's extension registered at Kamailio with that process as its contact; it rings, answers, waits for the
hotline's BYE). Every call takes the default path: welcome prompt (IVR-6: no menu), queue with music, the ACD
offers it, the agent answers, bridged and recorded; agents wrap up for `--wrap` seconds.

Two figures, two runs:

    # ≥ 100 concurrent calls held through IVR and queue with recording on, 0 failed
    nice -n 10 python -m bench.tel_scale_bench --calls 110 --rate 5 --hold 45 --agents 110
    # ≥ 20 new calls/s through IVR → queue → agent
    nice -n 10 python -m bench.tel_scale_bench --calls 400 --rate 20 --hold 4 --agents 120

DATABASE_URL must point at PostgreSQL. `--base` moves every port, all within BASE..BASE+999 (default 40000: Kamailio
BASE, citizens +3, agents +5, node i SIP +10+4i and control +11+4i (up to 70 nodes), RTP +300+8i (8 ports each: a node
holds 4 legs), SIPp media +900 (citizens) / +950 (agents)). Prints SIPp's successful and failed
calls, the platform's outcome per call (answered, recorded, failed), the peak of calls in progress (from the CDR),
the time to reach a person p50/p99, the calls/s actually achieved, the CPU seconds of every process, and the load.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import datetime as dt
import os
import pstats
import resource
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from bench import require_postgresql
from bench.agent_push_bench import _postgres_cpu, backend_pid
from bench.chat_bench import _cpu_seconds, _pct
from hotline.telephony import services
from hotline.telephony.models import Agent, Call, CallLeg, Number, Queue, Recording
from hotline.telephony.states import AgentEvent, AgentState

HERE = Path(__file__).resolve().parent


def register(proxy_port: int, extension: str, contact_port: int) -> None:
    """REGISTER an agent's extension at Kamailio with the agents' SIPp as its contact (one UDP request)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    local = sock.getsockname()[1]
    msg = (
        f"REGISTER sip:127.0.0.1:{proxy_port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK{uuid.uuid4().hex[:16]}\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:{extension}@127.0.0.1:{proxy_port}>;tag={uuid.uuid4().hex[:8]}\r\n"
        f"To: <sip:{extension}@127.0.0.1:{proxy_port}>\r\n"
        f"Call-ID: {uuid.uuid4().hex}\r\nCSeq: 1 REGISTER\r\n"
        f"Contact: <sip:{extension}@127.0.0.1:{contact_port}>\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n"
    )
    try:
        for _ in range(3):
            sock.sendto(msg.encode(), ("127.0.0.1", proxy_port))
            try:
                reply = sock.recv(4096).decode(errors="replace")
            except TimeoutError:
                continue
            if reply.startswith("SIP/2.0 200"):
                return
            raise SystemExit(f"REGISTER {extension} refused: {reply.splitlines()[0]}")
        raise SystemExit(f"REGISTER {extension}: no answer from Kamailio")
    finally:
        sock.close()


def prepare_agents(n: int) -> Queue:
    queue, _ = Queue.objects.get_or_create(code="scale-bench", defaults={"name": "scale bench"})
    number, _ = Number.objects.get_or_create(number="12345", defaults={"name": "12345热线", "queue": queue})
    Number.objects.filter(pk=number.pk).update(queue=queue, welcome_prompt="welcome.wav", is_active=True)
    for i in range(n):
        agent = Agent.objects.filter(agent_id=f"7{i:03d}").first()
        if agent is None:  # bench fixtures: no sign-in password to hash
            agent = Agent.objects.create(agent_id=f"7{i:03d}", extension=f"7{i:03d}", password="!")
            agent.skills.add(queue)
        agent = Agent.objects.get(pk=agent.pk)
        if agent.state in (
            AgentState.RINGING,
            AgentState.TALKING,
            AgentState.HOLD,
        ):  # an earlier run cut short
            Agent.objects.filter(pk=agent.pk).update(state=AgentState.WRAP_UP, current_call=None)
            agent.state = AgentState.WRAP_UP
        if agent.state == AgentState.WRAP_UP:
            services.agent_event(agent_pk=agent.pk, event=AgentEvent.WRAP_UP_DONE)
        elif agent.state == AgentState.LOGGED_OUT:
            services.agent_event(agent_pk=agent.pk, event=AgentEvent.LOGIN)
        if Agent.objects.get(pk=agent.pk).state == AgentState.NOT_READY:
            services.agent_event(agent_pk=agent.pk, event=AgentEvent.READY)
    # Agents beyond `n` from an earlier, larger run take no calls.
    for agent in Agent.objects.filter(agent_id__startswith="7", state=AgentState.READY).exclude(
        agent_id__in=[f"7{i:03d}" for i in range(n)]
    ):
        services.agent_event(agent_pk=agent.pk, event=AgentEvent.NOT_READY, reason="other")
    return queue


def sipp(args: list[str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["sipp", *args, "-nostdin", "-trace_stat", "-fd", "1", "-trace_err"],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def sipp_counts(work: Path, scenario: str) -> tuple[int, int]:
    """Successful and failed calls from SIPp's statistics file (its last line)."""
    files = sorted(work.glob(f"{Path(scenario).stem}_*_.csv"), key=lambda p: p.stat().st_mtime)
    if not files:
        return (-1, -1)
    rows = list(csv.reader(files[-1].read_text().splitlines(), delimiter=";"))
    head, last = rows[0], rows[-1]
    return int(last[head.index("SuccessfulCall(C)")]), int(last[head.index("FailedCall(C)")])


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of a process by thread name (pjsua2's `media` RTP thread, its conference `clock`, `python`)."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def nodes_by_thread(procs: dict[str, subprocess.Popen[bytes]]) -> dict[str, float]:
    total: dict[str, float] = {}
    for name, proc in procs.items():
        if name.startswith("node"):
            for thread, seconds in thread_cpu(proc.pid).items():
                total[thread] = total.get(thread, 0.0) + seconds
    return total


def peak_overlap(spans: list[tuple[dt.datetime, dt.datetime]]) -> int:
    marks = sorted([(a, 1) for a, _b in spans] + [(b, -1) for _a, b in spans])
    peak = now = 0
    for _t, d in marks:
        now += d
        peak = max(peak, now)
    return peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=110)
    parser.add_argument("--rate", type=float, default=5.0, help="new citizen calls per second")
    parser.add_argument("--hold", type=float, default=45.0, help="seconds a citizen talks after the answer")
    parser.add_argument("--agents", type=int, default=110)
    parser.add_argument("--ring", type=int, default=300, help="ms an agent's phone rings before answering")
    parser.add_argument("--wrap", type=int, default=1, help="after-call work seconds")
    parser.add_argument("--base", type=int, default=40000)
    parser.add_argument(
        "--nodes", type=int, default=2, help="media nodes (each holds 4 legs with the PyPI pjsua2 wheel)"
    )
    parser.add_argument(
        "--split-ioqueue",
        action="store_true",
        help="even-numbered nodes poll RTP on pjmedia's own thread (HOTLINE_MEDIANODE_SHARED_IOQUEUE=0), odd ones "
        "on their main loop; prints each half's CPU per call (same run, same machine state)",
    )
    parser.add_argument("--work", default="/tmp/tel-scale-bench")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the controller, print the top functions"
    )
    args = parser.parse_args()
    if not 1 <= args.nodes <= 70:
        raise SystemExit("--nodes: 1..70 (every port stays within BASE..BASE+999)")
    require_postgresql()
    from hotline.telephony.adapters.pjsua_node import PjsuaNodeEngine
    from hotline.telephony.adapters.pool import NodePool
    from hotline.telephony.controller import CallController
    from hotline.telephony.runtime import Stack, missing_binaries

    absent = missing_binaries() + [b for b in ("sipp",) if shutil.which(b) is None]
    if absent:
        raise SystemExit(f"missing: {', '.join(absent)}")
    call_command("migrate", verbosity=0)
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    settings.VAR_DIR = work / "var"
    prepare_agents(args.agents)
    # The agent-ID announcements ("7001号话务员为您服务") are rendered once per seat and cached, as on a running
    # system; rendering them (espeak-ng, per clip) is not part of the timed calls.
    from hotline.telephony import seat

    for i in range(args.agents):
        seat.announcement(f"7{i:03d}")
    base = args.base
    stack = Stack(
        work_dir=work / "run",
        sip_port=base,
        node_sip_port=base + 10,
        ctl_port=base + 11,
        rtp_port=base + 300,
        nodes=args.nodes,
        rtp_span=8,
        kamailio_shm_mb=256,  # the recipe: 64 MB is not enough under load
        node_env={
            f"node{i}": {"HOTLINE_MEDIANODE_SHARED_IOQUEUE": "0" if i % 2 == 0 else "1"}
            for i in range(1, args.nodes + 1)
            if args.split_ioqueue
        },
    )
    procs: dict[str, subprocess.Popen[bytes]] = {}
    started = timezone.now()
    try:
        stack.start()
        shutil.copy("/usr/share/sip-tester/g711a.pcap", work)
        (work / "agent_uas.xml").write_text(
            (HERE / "sipp" / "agent_uas.xml").read_text().replace("RING_MS", str(args.ring))
        )
        (work / "citizen_load.xml").write_text(
            (HERE / "sipp" / "citizen_load.xml").read_text().replace("TALK_MS", str(int(args.hold * 1000)))
        )
        (work / "callers.csv").write_text(
            "SEQUENTIAL\n" + "".join(f"1390{i:07d};\n" for i in range(args.calls))
        )
        agents_port = base + 5
        procs["sipp agents"] = sipp(
            ["-sf", "agent_uas.xml", "-i", "127.0.0.1", "-p", str(agents_port), "-mi", "127.0.0.1", "-mp",
             str(base + 950), "-rtp_echo"],
            work,
        )  # fmt: skip
        for i in range(args.agents):
            register(base, f"7{i:03d}", agents_port)
        pool = NodePool([PjsuaNodeEngine(name=n, port=stack.node_ctl_port(n)) for n in stack.node_names()])
        ctrl = CallController(pool, registrar=stack.registrar, ring_timeout=20, wrap_up_seconds=args.wrap)
        deadline = time.monotonic() + 60
        while not ctrl.node_ready.is_set():
            if time.monotonic() > deadline:
                raise SystemExit("media nodes not registered")
            ctrl.run_once(0.05)
        time.sleep(3)  # Kamailio's probes see every node
        cpu0 = {name: _cpu_seconds(p.pid) for name, p in stack.procs.items()}
        threads0 = nodes_by_thread(stack.procs)
        pg_pid = backend_pid()
        pg0 = _postgres_cpu([pg_pid])
        self0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.monotonic()
        procs["sipp citizens"] = sipp(
            ["-sf", "citizen_load.xml", "-inf", "callers.csv", "-s", "12345", stack.registrar, "-i", "127.0.0.1",
             "-p", str(base + 3), "-mi", "127.0.0.1", "-mp", str(base + 900), "-r", str(args.rate), "-m",
             str(args.calls), "-l", str(args.calls), "-timeout", str(int(args.calls / args.rate + args.hold + 120))],
            work,
        )  # fmt: skip
        agents_cpu0 = _cpu_seconds(procs["sipp agents"].pid)
        children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        profiler = cProfile.Profile() if args.profile else None
        if profiler is not None:
            profiler.enable()
        while procs["sipp citizens"].poll() is None:
            ctrl.run_once(0.02)
        # SIPp citizens is the only child reaped since `children0` (the nodes and Kamailio still run).
        children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        citizens_cpu = (children1.ru_utime - children0.ru_utime) + (children1.ru_stime - children0.ru_stime)
        if profiler is not None:
            profiler.disable()
        elapsed = time.monotonic() - t0
        end = time.monotonic() + 30
        while time.monotonic() < end and (
            Call.objects.filter(started_at__gte=started).exclude(status="ended").exists()
            or Recording.objects.filter(call__started_at__gte=started, ended_at__isnull=True).exists()
        ):  # every call ended and every recording's file reported by its node
            ctrl.run_once(0.02)
        cpu1 = {name: _cpu_seconds(p.pid) for name, p in stack.procs.items()}
        threads1 = nodes_by_thread(stack.procs)
        pg1 = _postgres_cpu([pg_pid])
        self1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu1["sipp agents"] = _cpu_seconds(procs["sipp agents"].pid)
        cpu0["sipp agents"] = agents_cpu0
        ctrl.close()
        pool.close()
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        stack.stop()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    ok, failed = sipp_counts(work, "citizen_load.xml")
    calls = Call.objects.filter(started_at__gte=started, direction="in")
    answered = calls.filter(disposition="answered")
    recorded = Recording.objects.filter(call__in=answered, ended_at__isnull=False, size_bytes__gt=44).count()
    spans = [(c.answered_at, c.ended_at) for c in answered if c.answered_at and c.ended_at]
    arrivals = sorted(c.started_at for c in calls)
    ttp = [c.time_to_person_ms for c in answered if c.time_to_person_ms is not None]
    by_node = dict(
        CallLeg.objects.filter(call__in=calls, role="citizen").values_list("node").annotate(n=Count("id"))
    )
    achieved = (
        (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]).total_seconds() if len(arrivals) > 1 else 0.0
    )
    load = os.getloadavg()
    print(f"offered {args.calls} calls at {args.rate:g}/s, each held {args.hold:g} s after the answer; {args.agents} "
          f"SIPp agents (ring {args.ring} ms, wrap-up {args.wrap} s); {args.nodes} media nodes, citizen calls per node "
          f"{sorted(by_node.values())}")  # fmt: skip
    print(f"SIPp citizens: successful {ok}, failed {failed}; run {elapsed:.1f} s")
    print(f"platform: calls {calls.count()}, answered {answered.count()}, recorded {recorded}, other outcomes "
          f"{dict(calls.exclude(disposition='answered').values_list('disposition').annotate(n=Count('id')))}")  # fmt: skip
    print(f"peak calls in progress with an agent (CDR): {peak_overlap(spans)}; calls arriving per second achieved: "
          f"{achieved:.1f}")  # fmt: skip
    if ttp:
        print(f"time to reach a person ms: p50 {_pct(ttp, 50):.0f}  p99 {_pct(ttp, 99):.0f}  max {max(ttp)}")
    zero_failed = failed == 0 and answered.count() == args.calls
    print(
        f"targets: ≥ 100 concurrent with 0 failed: {'met' if peak_overlap(spans) >= 100 and zero_failed else 'not met'}"
        f"; ≥ 20 new calls/s: {'met' if achieved >= 20 and zero_failed else 'not met'} (this run's shape decides "
        "which one it measures)"
    )
    cpu = {name: cpu1.get(name, 0.0) - cpu0.get(name, 0.0) for name in cpu0}
    controller_cpu = self1.ru_utime - self0.ru_utime + self1.ru_stime - self0.ru_stime
    nodes_cpu = sum(v for k, v in cpu.items() if k.startswith("node"))
    print("CPU s: " + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items())
          + f", controller (this process) {controller_cpu:.1f}"
          + f", PostgreSQL (the controller's backend) {pg1 - pg0:.1f}, SIPp citizens {citizens_cpu:.1f}"
          + f" (every child from rusage, node start-ups included: {children.ru_utime + children.ru_stime:.1f})")  # fmt: skip
    if args.split_ioqueue:
        for label, parity in (("own media thread (even)", 0), ("shared poll (odd)", 1)):
            names = [k for k in cpu if k.startswith("node") and int(k[4:]) % 2 == parity]
            taken = sum(by_node.get(k, 0) for k in names)
            print(f"nodes with {label}: {len(names)} nodes, {taken} citizen calls, CPU {sum(cpu[k] for k in names):.2f} s"
                  f" = {1000 * sum(cpu[k] for k in names) / max(1, taken):.1f} ms per call they took")  # fmt: skip
    print("media nodes' CPU s by thread: " + ", ".join(
        f"{k} {threads1[k] - threads0.get(k, 0.0):.1f}" for k in sorted(threads1)))  # fmt: skip
    n = max(1, calls.count())
    parts = {
        "media nodes": nodes_cpu,
        "controller": controller_cpu,
        "PostgreSQL": pg1 - pg0,
        "Kamailio": cpu.get("kamailio", 0.0),
        "SIPp agents": cpu.get("sipp agents", 0.0),
        "SIPp citizens": citizens_cpu,
    }
    total = sum(parts.values())
    print("CPU ms per call (window from the first call to every call ended): " + ", ".join(
        f"{k} {v * 1000 / n:.1f}" for k, v in parts.items()) + f"; platform (nodes + controller + PostgreSQL + "
        f"Kamailio) {(nodes_cpu + controller_cpu + pg1 - pg0 + cpu.get('kamailio', 0.0)) * 1000 / n:.1f}, all "
        f"{total * 1000 / n:.1f}; cores busy at {args.rate:g} calls/s: platform "
        f"{(nodes_cpu + controller_cpu + pg1 - pg0 + cpu.get('kamailio', 0.0)) / n * args.rate:.2f}, all "
        f"{total / n * args.rate:.2f} of {os.cpu_count()}")  # fmt: skip
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores); python "
          f"{sys.version.split()[0]}")  # fmt: skip


if __name__ == "__main__":
    main()
