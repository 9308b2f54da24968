"""Knowledge-base search benchmark (issue 6). Prints each figure beside its target; asserts nothing.

    python bench/kb_bench.py [N] [--queries 1000] [--truth 200] [--no-http] [--keep DIR]

Builds N (default 100,000) Chinese documents of 300–800 characters — the real questions and official replies
of ../shared/data/teddy2020_c/messages_with_replies.csv (skipped cleanly if absent) mixed with text generated
from their sentences — into the configured engine, then runs queries in the spec's syntax (1–3 keywords,
AND, every OR spelling, half of them with a subtree filter, top 20 with highlighting):

- engine call p50/p99 (target p99 < 5 ms), through the HTTP API with Django's test client (target < 30 ms)
- recall and precision against exact substring matching on a sample of the queries (target 1.000)
- index size and build time; single-item reindex-to-visible latency (target < 1 s)
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "teddy2020_c" / "messages_with_replies.csv"
if not DATA.exists():
    DATA = Path("/work/shared/data/teddy2020_c/messages_with_replies.csv")

TOP_DIRS = 20
SUB_DIRS = 10
EXPIRED_SHARE = 0.03

GENERATED_TOPICS = [
    "社保卡",
    "医保报销",
    "公积金提取",
    "养老保险",
    "户口迁移",
    "居住证办理",
    "不动产登记",
    "新生儿落户",
    "失业金申领",
    "电动车上牌",
    "燃气报修",
    "物业纠纷",
    "噪音扰民",
    "违章停车",
    "学位申请",
    "人才补贴",
    "营业执照",
    "个税汇算",
    "ETC办理",
    "12345热线",
]
GENERATED_SENTENCES = [
    "办理{t}需要携带本人有效身份证件原件及复印件，到就近的政务服务中心窗口申请。",
    "市民可通过“{t}”专区在线提交材料，审核通过后{n}个工作日内办结。",
    "关于{t}的政策依据为《江城市{t}管理办法》第{n}条，具体以最新文件为准。",
    "如对{t}结果有异议，可在收到通知之日起{n}日内向原受理单位申请复核。",
    "{t}业务咨询电话为0731-{n}{n}{n}{n}，工作时间为周一至周五上午九点至下午五点。",
    "根据规定，符合条件的申请人可以委托他人代为办理{t}，须提供委托书。",
    "{t}不收取任何费用，请市民谨防诈骗，不要向陌生人转账。",
]


@dataclass
class Doc:
    id: int
    title: str
    body: str
    dir_id: int
    top_id: int
    valid_to: dt.datetime | None
    views: int


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[。！？；])", text) if len(s) >= 8]


def build_corpus(n: int, rng: random.Random) -> tuple[list[Doc], int]:
    real: list[tuple[str, str]] = []
    if DATA.exists():
        with DATA.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                body = ((row.get("留言详情_clean") or "") + "\n" + (row.get("答复意见_clean") or "")).strip()
                if len(body) >= 300:
                    real.append((row.get("留言主题") or body[:20], body[:800]))
    else:
        print(f"(real corpus not found at {DATA}: generated text only)")
    pool = [s for _, body in real for s in _sentences(body)]
    now = dt.datetime.now(dt.UTC)
    docs: list[Doc] = []
    for i in range(n):
        top = i % TOP_DIRS
        dir_id = 1000 + top * SUB_DIRS + rng.randrange(SUB_DIRS)
        if i < len(real):
            title, body = real[i]
        else:
            topic = rng.choice(GENERATED_TOPICS)
            target = rng.randint(300, 800)
            parts: list[str] = []
            length = 0
            while length < target:
                if pool and rng.random() < 0.7:
                    s = rng.choice(pool)
                else:
                    s = rng.choice(GENERATED_SENTENCES).format(t=topic, n=rng.randint(1, 30))
                parts.append(s)
                length += len(s)
            body = "".join(parts)[:target]
            title = f"{topic}{rng.choice(['办理指南', '常见问题', '政策解读', '咨询答复'])}（{i}）"
        expired = rng.random() < EXPIRED_SHARE
        docs.append(
            Doc(
                id=i + 1,
                title=title,
                body=body,
                dir_id=dir_id,
                top_id=top + 1,
                valid_to=now - dt.timedelta(days=1) if expired else None,
                views=int(rng.paretovariate(1.2)),
            )
        )
    return docs, len(real)


def make_queries(docs: list[Doc], count: int, rng: random.Random) -> list[tuple[str, int | None]]:
    from hotline.knowledge.text import SEPARATORS, normalize

    def keyword() -> str:
        while True:
            doc = rng.choice(docs)
            text = normalize(doc.title + doc.body)
            words = [w for w in SEPARATORS.split(text) if len(w) >= 2]
            if not words:
                continue
            word = rng.choice(words)
            size = rng.choice([2, 2, 2, 3, 3, 4])
            if len(word) < size:
                continue
            start = rng.randrange(len(word) - size + 1)
            return word[start : start + size]

    shapes = [
        "{a}",
        "{a} {b}",
        "{a} {b} {c}",
        "{a} OR {b}",
        "{a}-{b}",
        "{a}——{b}",
        "{a} 或 {b}",
        "{a} {b} OR {c}",
    ]
    queries: list[tuple[str, int | None]] = []
    for _ in range(count):
        shape = rng.choice(shapes)
        text = shape.format(a=keyword(), b=keyword(), c=keyword())
        subtree = rng.randint(1, TOP_DIRS) if rng.random() < 0.5 else None
        queries.append((text, subtree))
    return queries


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def line(name: str, value: str, target: str = "") -> None:
    print(f"  {name:<48} {value:>12}   {('target ' + target) if target else ''}")


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def setup_database(docs: list[Doc]) -> dict[str, Any]:
    """A throw-away test database with the directory tree, an agent who may read 3/4 of it, and the items."""
    from django.db import connection
    from django.test.utils import setup_test_environment

    from hotline.knowledge import services
    from hotline.knowledge.models import Directory, Item, ItemState, ItemVersion, VersionStatus
    from hotline.orgs.models import Role, UnitKind
    from hotline.orgs.services import unit_create, user_create

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    office = unit_create(name="热线办", code="OFFICE", kind=UnitKind.OFFICE)
    bureau = unit_create(name="市税务局", code="TAX", kind=UnitKind.BUREAU)
    admin = user_create(username="admin", password="x", full_name="管理员", unit=office, roles=[Role.ADMIN])
    agent = user_create(username="agent", password="x", full_name="话务员", unit=office, roles=[Role.AGENT])
    space = services.space_create(actor=admin, name="知识库", code="KB")
    dir_map: dict[int, int] = {}  # bench directory id -> database id
    for top in range(TOP_DIRS):
        restricted = top >= TOP_DIRS * 3 // 4
        grants = [services.GrantInput(unit=bureau, can_edit=True)] if restricted else None
        root = services.directory_create(actor=admin, space=space, name=f"一级目录{top + 1}", grants=grants)
        dir_map[top + 1] = root.pk
        for sub in range(SUB_DIRS):
            child = services.directory_create(
                actor=admin, space=space, parent=root, name=f"二级目录{sub + 1}"
            )
            dir_map[1000 + top * SUB_DIRS + sub] = child.pk
    first = Item.objects.create(
        id=len(docs) + 1,
        space=space,
        directory_id=dir_map[1000],
        state=ItemState.DELETED,
        title="占位",
        content="<p>占位</p>",
        created_by=admin,
    )
    version = ItemVersion.objects.create(
        item=first,
        number=1,
        title="占位",
        content="<p>占位</p>",
        status=VersionStatus.APPROVED,
        submitted_by=admin,
        submitted_at=dt.datetime.now(dt.UTC),
    )
    published = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    batch: list[Item] = []
    for d in docs:
        batch.append(
            Item(
                id=d.id,
                space=space,
                directory_id=dir_map[d.dir_id],
                title=d.title[:200],
                content=d.body,
                content_text=d.body,
                valid_to=d.valid_to,
                published_version=version,
                published_at=published + dt.timedelta(seconds=d.id),
                view_count=d.views,
                created_by=admin,
            )
        )
        if len(batch) == 5000:
            Item.objects.bulk_create(batch)
            batch = []
    Item.objects.bulk_create(batch)
    directories = {pk: Directory.objects.get(pk=pk) for pk in dir_map.values()}
    return {"dir_map": dir_map, "directories": directories, "admin": admin, "agent": agent, "space": space}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("n", nargs="?", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--truth", type=int, default=200, help="queries checked against substring matching")
    parser.add_argument("--http", type=int, default=1000, help="queries timed through the HTTP API (0: skip)")
    parser.add_argument("--keep", help="index directory to keep (default: a temporary one)")
    parser.add_argument("--seed", type=int, default=12345)
    args = parser.parse_args()

    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="kb-bench-"))
    index_path = workdir / "index"
    if index_path.exists():
        shutil.rmtree(index_path)
    os.environ["HOTLINE_KB_INDEX_DIR"] = str(index_path)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("HOTLINE_TEST_MEDIA_ROOT", str(workdir / "media"))
    import django

    django.setup()
    from hotline.knowledge.engine import IndexDoc, SearchFilters, get_engine
    from hotline.knowledge.query import parse_query
    from hotline.knowledge.text import normalize

    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    docs, real_count = build_corpus(args.n, rng)
    lengths = [len(d.body) for d in docs]
    print(
        f"corpus: {len(docs):,} documents ({min(real_count, len(docs)):,} from the real replies file), body "
        f"{min(lengths)}–{max(lengths)} characters (median {statistics.median(lengths):.0f}), "
        f"{sum(d.valid_to is not None for d in docs):,} expired; made in {time.perf_counter() - t0:.1f} s"
    )
    t0 = time.perf_counter()
    db = setup_database(docs)
    dir_map: dict[int, int] = db["dir_map"]
    print(
        f"database: {len(dir_map)} directories, {len(docs):,} items, made in {time.perf_counter() - t0:.1f} s"
    )

    engine: Any = get_engine()
    published = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def index_doc(d: Doc) -> IndexDoc:
        return IndexDoc(
            item_id=d.id,
            space_id=db["space"].pk,
            directory_id=dir_map[d.dir_id],
            ancestor_ids=(dir_map[d.top_id], dir_map[d.dir_id]),
            title=d.title,
            keywords="",
            body=d.body,
            valid_to=d.valid_to,
            views=d.views,
            published_at=published + dt.timedelta(seconds=d.id),
        )

    t0 = time.perf_counter()
    engine.index_many((index_doc(d) for d in docs), bulk=True)
    build = time.perf_counter() - t0
    print("\nindex build")
    line("documents indexed", f"{engine.count():,}")
    line("build time", f"{build:.1f} s")
    line("index size", f"{dir_size(index_path) / 1e6:.0f} MB")

    queries = make_queries(docs, args.queries, rng)
    now = dt.datetime.now(dt.UTC)

    def timed(
        sort: str = "relevance", permission: dict[str, Any] | None = None
    ) -> tuple[list[float], list[int]]:
        times: list[float] = []
        totals: list[int] = []
        for text, subtree in queries:
            t = time.perf_counter()
            filters = SearchFilters(
                now=now,
                subtree_id=dir_map[subtree] if subtree else None,
                limit=20,
                sort=sort,
                **(permission or {}),
            )
            result = engine.search(parse_query(text), filters)
            times.append((time.perf_counter() - t) * 1000)
            totals.append(result.total)
        return times, totals

    times, totals = timed()
    print(
        f"\nengine call ({len(queries)} queries, 1–3 keywords, top 20, highlighting, half with a subtree filter)"
    )
    line("p50", f"{pct(times, 50):.2f} ms")
    line("p99", f"{pct(times, 99):.2f} ms", "< 5 ms")
    line("max", f"{max(times):.2f} ms")
    line("median / max hits per query", f"{statistics.median(totals):,.0f} / {max(totals):,}")
    from hotline.knowledge.permissions import user_access

    access = user_access(db["agent"])
    tops, rest = access.covering(access.unreadable)
    times, _ = timed(permission={"denied_subtree_ids": sorted(tops), "denied_dir_ids": sorted(rest)})
    line(
        f"p99, permission filter ({len(access.unreadable)}/{len(dir_map)} dirs denied)",
        f"{pct(times, 99):.2f} ms",
        "< 5 ms",
    )
    times, _ = timed(sort="views")
    line("p99 sorted by views", f"{pct(times, 99):.2f} ms", "< 5 ms")

    # Related results (issue 11): the caller's own words, cut by jieba and widened by the synonym table, as
    # one OR query of up to 30 words; run when the exact search finds fewer than 3 items.
    from hotline.knowledge.related import related_query, seed_synonyms

    seed_synonyms()
    phrasings = ["社保卡掉了", "工资拖欠", "物业不管", "小区噪音太吵", "公积金怎么取", "孩子上学的学位"]
    for _ in range(max(0, min(len(queries), 300) - len(phrasings))):
        title = rng.choice(docs).title
        start = rng.randrange(max(1, len(title) - 4))
        phrasings.append(title[start : start + rng.randint(4, 10)])
    times, totals = [], []
    related_terms = []
    for text in phrasings:
        t = time.perf_counter()
        parsed = related_query(text)
        if parsed is not None:
            result = engine.search(parsed, SearchFilters(now=now, limit=13))
            totals.append(result.total)
            related_terms.append(len(parsed.keywords))
        times.append((time.perf_counter() - t) * 1000)
    print(
        f"\nrelated results ({len(phrasings)} phrasings; jieba + synonyms; median {statistics.median(related_terms or [0]):.0f} words OR-ed)"
    )
    line("p50", f"{pct(times, 50):.2f} ms")
    line("p99", f"{pct(times, 99):.2f} ms", "< 30 ms")

    # ---------------------------------------------------------------- correctness
    sample = queries[: args.truth]
    if sample:
        norm_all = [normalize(f"{d.title}\n{d.body}") for d in docs]
        cache: dict[str, set[int]] = {}

        def containing(word: str) -> set[int]:
            if word not in cache:
                cache[word] = {i for i, text in enumerate(norm_all) if word in text}
            return cache[word]

        t0 = time.perf_counter()
        tp = fp = fn = 0
        bad = checked = 0
        for text, subtree in sample:
            parsed = parse_query(text)
            expected: set[int] = set()
            for group in parsed.groups:
                expected |= set.intersection(*(containing(w) for w in group))
            expected = {
                docs[i].id
                for i in expected
                if docs[i].valid_to is None and (subtree is None or docs[i].top_id == subtree)
            }
            filters = SearchFilters(
                now=now, subtree_id=dir_map[subtree] if subtree else None, limit=len(docs)
            )
            result = engine.search(parsed, filters)
            got = {h.item_id for h in result.hits}
            tp += len(got & expected)
            fp += len(got - expected)
            fn += len(expected - got)
            if parsed.has_or:
                # A matched alternative counts its keywords (`A B OR C`: all → 3, A and B → 2, C → 1).
                counts = [
                    sum(len(g) for g in parsed.groups if all(w in norm_all[h.item_id - 1] for w in g))
                    for h in result.hits
                ]
                checked += 1
                bad += any(a < b for a, b in zip(counts, counts[1:], strict=False))
        recall = tp / (tp + fn) if tp + fn else 1.0
        precision = tp / (tp + fp) if tp + fp else 1.0
        print(
            f"\ncorrectness ({len(sample)} queries, every hit, vs exact substring matching on normalised text, "
            f"{tp:,} true hits; {time.perf_counter() - t0:.0f} s)"
        )
        line("recall", f"{recall:.4f}", "1.000")
        line("precision", f"{precision:.4f}", "1.000")
        line("OR queries ranked by matched keywords", f"{checked - bad}/{checked}", f"{checked}/{checked}")

    # ---------------------------------------------------------------- reindex latency (database → index → search)
    from hotline.knowledge.indexing import sync_items
    from hotline.knowledge.models import Item

    latencies = []
    for k in range(20):
        d = docs[rng.randrange(len(docs))]
        marker = f"基准标记词{k}号"
        t = time.perf_counter()
        Item.objects.filter(pk=d.id).update(content_text=d.body + marker, valid_to=None)
        sync_items([d.id])
        result = engine.search(parse_query(marker), SearchFilters(now=now))
        latencies.append((time.perf_counter() - t) * 1000)
        if not any(h.item_id == d.id for h in result.hits):
            print("  !! changed item not found after reindex")
    print("\nsingle item: database update, re-index, commit, visible to search (20 items)")
    line("p50", f"{pct(latencies, 50):.0f} ms")
    line("max", f"{max(latencies):.0f} ms (item {latencies.index(max(latencies)) + 1} of 20)", "< 1000 ms")

    if args.http:
        http_bench(queries[: args.http], db)
    print(f"\nmachine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the end")

    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)


def http_bench(queries: list[tuple[str, int | None]], db: dict[str, Any]) -> None:
    """GET /api/v1/kb/search/ with Django's test client as an agent who may read 3/4 of the tree."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(db["agent"])
    times: list[float] = []
    errors = 0
    for text, subtree in queries:
        params = {"q": text}
        if subtree and db["dir_map"][subtree] in _readable(db):
            params["directory"] = str(db["dir_map"][subtree])
        t = time.perf_counter()
        response = client.get("/api/v1/kb/search/", params)
        times.append((time.perf_counter() - t) * 1000)
        errors += response.status_code != 200
    print(
        f"\nthrough the HTTP API (Django test client, {len(times)} queries, agent who may read 3/4 of the tree)"
    )
    line("p50", f"{pct(times, 50):.2f} ms")
    line("p99", f"{pct(times, 99):.2f} ms", "< 30 ms")
    line("non-200 answers", str(errors), "0")


def _readable(db: dict[str, Any]) -> frozenset[int]:
    from hotline.knowledge.permissions import user_access

    return user_access(db["agent"]).readable


if __name__ == "__main__":
    main()
