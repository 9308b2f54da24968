"""Evaluation contract of duplicate screening (INT-5; keep it stable):

    python manage.py duplicates_eval --pairs < pairs.jsonl > judgements.jsonl

Reads JSON lines {"pair", "a": {"title", "content", "time"}, "b": {...}} on stdin and writes one line
{"pair", "duplicate": true|false} per pair, in input order, at the shipped threshold — through the same judgement
intake screening applies to its candidates (`hotline.cases.similarity.judge_vectors`). `time` is read but does not
decide: intake applies its 15-day window when it picks candidates, a judged pair is judged on its texts.
`--explain` adds the score and its parts to each line (not part of the contract).
A line that is not a JSON object with a pair id gets {"pair": …, "error": "…"} and the run goes on.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


def _side(value: Any) -> tuple[str, str]:
    if not isinstance(value, dict):
        raise ValueError("a and b must be objects with title and content")
    title, content = value.get("title") or "", value.get("content") or ""
    if not isinstance(title, str) or not isinstance(content, str):
        raise ValueError("title and content must be strings")
    if not (title.strip() or content.strip()):
        raise ValueError("empty request")
    return title, content


class Command(BaseCommand):
    help = "Judge JSON-line pairs of requests from stdin as duplicates or not (evaluation contract)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--pairs", action="store_true", help="read JSON lines of pairs on stdin, write judgements"
        )
        parser.add_argument(
            "--explain", action="store_true", help="add score, cosine and place parts to each line"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["pairs"]:
            raise CommandError("give --pairs (and the pairs as JSON lines on stdin)")
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        from hotline.cases import similarity

        out = self.stdout
        for raw in sys.stdin:
            raw = raw.strip()
            if not raw:
                continue
            pair: Any = None
            try:
                item = json.loads(raw)
                if not isinstance(item, dict) or "pair" not in item:
                    raise ValueError("expected an object with a pair id")
                pair = item["pair"]
                a = similarity.Request(*_side(item.get("a")))
                b = similarity.Request(*_side(item.get("b")))
            except (ValueError, TypeError) as exc:
                out.write(json.dumps({"pair": pair, "error": str(exc)}, ensure_ascii=False))
                continue
            verdict = similarity.judge(a, b)
            line: dict[str, Any] = {"pair": pair, "duplicate": verdict.duplicate}
            if options["explain"]:
                line.update(
                    score=verdict.score,
                    cosine=verdict.cosine,
                    place_overlap=verdict.overlap,
                    place_conflict=verdict.place_conflict,
                    area_conflict=verdict.area_conflict,
                    title_conflict=verdict.title_conflict,
                    subject_conflict=verdict.subject_conflict,
                )
            out.write(json.dumps(line, ensure_ascii=False))
