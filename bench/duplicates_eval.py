"""How well duplicate screening (hotline/cases/duplicates.py) finds the same matter reported again — on real messages.

    python -m bench.duplicates_eval [--threshold 0.40] [--data ../shared/data/teddy2020_c]

Data: `messages_with_votes.csv` (4,326 anonymised citizen messages to a provincial government, 2017–2020, from
the TipDM Cup 2020 challenge C; read from ../shared, never copied here). The messages are replayed in time order
as intakes; each is screened against the messages of the 15 days before it, exactly as `find_duplicates` scores
(jieba TF-IDF top-16 words, cosine, local damping of words common in the window).

Pairs and labels (all pairs are within 15 days of each other):
- **hand-labelled pairs** — `bench/data/duplicate_pairs_labelled.csv`: 154 pairs drawn at random, stratified by
  character-bigram Jaccard into 7 bands from 0.05 to 1.0 (22 per band; identical texts left out), read one by
  one and labelled 1 when both messages ask about the same matter (same place/organisation and same problem,
  so one case could answer both), else 0. 109 are 1; 10 were hard calls and are flagged `borderline`. Only ids
  are committed, not texts.
- **exact duplicates** — every pair of messages with identical text (positives; not in the hand sample).
- **random pairs** — 1,000 random pairs within 15 days, taken as negatives (with ~800,000 in-window pairs and a
  few thousand same-matter ones, a random pair is a true duplicate with probability ~0.3 %).
Pairs below bigram Jaccard 0.05 were not sampled for labelling, so recall on near-duplicates worded very
differently is not measured; the random pairs stand for them on the precision side.

It also prints the other measures tried (bigram Jaccard, bigram TF cosine, jieba TF-IDF full cosine) as AUC on
the labelled pairs, how many earlier messages each intake flags at the threshold, and the in-memory time of the
text part of one check. The database part at 1,000,000 cases is measured by bench/citizen_bench.py.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import random
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import bench  # noqa: F401  (Django setup)
from hotline.cases import duplicates as d

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "teddy2020_c"
LABELS = Path(__file__).resolve().parent / "data" / "duplicate_pairs_labelled.csv"
WINDOW = dt.timedelta(days=d.WINDOW_DAYS)


def load(data: Path) -> list[dict[str, Any]]:
    path = data / "messages_with_votes.csv"
    if not path.exists():
        print(f"数据文件不存在：{path}（跳过）")
        sys.exit(0)
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r["id"] = r["留言编号"]
        r["t"] = dt.datetime.strptime(r["留言时间"], "%Y-%m-%d %H:%M:%S")
        r["text"] = d.request_text(r["留言主题"], r["留言详情_clean"])
    rows.sort(key=lambda r: r["t"])
    return rows


class Stream:
    """Per message: its words, and for scoring a pair, the document frequencies of the later one's window."""

    def __init__(self, rows: list[dict[str, Any]]):
        self.rows = rows
        self.pos = {r["id"]: i for i, r in enumerate(rows)}
        self.vec = [d.terms(r["text"]) for r in rows]
        self.start: list[int] = []
        j = 0
        for r in rows:
            while rows[j]["t"] < r["t"] - WINDOW:
                j += 1
            self.start.append(j)
        self._df: dict[int, Counter[str]] = {}

    def df(self, i: int) -> Counter[str]:
        if i not in self._df:
            c: Counter[str] = Counter()
            for k in range(self.start[i], i):
                c.update(self.vec[k].keys())
            self._df[i] = c
        return self._df[i]

    def score(self, a: str, b: str) -> float:
        i, j = sorted((self.pos[a], self.pos[b]))
        query, stored = self.vec[j], self.vec[i]
        df, n = self.df(j), j - self.start[j]
        damp = {w: d.damping(df.get(w, 0), n) for w in query}
        return d.similarity(query, stored, damp)


def prf(pairs: list[tuple[float, int]], th: float) -> tuple[float, float, float]:
    tp = sum(1 for s, y in pairs if s >= th and y)
    fp = sum(1 for s, y in pairs if s >= th and not y)
    fn = sum(1 for s, y in pairs if s < th and y)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def auc(pairs: list[tuple[float, int]]) -> float:
    pos = [s for s, y in pairs if y]
    neg = [s for s, y in pairs if not y]
    return sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))


def other_measures(rows: list[dict[str, Any]], labelled: list[tuple[str, str, int]]) -> dict[str, float]:
    """AUC of the alternatives on the labelled pairs (the reason for the choice)."""
    by_id = {r["id"]: r for r in rows}
    idf, median, _ = d._idf()

    def norm(t: str) -> str:
        return re.sub(r"[^\u4e00-\u9fffA-Za-z0-9]", "", t)

    def bigrams(t: str) -> Counter[str]:
        t = norm(t)
        return Counter(t[i : i + 2] for i in range(len(t) - 1))

    def cos(a: dict[str, float], b: dict[str, float]) -> float:
        dot = sum(v * b.get(k, 0.0) for k, v in a.items())
        na = math.sqrt(sum(v * v for v in a.values()))
        nb = math.sqrt(sum(v * v for v in b.values()))
        return dot / (na * nb) if na and nb else 0.0

    seg = d._segmenter()

    def jieba_full(t: str) -> dict[str, float]:
        words = Counter(w for w in seg.lcut(t) if len(w) >= 2)
        return {w: (1 + math.log(n)) * idf.get(w, median) for w, n in words.items()}

    out: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for a, b, y in labelled:
        ta, tb = by_id[a]["text"], by_id[b]["text"]
        ga, gb = bigrams(ta), bigrams(tb)
        out["字符二元组 Jaccard"].append((len(set(ga) & set(gb)) / len(set(ga) | set(gb)), y))
        out["字符二元组 TF 余弦"].append((cos(dict(ga), dict(gb)), y))
        out["jieba TF-IDF 全向量余弦"].append((cos(jieba_full(ta), jieba_full(tb)), y))
    return {name: auc(pairs) for name, pairs in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--threshold", type=float, default=d.WORD_THRESHOLD)
    parser.add_argument("--random-pairs", type=int, default=1000)
    args = parser.parse_args()

    t0 = time.perf_counter()
    rows = load(args.data)
    stream = Stream(rows)
    print(f"{len(rows)} 条留言，分词与特征 {time.perf_counter() - t0:.1f} s")

    with LABELS.open(encoding="utf-8") as f:
        labelled = [(r["a"], r["b"], int(r["same_matter"])) for r in csv.DictReader(f)]
    labelled = [(a, b, y) for a, b, y in labelled if a in stream.pos and b in stream.pos]

    by_text: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        by_text[r["留言详情_clean"]].append(r["id"])
    exact = []
    for ids in by_text.values():
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                if abs(rows[stream.pos[a]]["t"] - rows[stream.pos[b]]["t"]) <= WINDOW:
                    exact.append((a, b, 1))
    rng = random.Random(20)
    randoms = []
    while len(randoms) < args.random_pairs:
        j = rng.randrange(1, len(rows))
        if stream.start[j] == j:
            continue
        i = rng.randrange(stream.start[j], j)
        if rows[i]["留言详情_clean"] != rows[j]["留言详情_clean"]:
            randoms.append((rows[i]["id"], rows[j]["id"], 0))

    scored = {
        name: [(stream.score(a, b), y) for a, b, y in pairs]
        for name, pairs in (("labelled", labelled), ("exact", exact), ("random", randoms))
    }
    th = args.threshold
    everything = scored["labelled"] + scored["exact"] + scored["random"]
    print(f"\n阈值 {th:.2f}（出厂值 {d.WORD_THRESHOLD:.2f}）")
    print(
        f"  人工标注样本 {len(labelled)} 对（相同 {sum(y for *_, y in labelled)}）: AUC {auc(scored['labelled']):.3f}"
    )
    for name, pairs in (("人工标注样本", scored["labelled"]), ("全部（标注+完全重复+随机）", everything)):
        p, r, f1 = prf(pairs, th)
        print(f"  {name}: precision {p:.3f}  recall {r:.3f}  F1 {f1:.3f}")
    ex_recall = sum(1 for s, _ in scored["exact"] if s >= th) / max(1, len(scored["exact"]))
    rnd_fp = sum(1 for s, _ in scored["random"] if s >= th) / max(1, len(scored["random"]))
    print(f"  完全重复文本 {len(exact)} 对: 检出率 {ex_recall:.3f}")
    print(f"  随机同窗口对 {len(randoms)} 对: 误报率 {rnd_fp:.4f}")
    print("\n  阈值扫描（人工标注样本 / 全部）:")
    for t in (0.25, 0.30, 0.35, 0.40, 0.45, 0.50, 0.60):
        p1, r1, f1 = prf(scored["labelled"], t)
        p2, r2, f2 = prf(everything, t)
        rfp = sum(1 for s, _ in scored["random"] if s >= t) / len(scored["random"])
        print(
            f"    {t:.2f}: P {p1:.2f} R {r1:.2f} F1 {f1:.3f} | P {p2:.2f} R {r2:.2f} F1 {f2:.3f} | 随机误报 {rfp:.4f}"
        )

    print("\n  其他相似度（人工标注样本 AUC，越高越好）:")
    for name, value in other_measures(rows, labelled).items():
        print(f"    {name}: {value:.3f}")

    # Flagged per intake on the whole stream, and time of the text part of one check.
    flagged, times = [], []
    postings: dict[str, list[int]] = defaultdict(list)
    first = 0
    for j, r in enumerate(rows):
        while rows[first]["t"] < r["t"] - WINDOW:
            first += 1
        t1 = time.perf_counter()
        query = d.terms(r["text"])
        df = stream.df(j)
        n = j - stream.start[j]
        damp = {w: d.damping(df.get(w, 0), n) for w in query}
        acc: dict[int, float] = defaultdict(float)
        for w, qw in query.items():
            for i in postings.get(w, ()):
                if i >= first:
                    acc[i] += qw * damp[w] * stream.vec[i][w]
        hits = sum(1 for s in acc.values() if s >= th)
        times.append(time.perf_counter() - t1)
        flagged.append(hits)
        for w in query:
            postings[w].append(j)
    ordered = sorted(times)
    print(
        f"\n  每次受理提示的相似工单数: 平均 {statistics.mean(flagged):.2f}，"
        f"有提示的受理占 {sum(1 for x in flagged if x) / len(flagged):.1%}"
    )
    print(
        f"  文本部分耗时（分词+打分，内存）: p50 {ordered[len(ordered) // 2] * 1000:.2f} ms, "
        f"p99 {ordered[int(len(ordered) * 0.99)] * 1000:.2f} ms"
    )
    print("  数据库部分（100 万工单）见 bench/citizen_bench.py 的“重复检查”一项（目标 p99 < 100 ms）。")


if __name__ == "__main__":
    main()
