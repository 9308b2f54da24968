"""Citizen channels against PostgreSQL: portal submission server time and e-mail ingestion.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/channels_db python -m bench.channel_bench [--submissions 200]
        [--emails 1000]

  (a) POST /portal/submit/ through the whole Django stack in-process (django.test.Client): SMS code check, the
      delivery row, the draft with its reply clock, one photo, the receipt in the outbox    target p99 < 200 ms
  (b) N e-mails put into a private Dovecot (needs dovecot-imapd), then one poll: IMAP fetch, a request each,
      moved to Processed                                                                      target 1,000 < 60 s
  (c) WeChat, safe mode (AES), open loop: --wechat-rate messages a second for --wechat-seconds, from --threads
      threads (each message at its scheduled moment; a late one counts its wait): per follower a menu click,
      a request (a case), "我的诉求", "人工客服" (a chat) and a chat line. Latency = scheduled moment → passive
      reply                                      target 50/s sustained, every passive reply < 1 s
  (d) SMS: Kannel MO requests (GET get-url) at --sms-rate a second for --sms-seconds, each a new request whose
      acknowledgement goes through the outbox to a loopback stand-in of Kannel's sendsms, delivered as the
      embedded worker does: its listener sends each row handed over after commit through the push broker
      (HOTLINE_PUSH_REDIS if set), its job every 5 s (deliver_due) what the listener missed (`--sms-poll-only`:
      the job alone, as before); latency = MO received → acknowledgement sent             target p99 < 10 s
Each run adds its requests to the database. Figures are printed, never asserted; CPU of this process and of the
PostgreSQL backends serving it (read from /proc) beside wall times.
"""

from __future__ import annotations

import argparse
import os
import re
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.test import Client

from bench import require_postgresql
from hotline.common.runtime import settle_after_startup


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def backend_cpu() -> float:
    """CPU seconds of this thread's PostgreSQL backend so far (same machine: /proc)."""
    from django.db import connection

    connection.ensure_connection()
    pid = connection.connection.info.backend_pid  # psycopg 3: known without a query
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def portal(submissions: int, profile: bool = False) -> None:
    import cProfile
    import pstats

    from django.core.files.uploadedfile import SimpleUploadedFile

    from hotline.intake import services
    from hotline.notify.models import Outbox
    from hotline.notify.services import delivery_text
    from tests.intake.test_mail_imap import PNG as FULL_PNG

    samples: list[float] = []
    cpu: list[float] = []
    db: list[float] = []
    profiler = cProfile.Profile(time.process_time) if profile else None  # CPU, not wall
    run = uuid.uuid4().int % 10**6
    for i in range(submissions + 20):
        phone = f"135{(run * 1000 + i) % 10**8:08d}"
        services.phone_code_send(phone=phone)
        body = delivery_text(Outbox.objects.filter(template="channel_login_code", address=phone).latest("id"))
        code = re.search(r"验证码(\d{6})", body).group(1)  # type: ignore[union-attr]
        client = Client(
            HTTP_HOST="127.0.0.1", REMOTE_ADDR=f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"
        )
        values = {
            "submission_id": str(uuid.uuid4()),
            "case_type": "complaint",
            "title": "路灯坏了",
            "content": f"梨园街道幸福社区{i % 90}栋门口的路灯坏了一个多月，晚上很黑，老人出行不便，请尽快维修。",
            "location": "幸福社区",
            "phone": phone,
            "code": code,
            "photos": [SimpleUploadedFile("路灯.png", FULL_PNG, content_type="image/png")],
        }
        started, started_cpu, started_db = time.perf_counter(), time.process_time(), backend_cpu()
        if profiler is not None and i >= 20:
            profiler.enable()
        response = client.post("/portal/submit/", values)
        if profiler is not None:
            profiler.disable()
        elapsed = (time.perf_counter() - started) * 1000
        used = (time.process_time() - started_cpu) * 1000
        used_db = (backend_cpu() - started_db) * 1000
        assert response.status_code == 302, response.content[:500]
        if i >= 20:
            samples.append(elapsed)
            cpu.append(used)
            db.append(used_db)
    print(
        f"(a) portal submission (n={len(samples)})  p50 {percentile(samples, 50):.1f} ms  "
        f"p99 {percentile(samples, 99):.1f} ms  target p99 < 200 ms  (CPU of this process: p50 "
        f"{percentile(cpu, 50):.1f} ms, p99 {percentile(cpu, 99):.1f} ms; PostgreSQL backend: p50 "
        f"{percentile(db, 50):.1f} ms, p99 {percentile(db, 99):.1f} ms)"
    )
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(45)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(400)


def email(count: int) -> None:
    from imap_tools import MailBoxUnencrypted

    from hotline.intake import mail as mail_intake
    from hotline.intake.mail import mail_workers, poll_mailbox
    from tests.intake.test_mail_imap import mail, private_dovecot

    # The workers' PostgreSQL backends: each thread's backend CPU read around every message it ingests.
    real_ingest, lock, backends = mail_intake.ingest, threading.Lock(), [0.0]

    def ingest(**kwargs: Any) -> Any:
        before = backend_cpu()
        try:
            return real_ingest(**kwargs)
        finally:
            with lock:
                backends[0] += backend_cpu() - before

    mail_intake.ingest = ingest  # type: ignore[assignment]

    with private_dovecot() as config:
        started = time.perf_counter()
        with MailBoxUnencrypted(config.host, config.port).login(config.user, config.password) as box:
            for i in range(count):
                box.append(
                    mail(
                        f"投诉：幸福社区{i}栋路灯坏了", f"第{i}封：路灯坏了一个月，晚上很黑，请尽快维修。"
                    ).as_bytes()
                )
        put = time.perf_counter() - started
        started, started_cpu, started_db = time.perf_counter(), time.process_time(), backend_cpu()
        made = 0
        while True:
            batch = poll_mailbox(config, limit=200)
            made += batch
            if batch == 0:
                break
        took, took_cpu = time.perf_counter() - started, time.process_time() - started_cpu
        took_db = backend_cpu() - started_db + backends[0]
    mail_intake.ingest = real_ingest  # type: ignore[assignment]
    print(
        f"(b) {made:,} e-mails ingested in {took:.1f} s  target 1,000 < 60 s  ({took_cpu:.1f} s CPU of this "
        f"process, {took_db:.1f} s of its PostgreSQL backends; {mail_workers()} workers; putting them in: "
        f"{put:.1f} s)"
    )


def _threads_run(
    work: list[tuple[float, Any]], threads: int, do: Any
) -> tuple[list[float], list[float], float, float, float]:
    """Run `do(item)` for each (offset, item) at its scheduled moment from `threads` threads; returns latencies
    (scheduled → done, ms), service times (ms), wall seconds, process CPU seconds, backends' CPU seconds."""
    from django.db import connection

    lock = threading.Lock()
    cursor = iter(work)
    latencies: list[float] = []
    services: list[float] = []
    db_cpu: list[float] = []
    t0 = time.perf_counter() + 0.5

    def worker() -> None:
        start_db = backend_cpu()
        while True:
            with lock:
                item = next(cursor, None)
            if item is None:
                break
            offset, payload = item
            delay = t0 + offset - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            began = time.perf_counter()
            do(payload)
            done = time.perf_counter()
            with lock:
                latencies.append((done - (t0 + offset)) * 1000)
                services.append((done - began) * 1000)
        with lock:
            db_cpu.append(backend_cpu() - start_db)
        connection.close()

    cpu0 = time.process_time()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return latencies, services, time.perf_counter() - t0, time.process_time() - cpu0, sum(db_cpu)


def wechat(rate: float, seconds: float, threads: int) -> None:
    from hotline.intake.models import WeChatAccount, WeChatFollower
    from tests.intake.test_wechat_channel import AES_KEY, APP_ID, TOKEN, Follower

    account = WeChatAccount.objects.filter(app_id=APP_ID).first() or WeChatAccount(
        name="bench", app_id=APP_ID, token=TOKEN
    )
    account.set_encoding_aes_key(AES_KEY)
    account.save()
    total = int(rate * seconds)
    steps = [
        {"MsgType": "event", "Event": "CLICK", "EventKey": "REQ_COMPLAINT"},
        {"MsgType": "text", "Content": "梨园街道幸福社区3栋门口的路灯坏了一个多月，晚上很黑，请尽快维修。"},
        {"MsgType": "text", "Content": "我的诉求"},
        {"MsgType": "text", "Content": "人工客服"},
        {"MsgType": "text", "Content": "请问路灯归哪个单位管？"},
    ]
    followers = max(1, total // len(steps))
    run = uuid.uuid4().hex[:8]
    open_ids = [f"o{run}{i:019d}" for i in range(followers)]
    WeChatFollower.objects.bulk_create(
        [
            WeChatFollower(account=account, open_id=o, phone=f"139{i % 10**8:08d}")
            for i, o in enumerate(open_ids)
        ]
    )
    base = uuid.uuid4().int % 10**12 * 10**6
    work = [
        (j / rate, (open_ids[j % followers], steps[min(j // followers, len(steps) - 1)], base + j))
        for j in range(total)
    ]
    local = threading.local()
    bad: list[int] = []

    def do(payload: tuple[str, dict[str, str], int]) -> None:
        if not hasattr(local, "follower"):
            local.follower = Follower(safe=True)
            local.follower.client = Client(HTTP_HOST="127.0.0.1")
        open_id, fields, msg_id = payload
        local.follower.open_id = open_id
        response = local.follower.post(dict(fields), msg_id=msg_id)
        if response.status_code != 200:
            bad.append(response.status_code)

    latencies, services, wall, cpu, db = _threads_run(work, threads, do)
    over = sum(1 for v in latencies if v >= 1000)
    print(
        f"(c) WeChat safe mode: {len(latencies):,} messages scheduled at {rate:.0f}/s over {seconds:.0f} s, done "
        f"in {wall:.1f} s ({len(latencies) / wall:.1f}/s); passive reply p50 {percentile(latencies, 50):.0f} ms "
        f"p99 {percentile(latencies, 99):.0f} ms max {max(latencies):.0f} ms, {over} over 1 s, {len(bad)} non-200  "
        f"target 50/s with every reply < 1 s  (service p50 {percentile(services, 50):.0f} ms p99 "
        f"{percentile(services, 99):.0f} ms; CPU: this process {cpu:.1f} s, PostgreSQL backends {db:.1f} s, "
        f"{threads} threads)"
    )


class _KannelSendsms(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        body = b"0: Accepted for delivery"
        self.send_response(202)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def sms(rate: float, seconds: float, threads: int, poll_only: bool = False) -> None:
    from hotline.common.validators import normalize_phone
    from hotline.intake.models import ChannelMessage
    from hotline.intake.sms.mo import mo_secret
    from hotline.notify.models import Outbox
    from hotline.notify.services import deliver_due, listen_for_delivery
    from tests.intake.wechat_standin import free_port

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _KannelSendsms)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ["HOTLINE_SMS_GATEWAY"] = "kannel"
    os.environ["HOTLINE_KANNEL_URL"] = f"http://127.0.0.1:{server.server_address[1]}/cgi-bin/sendsms"
    total = int(rate * seconds)
    run = uuid.uuid4().int % 10**4
    phones = [f"+86137{run:04d}{i:04d}" for i in range(total)]
    key = mo_secret()
    stop = threading.Event()

    def deliverer() -> None:  # the embedded worker's notify-deliver job: every 5 s
        while not stop.is_set():
            while deliver_due(limit=500):
                pass
            stop.wait(5.0)
        from django.db import connection

        connection.close()

    def listener() -> None:  # the embedded worker's listener (hotline.notify.apps: notify-deliver-now)
        while not stop.is_set():
            listen_for_delivery(stop)
        from django.db import connection

        connection.close()

    job = threading.Thread(target=deliverer)
    job.start()
    helpers = [job] if poll_only else [job, threading.Thread(target=listener)]
    for helper in helpers[1:]:
        helper.start()
    time.sleep(0.5)  # subscribed before the first MO
    local = threading.local()

    def do(i: int) -> None:
        if not hasattr(local, "client"):
            local.client = Client(HTTP_HOST="127.0.0.1")
        query = urllib.parse.urlencode(
            {"key": key, "id": f"bench-{run}-{i}", "from": phones[i], "to": "12345",
             "text": f"投诉：幸福社区{i % 90}栋门口的路灯坏了一个多月，晚上很黑，请尽快维修。", "charset": "UTF-8"}
        )  # fmt: skip
        response = local.client.get(f"/intake/sms/kannel/?{query}")
        assert response.status_code == 200, response.content[:300]

    latencies, services, wall, cpu, db = _threads_run([(i / rate, i) for i in range(total)], threads, do)
    deadline = time.monotonic() + 60
    numbers = [normalize_phone(p) for p in phones]
    while time.monotonic() < deadline:
        pending = Outbox.objects.filter(address__in=numbers, sent_at__isnull=True).count()
        if not pending:
            break
        time.sleep(1)
    stop.set()
    for helper in helpers:
        helper.join()
    server.shutdown()
    received = dict(
        ChannelMessage.objects.filter(channel="sms", external_id__startswith=f"bench-{run}-").values_list(
            "sender", "received_at"
        )
    )
    waits = [
        (sent - received[address]).total_seconds()
        for address, sent in Outbox.objects.filter(
            address__in=numbers, template__startswith="channel_received", sent_at__isnull=False
        ).values_list("address", "sent_at")
        if address in received
    ]
    print(
        f"(d) SMS MO → acknowledgement sent: {len(waits):,}/{total:,} acknowledged (MO at {rate:.0f}/s, service "
        f"p50 {percentile(services, 50):.0f} ms p99 {percentile(services, 99):.0f} ms); MO → sent p50 "
        f"{percentile(waits, 50):.1f} s p99 {percentile(waits, 99):.1f} s max {max(waits):.1f} s  target p99 < 10 s  "
        f"({'the 5 s delivery job alone' if poll_only else 'handed over after commit, the 5 s job behind'}; CPU of "
        f"the MO requests: this process {cpu:.1f} s, PostgreSQL backends {db:.1f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--emails", type=int, default=1000)
    parser.add_argument("--wechat-rate", type=float, default=50)
    parser.add_argument("--wechat-seconds", type=float, default=30)
    parser.add_argument("--sms-rate", type=float, default=10)
    parser.add_argument("--sms-seconds", type=float, default=30)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--sms-poll-only", action="store_true", help="(d): the 5 s delivery job alone, as before"
    )
    parser.add_argument("--profile", action="store_true", help="(a): cProfile of the timed submissions")
    args = parser.parse_args()
    name = require_postgresql()
    call_command("migrate", verbosity=0)
    from hotline.common.dictionaries import seed_dictionaries
    from hotline.common.models import DictItem
    from hotline.intake.defaults import seed_channel_templates
    from hotline.notify.defaults import seed_templates
    from hotline.notify.models import MessageTemplate

    seed_dictionaries(DictItem)
    seed_templates(MessageTemplate)
    seed_channel_templates(MessageTemplate)
    os.environ["HOTLINE_SMS_QUIET_HOURS"] = ""
    from hotline.common.serving import warm_up

    warm_up()  # as a production worker starts (jieba, reference caches, templates)
    settle_after_startup()
    print(
        f"database {name}; load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}"
    )
    if args.submissions:
        portal(args.submissions, args.profile)
    if args.emails:
        email(args.emails)
    if args.wechat_rate and args.wechat_seconds:
        wechat(args.wechat_rate, args.wechat_seconds, args.threads)
    if args.sms_rate and args.sms_seconds:
        sms(args.sms_rate, args.sms_seconds, args.threads, args.sms_poll_only)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
