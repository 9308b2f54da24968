"""Production serving: the connection budget and the warm-up of a fresh worker (issue 11, items 21 and 22)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from hotline.common import segmenter
from hotline.common.serving import ConnectionBudgetExceeded, check_connection_budget, warm_up
from hotline.knowledge import engine

ROOT = Path(__file__).resolve().parents[2]


def test_warm_up_loads_jieba_the_search_index_and_the_caches(db, tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_KB_INDEX_DIR", str(tmp_path / "kb-index"))
    monkeypatch.setattr(segmenter, "_jieba", None)
    engine.reset_engines()
    try:
        timings = warm_up()
        assert set(timings) == {
            "jieba",
            "knowledge_index",
            "reference_caches",
            "calendar",
            "urls",
            "templates",
            "dispatch_model",
        }
        assert segmenter._jieba is not None  # the dictionary is loaded: the first request does not pay for it
        assert engine._engines  # the index is open
    finally:
        engine.reset_engines()


def test_management_commands_do_not_warm_up():
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    out = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "warm-up" not in out.stdout + out.stderr


@pytest.mark.django_db
def test_the_connection_budget_refuses_more_web_connections_than_postgresql_allows():
    if connection.vendor != "postgresql":
        assert "不限制" in check_connection_budget(web_connections=10_000)
        return
    assert "PostgreSQL 允许" in check_connection_budget(web_connections=4)
    with pytest.raises(ConnectionBudgetExceeded, match="HOTLINE_WEB_WORKERS"):
        check_connection_budget(web_connections=10_000)
