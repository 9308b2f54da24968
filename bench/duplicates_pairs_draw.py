"""Draw candidate pairs of real messages for labelling (INT-5, dev pairs added in session 9). Not a detector:
pairs are drawn by shared place names / title templates / rare words and by time, never by the judgement's score.

    python -m bench.duplicates_pairs_draw --seed 9 --per 20 > /tmp/candidates.jsonl

Generators (only pairs by two different users, not identical texts, none already in duplicate_pairs_teddy.csv,
no message already used by a pair of that file):
- `s9place`: both name one place / organisation (similarity.places) found in 2–12 messages, drawn within 120 days
  of each other — reworded reports of one estate and same-place-other-problem negatives;
- `s9template`: titles equal once the area codes and place names are blanked, but different areas or places —
  the same complaint template about another district / estate (hard negatives), or one matter retold;
- `s9near`: same area code, posted ≤ 30 days apart, ≥ 2 shared rare words (jieba, in ≤ 6 messages) — reworded
  reports by different citizens and same-area, same-topic negatives.
The texts are printed for the labeller; the labels are written by hand into duplicate_pairs_teddy.csv.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import itertools
import json
import random
import re
from collections import defaultdict
from pathlib import Path

import bench  # noqa: F401  (Django setup)
from bench.duplicates_pairs_eval import DEFAULT_DATA, FILES, PAIRS
from hotline.cases import similarity as sim


def messages(data: Path) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for short, name in FILES.items():
        with (data / name).open(encoding="utf-8") as f:
            for r in csv.DictReader(f):
                out.setdefault(
                    r["留言编号"],
                    {
                        "id": r["留言编号"],
                        "file": short,
                        "user": r["留言用户"],
                        "title": r["留言主题"].strip(),
                        "content": (r["留言详情_clean"] or r["留言详情"]).strip(),
                        "time": r["留言时间"],
                    },
                )
    return out


def when(m: dict[str, str]) -> dt.datetime:
    return dt.datetime.fromisoformat(m["time"][:19])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--per", type=int, default=20)
    parser.add_argument("--topic", type=int, default=0, help="pairs drawn by s9topic (after the others)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    msgs = messages(args.data)
    used: set[str] = set()
    with PAIRS.open(encoding="utf-8") as f:
        for r in csv.DictReader(f):  # ids only: which messages are taken (labels not read)
            used.update((r["a"], r["b"]))
    pool = [m for k, m in msgs.items() if k not in used]
    seen_texts: set[str] = set()

    def ok(a: dict[str, str], b: dict[str, str]) -> bool:
        return a["user"] != b["user"] and a["content"] != b["content"] and a["title"] != b["title"]

    drawn: list[tuple[str, dict[str, str], dict[str, str]]] = []
    taken: set[str] = set()

    def add(gen: str, cands: list[tuple[dict[str, str], dict[str, str]]], n: int) -> None:
        rng.shuffle(cands)
        k = 0
        for a, b in cands:
            if k >= n:
                break
            if a["id"] in taken or b["id"] in taken or not ok(a, b):
                continue
            key = a["content"][:60] + "|" + b["content"][:60]
            if key in seen_texts:
                continue
            seen_texts.add(key)
            taken.update((a["id"], b["id"]))
            drawn.append((gen, a, b))
            k += 1

    # s9place
    by_place: dict[str, list[dict[str, str]]] = defaultdict(list)
    for m in pool:
        for name in sorted(sim.places(sim.request_text(m["title"], m["content"])).names):
            if len(name) >= 3:
                by_place[name].append(m)
    cands = []
    for _name, ms in by_place.items():
        if 2 <= len(ms) <= 12:
            for a, b in itertools.combinations(ms, 2):
                if abs((when(a) - when(b)).days) <= 120:
                    cands.append((a, b))
    add("s9place", cands, args.per)

    # s9template
    def template(m: dict[str, str]) -> str:
        t = re.sub(r"[A-N]\d{0,2}(?:市|区|县)", "#", m["title"])
        for name in sorted(sim.places(m["title"]).names, key=len, reverse=True):
            t = t.replace(name, "@")
        return re.sub(r"[\s，。,.!！?？]", "", t)

    by_tpl: dict[str, list[dict[str, str]]] = defaultdict(list)
    for m in pool:
        t = template(m)
        if len(t) >= 6 and ("#" in t or "@" in t):
            by_tpl[t].append(m)
    cands = [(a, b) for ms in by_tpl.values() if 2 <= len(ms) <= 10 for a, b in itertools.combinations(ms, 2)]
    add("s9template", cands, args.per)

    # s9near
    import jieba

    jieba.setLogLevel(60)
    words: dict[str, set[str]] = {}
    df: dict[str, int] = defaultdict(int)
    for m in pool:
        ws = {w for w in jieba.lcut(m["title"] + m["content"][:300]) if len(w) >= 2 and not w.isascii()}
        words[m["id"]] = ws
        for w in ws:
            df[w] += 1
    area: dict[str, list[dict[str, str]]] = defaultdict(list)
    for m in pool:
        for code in sorted(sim.places(sim.request_text(m["title"], m["content"])).areas):
            area[code].append(m)
    cands = []
    for ms in area.values():
        ms.sort(key=when)
        for i, a in enumerate(ms):
            for b in ms[i + 1 :]:
                if (when(b) - when(a)).days > 30:
                    break
                rare = {w for w in words[a["id"]] & words[b["id"]] if df[w] <= 6}
                if len(rare) >= 2:
                    cands.append((a, b))
    add("s9near", cands, args.per)

    # s9topic: one topic told about two places (titles alike once codes and place names are blanked, no shared
    # place name, no shared district code) — mostly hard negatives
    def grams(t: str) -> set[str]:
        return {t[i : i + 2] for i in range(len(t) - 1)}

    info = []
    for m in pool:
        if m["id"] in taken:
            continue
        p = sim.places(sim.request_text(m["title"], m["content"]))
        t = template(m).replace("#", "").replace("@", "")
        if len(t) >= 5:
            info.append((m, p, grams(t)))
    cands = []
    for (a, pa, ga), (b, pb, gb) in itertools.combinations(info, 2):
        if pa.names & pb.names or (pa.areas & pb.areas):
            continue
        if len(ga & gb) >= 3 and len(ga & gb) / len(ga | gb) >= 0.4:
            cands.append((a, b))
    add("s9topic", cands, args.topic)

    for gen, a, b in drawn:
        print(
            json.dumps(
                {
                    "gen": gen,
                    "a": {k: a[k] for k in ("id", "file", "user", "time", "title")}
                    | {"content": a["content"][:400]},
                    "b": {k: b[k] for k in ("id", "file", "user", "time", "title")}
                    | {"content": b["content"][:400]},
                },
                ensure_ascii=False,
            )
        )


if __name__ == "__main__":
    main()
