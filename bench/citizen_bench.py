"""Citizen side at scale: screen pop, duplicate check at intake, blacklist import — against PostgreSQL.

    createdb -h 127.0.0.1 -U postgres hotline_citizens_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_citizens_bench
    python -m bench.load_cases 1000000          # 1,000,000 cases (and ~300,000 callers) with COPY
    python -m bench.citizen_bench --fill        # tops citizens up to 1,000,000, then measures
    python -m bench.citizen_bench               # measures again

`--fill` (idempotent) adds, with COPY and set-based SQL: citizens up to 1,000,000 (10 % with an encrypted ID
card), a CitizenPhone row per citizen plus a second number for one in five, 200,000 related contacts, and the
duplicate-screening keys of the cases of the last 120 days (the retention `index_prune` keeps; words are computed
once per distinct request text, as the loader draws texts from a pool). Then VACUUM ANALYZE.

Measured after a warm-up, through the whole Django stack in-process (django.test.Client, DEBUG off), as an
office agent of the demo city:
  (a) screen pop  GET /api/v1/citizens/screen-pop/?number=…  — callers with cases, callers without, unknown
      numbers                                                                  target p99 < 50 ms
  (b) duplicate check at intake  POST /api/v1/cases/duplicates/ with the content, number and name of a new
      request (texts of recent cases, lightly altered)                         target p99 < 100 ms
  (c) importing 10,000 blacklist rows from an xlsx file (validation, upsert, report)   target < 10 s
  (d) blacklist_lookup (the one-query check telephony will call)               no target; printed
Figures are printed next to their targets, never asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import time
from collections.abc import Callable

from django.db import connection
from django.test import Client

from bench import require_postgresql
from hotline.cases import duplicates
from hotline.citizens import importexport
from hotline.citizens.models import BlacklistEntry, Citizen
from hotline.citizens.selectors import blacklist_lookup
from hotline.common import clock, crypto
from hotline.common.runtime import settle_after_startup
from hotline.orgs.models import Role, User

TARGET_CITIZENS = 1_000_000
CONTACTS = 200_000
KEY_DAYS = 120
WARMUP = 30
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰春梅海燕"


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def report(name: str, samples: list[float], target_ms: float | None) -> None:
    p50, p99 = percentile(samples, 0.5), percentile(samples, 0.99)
    verdict = "" if target_ms is None else ("  达标" if p99 < target_ms else "  未达标")
    target = f"目标 p99 < {target_ms:.0f} ms" if target_ms else "无目标"
    print(f"{name:<28} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   {target}{verdict}   (n={len(samples)})")


def log(message: str) -> None:
    print(time.strftime("%H:%M:%S"), message, flush=True)


# --------------------------------------------------------------------------- fill


def fill(rng: random.Random) -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT count(*), coalesce(max(id), 0) FROM citizens_citizen")
        count, max_id = cur.fetchone()
        missing = TARGET_CITIZENS - count
        if missing > 0:
            log(f"COPY {missing:,} 名市民……")
            cur.execute("SELECT phone FROM citizens_citizen")
            taken = {row[0] for row in cur.fetchall()}
            now = clock.now()
            with cur.cursor.copy(
                "COPY citizens_citizen (id, name, gender, phone, email, address, work_unit, post_code,"
                " id_card_encrypted, id_card_hash, level, notes, created_at, updated_at) FROM STDIN"
            ) as copy:
                next_id = max_id
                for i in range(missing):
                    phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
                    while phone in taken:
                        phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
                    taken.add(phone)
                    next_id += 1
                    enc = hashed = ""
                    if i % 10 == 0:
                        number = f"4201{rng.randrange(10, 99)}19{rng.randrange(50, 99)}0101{rng.randrange(100, 999)}"
                        from hotline.common.validators import id_card_check_code

                        number += id_card_check_code(number)
                        enc, hashed = crypto.encrypt(number), crypto.lookup_hash(number)
                    copy.write_row(
                        (next_id, rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2)))),
                         rng.choice(("male", "female")), phone, "", "", "", "", enc, hashed,
                         "vip" if i % 100 == 0 else "normal", "", now, now)
                    )  # fmt: skip
            cur.execute("SELECT setval(pg_get_serial_sequence('citizens_citizen', 'id'), %s)", [next_id])
        log("市民电话（CitizenPhone）……")
        cur.execute(
            "INSERT INTO citizens_citizenphone (citizen_id, number, kind, is_primary)"
            " SELECT c.id, c.phone, 'mobile', true FROM citizens_citizen c WHERE c.phone <> ''"
            " ON CONFLICT DO NOTHING"
        )
        cur.execute(
            "INSERT INTO citizens_citizenphone (citizen_id, number, kind, is_primary)"
            " SELECT c.id, '027-8' || lpad((c.id % 10000000)::text, 7, '0'), 'home', false"
            " FROM citizens_citizen c WHERE c.id % 5 = 0 ON CONFLICT DO NOTHING"
        )
        cur.execute("SELECT count(*) FROM citizens_relatedcontact")
        if cur.fetchone()[0] < CONTACTS:
            log(f"相关联系人 {CONTACTS:,} 条……")
            cur.execute(
                "INSERT INTO citizens_relatedcontact (citizen_id, name, relation, phone, address, notes, created_at)"
                " SELECT id, '联系人' || id, '家属', '139' || lpad((id %% 100000000)::text, 8, '0'), '', '', now()"
                " FROM citizens_citizen WHERE id %% 5 = 1 LIMIT %s",
                [CONTACTS],
            )
        since = clock.now() - dt.timedelta(days=KEY_DAYS)
        # Cases of the window without keys (loaded by COPY, which bypasses the indexing hook).
        cur.execute(
            "SELECT id, title, content, citizen_phone, citizen_name, created_at FROM cases_case c"
            " WHERE created_at >= %s AND NOT EXISTS (SELECT 1 FROM cases_requestkey k WHERE k.case_id = c.id)",
            [since],
        )
        rows = cur.fetchall()
        if rows:
            log(f"近{KEY_DAYS}天工单的查重特征……")
            cache: dict[tuple[str, str], list[tuple[int, float]]] = {}
            with cur.cursor.copy("COPY cases_requestkey (key, weight, case_id, at) FROM STDIN") as copy:
                for case_id, title, content, phone, name, at in rows:
                    words = cache.get((title, content))
                    if words is None:
                        words = [
                            (duplicates.hashed("w", w), v)
                            for w, v in duplicates.terms(duplicates.request_text(title, content)).items()
                        ]
                        cache[(title, content)] = words
                    for key in (duplicates.phone_key(phone), duplicates.name_key(name)):
                        if key is not None:
                            copy.write_row((key, 0.0, case_id, at))
                    for key, weight in words:
                        copy.write_row((key, weight, case_id, at))
            log(f"  {len(rows):,} 件工单，{len(cache):,} 种不同文本")
        log("VACUUM ANALYZE……（生产库由 autovacuum 完成：索引扫描只读索引需要可见性映射）")
        for table in (
            "citizens_citizen",
            "citizens_citizenphone",
            "citizens_relatedcontact",
            "cases_requestkey",
        ):
            cur.execute(f"VACUUM ANALYZE {table}")


# --------------------------------------------------------------------------- measure


def timed(fn: Callable[[], object], n: int) -> list[float]:
    for _ in range(min(WARMUP, n)):
        fn()
    settle_after_startup()  # as config/wsgi.py does in a server process once the app is loaded
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return samples


def alter(text: str, rng: random.Random) -> str:
    """A new caller's wording of a known request: a sentence dropped or a phrase added."""
    parts = [p for p in text.replace("！", "。").split("。") if p]
    if len(parts) > 2 and rng.random() < 0.5:
        parts.pop(rng.randrange(len(parts)))
    if rng.random() < 0.5:
        parts.append(
            rng.choice(["希望尽快处理", "已经反映过好几次了", "麻烦相关部门看一下", "情况一直没有改善"])
        )
    return "。".join(parts) + "。"


def measure(iterations: int, rng: random.Random) -> None:
    agent = User.objects.filter(roles__role=Role.AGENT, is_active=True).order_by("id").first()
    dispatcher = User.objects.filter(roles__role=Role.DISPATCHER, is_active=True).order_by("id").first()
    if agent is None or dispatcher is None:
        raise SystemExit("没有话务员或派单员账号：请先运行 python -m bench.load_cases")
    client = Client(HTTP_HOST="localhost")
    client.force_login(agent)
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM citizens_citizen")
        citizens = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM cases_case")
        cases = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM cases_requestkey")
        keys = cur.fetchone()[0]
        cur.execute(
            "SELECT citizen_phone FROM cases_case TABLESAMPLE SYSTEM (1) WHERE citizen_phone <> '' LIMIT 2000"
        )
        with_cases = [r[0] for r in cur.fetchall()]
        cur.execute(
            "SELECT phone FROM citizens_citizen WHERE id > %s ORDER BY random() LIMIT 1000", [citizens // 2]
        )
        without_cases = [r[0] for r in cur.fetchall()]
        cur.execute(
            "SELECT title, content, citizen_phone, citizen_name FROM cases_case WHERE created_at >= %s"
            " ORDER BY random() LIMIT 1000",
            [clock.now() - dt.timedelta(days=14)],
        )
        recent = cur.fetchall()
    print(f"\n数据量：市民 {citizens:,}，工单 {cases:,}，查重特征 {keys:,} 行\n")

    def pop() -> None:
        kind = rng.random()
        if kind < 0.6:
            number = rng.choice(with_cases)
        elif kind < 0.9:
            number = rng.choice(without_cases)
        else:
            number = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
        r = client.get("/api/v1/citizens/screen-pop/", {"number": number})
        assert r.status_code == 200, r.content

    report("来电弹屏 screen pop", timed(pop, iterations), 50)

    def check() -> None:
        title, content, phone, name = rng.choice(recent)
        r = client.post(
            "/api/v1/cases/duplicates/",
            {"content": alter(content, rng), "title": title, "phone": phone, "name": name},
            content_type="application/json",
        )
        assert r.status_code == 200, r.content

    report("重复检查 duplicate check", timed(check, iterations), 100)

    def service_check() -> None:
        title, content, phone, name = rng.choice(recent)
        duplicates.find_duplicates(
            user=agent, content=alter(content, rng), title=title, phone=phone, name=name
        )

    report("  其中服务层 find_duplicates", timed(service_check, iterations), None)

    numbers = [f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}" for _ in range(20000)]
    report(
        "黑名单查询 blacklist_lookup", timed(lambda: blacklist_lookup(rng.choice(numbers)), iterations), None
    )

    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("黑名单")
    sheet.append(importexport.BLACKLIST_COLUMNS)
    batch = numbers[:10_000]
    for i, number in enumerate(batch):
        sheet.append([number, ("禁止呼入", "双向禁止")[i % 2], "恶意骚扰", "2099-12-31", "转语音留言", ""])
    buffer = io.BytesIO()
    book.save(buffer)
    payload = buffer.getvalue()
    start = time.perf_counter()
    result = importexport.import_blacklist(upload=io.BytesIO(payload), file_name="b.xlsx", actor=dispatcher)
    seconds = time.perf_counter() - start
    verdict = "达标" if seconds < 10 else "未达标"
    print(
        f"{'黑名单导入 10,000 行 (xlsx)':<24} {seconds:7.2f} s   目标 < 10 s   {verdict}"
        f"   (新增 {result.created:,}，更新 {result.updated:,}，拒绝 {result.rejected})"
    )
    BlacklistEntry.objects.filter(number__in=batch).delete()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fill", action="store_true", help="先补足 100 万市民及其电话、联系人和查重特征")
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    name = require_postgresql()
    print(f"数据库 {name}")
    rng = random.Random(args.seed)
    duplicates._segmenter()  # load jieba before timing (once per process, ~1 s)
    if args.fill:
        fill(rng)
    if not Citizen.objects.exists():
        raise SystemExit("数据库为空：先运行 python -m bench.load_cases 1000000，再加 --fill")
    measure(args.iterations, rng)


if __name__ == "__main__":
    main()
