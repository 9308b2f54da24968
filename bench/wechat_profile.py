"""CPU and statements per WeChat message, server side only, measured in one process, with an optional profile.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_bench python -m bench.wechat_profile \
        [--followers 60] [--profile] [--sort tottime]

Builds the bench's dialogue (channel_bench (c): a menu click, a request that makes a case, "我的诉求", "人工客服"
that opens a chat, a chat line) for N followers in safe mode (AES), encrypted and signed beforehand as WeChat's
servers would send them, then POSTs them one after another through Django's request handler (every middleware,
the view, the passive reply encrypted) and prints, per step, the CPU time of this process (`time.process_time`:
CPU used, not wall, so the machine's load does not count), of the PostgreSQL backend serving it (read from
/proc), and the SQL statements. At 50 messages/s the implied share of a core is 50 × CPU-ms / 1000.
`--profile` prints the functions that cost the most (cProfile on a CPU clock).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time
import uuid
from collections.abc import Sequence
from typing import Any

from django.core.management import call_command
from django.db import connection
from django.test import Client

from bench import require_postgresql
from bench.channel_bench import backend_cpu
from hotline.common.runtime import settle_after_startup

STEPS = [
    ("menu click", {"MsgType": "event", "Event": "CLICK", "EventKey": "REQ_COMPLAINT"}),
    ("request (case)", {"MsgType": "text", "Content": "梨园街道幸福社区3栋门口的路灯坏了一个多月，晚上很黑，请尽快维修。"}),
    ("我的诉求", {"MsgType": "text", "Content": "我的诉求"}),
    ("人工客服 (chat)", {"MsgType": "text", "Content": "人工客服"}),
    ("chat line", {"MsgType": "text", "Content": "请问路灯归哪个单位管？"}),
]  # fmt: skip


def build(followers: list[str], start_id: int) -> list[tuple[int, str, bytes]]:
    """(step, url, body) for each follower's dialogue, step by step (all clicks, then all requests, …)."""
    from hotline.intake.wechat.protocol import Account, MessageCrypto, build_xml, parse_xml
    from tests.intake.test_wechat_channel import AES_KEY, APP_ID, TOKEN

    crypto = MessageCrypto(Account(app_id=APP_ID, token=TOKEN, encoding_aes_key=AES_KEY))
    out = []
    msg_id = start_id
    ts, nonce = str(int(time.time())), "1320562132"
    for step, (_, fields) in enumerate(STEPS):
        for open_id in followers:
            msg_id += 1
            inner: dict[str, Any] = {
                "ToUserName": "gh_10f6c3c3ac5a",
                "FromUserName": open_id,
                "CreateTime": int(ts),
            }
            inner.update(fields)
            if fields["MsgType"] != "event":
                inner["MsgId"] = msg_id
            envelope = parse_xml(crypto.encrypt(build_xml(inner), timestamp=ts, nonce=nonce).encode())
            body = build_xml({"ToUserName": "gh_10f6c3c3ac5a", "Encrypt": envelope["Encrypt"]}).encode()
            query = f"timestamp={ts}&nonce={nonce}&encrypt_type=aes&msg_signature={envelope['MsgSignature']}"
            out.append((step, f"/intake/wechat/{APP_ID}/?{query}", body))
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--followers", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10, help="followers whose dialogue runs first, untimed")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--lines", type=int, default=45)
    parser.add_argument("--dump", default="", help="with --profile: write the stats to this file (pstats)")
    args = parser.parse_args(argv)

    name = require_postgresql()
    call_command("migrate", verbosity=0)
    from hotline.common.dictionaries import seed_dictionaries
    from hotline.common.models import DictItem
    from hotline.common.serving import warm_up
    from hotline.intake.defaults import seed_channel_templates
    from hotline.intake.models import WeChatAccount, WeChatFollower
    from hotline.notify.defaults import seed_templates
    from hotline.notify.models import MessageTemplate
    from tests.intake.test_wechat_channel import AES_KEY, APP_ID, TOKEN

    seed_dictionaries(DictItem)
    seed_templates(MessageTemplate)
    seed_channel_templates(MessageTemplate)
    account = WeChatAccount.objects.filter(app_id=APP_ID).first() or WeChatAccount(
        name="bench", app_id=APP_ID, token=TOKEN
    )
    account.set_encoding_aes_key(AES_KEY)
    account.save()
    run = uuid.uuid4().hex[:8]
    open_ids = [f"p{run}{i:019d}" for i in range(args.warmup + args.followers)]
    WeChatFollower.objects.bulk_create(
        [
            WeChatFollower(account=account, open_id=o, phone=f"138{i % 10**8:08d}")
            for i, o in enumerate(open_ids)
        ]
    )
    base = uuid.uuid4().int % 10**12 * 10**6
    warm = build(open_ids[: args.warmup], base)
    timed = build(open_ids[args.warmup :], base + 10**5)
    warm_up()
    settle_after_startup()
    client = Client(HTTP_HOST="127.0.0.1")
    statements = [0]

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements[0] += 1
        return execute(sql, params, many, context)

    def post(url: str, body: bytes) -> None:
        response = client.post(url, body, content_type="text/xml")
        if response.status_code != 200:
            raise SystemExit(f"{response.status_code} {response.content[:300]!r}")

    for _, url, body in warm:
        post(url, body)
    per_step: dict[int, list[float]] = {i: [0.0, 0.0, 0.0, 0.0] for i in range(len(STEPS))}  # n, app, db, sql
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    wall0 = time.perf_counter()
    with connection.execute_wrapper(count):
        for step, url, body in timed:
            statements[0] = 0
            db0, cpu0 = backend_cpu(), time.process_time()
            if profiler:
                profiler.enable()
            post(url, body)
            if profiler:
                profiler.disable()
            cpu1 = time.process_time()
            row = per_step[step]
            row[0] += 1
            row[1] += cpu1 - cpu0
            row[2] += backend_cpu() - db0
            row[3] += statements[0]
    wall = time.perf_counter() - wall0
    load = os.getloadavg()
    n = sum(r[0] for r in per_step.values())
    app = sum(r[1] for r in per_step.values())
    db = sum(r[2] for r in per_step.values())
    sql = sum(r[3] for r in per_step.values())
    print(
        f"database {name}; {os.cpu_count()} cores, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"
    )
    print(
        f"{n} messages one after another in one process, {wall:.1f} s wall"
        + (" (profiled)" if profiler else "")
    )
    print(f"{'step':<18}{'app CPU-ms':>11}{'PG CPU-ms':>11}{'statements':>12}")
    for i, (label, _) in enumerate(STEPS):
        k, a, d, s = per_step[i]
        print(f"{label:<18}{1000 * a / k:>11.1f}{1000 * d / k:>11.1f}{s / k:>12.1f}")
    print(f"{'mean':<18}{1000 * app / n:>11.1f}{1000 * db / n:>11.1f}{sql / n:>12.1f}")
    print(
        f"at 50 messages/s: {50 * app / n:.2f} core of Python + {50 * db / n:.2f} core of PostgreSQL "
        f"(2 cores on this machine)  target: 50/s sustained, every passive reply < 1 s"
    )
    if profiler:
        stats = pstats.Stats(profiler)
        if args.dump:
            stats.dump_stats(args.dump)
        stats.sort_stats(args.sort).print_stats(args.lines)


if __name__ == "__main__":
    main()
