"""Every path the platform writes lies under HOTLINE_VAR_DIR (issue 11, item 23)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.test import override_settings

from hotline.demo.generator import seed_demo
from hotline.knowledge.engine import index_dir, reset_engines

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, django
django.setup()
from django.conf import settings
from hotline.cases.duplicates import _segmenter
from hotline.knowledge.engine import index_dir
jieba = _segmenter()
print(json.dumps({
    "database": str(settings.DATABASES["default"]["NAME"]),
    "static": str(settings.STATIC_ROOT),
    "media": str(settings.MEDIA_ROOT),
    "kb_index": str(index_dir()),
    "beat_schedule": settings.CELERY_BEAT_SCHEDULE_FILENAME,
    "jieba_cache": jieba.dt.tmp_dir,
}))
"""


def test_every_default_writable_path_follows_the_variable(tmp_path):
    var = tmp_path / "var"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "HOTLINE_KB_INDEX_DIR", "DJANGO_STATIC_ROOT", "DJANGO_MEDIA_ROOT"}
    }
    env.update(HOTLINE_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="config.settings.dev")
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    paths = json.loads(out.stdout.strip().splitlines()[-1])
    for name, path in paths.items():
        assert Path(path).is_relative_to(var), (name, path)
    assert any(p.name.startswith("jieba") for p in var.iterdir())  # the dictionary cache was written there


KB_FIRST = """
import json, django
django.setup()
from hotline.knowledge.related import _cutter
jieba = _cutter()
jieba.lcut("社保卡掉了怎么办")
print(json.dumps({"jieba_cache": jieba.dt.tmp_dir}))
"""


def test_the_knowledge_base_loading_jieba_first_keeps_its_cache_under_the_var_dir(tmp_path):
    """Whichever package loads jieba first (here the knowledge base's related results), its dictionary cache goes
    under HOTLINE_VAR_DIR, not the system's /tmp."""
    var = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "HOTLINE_KB_INDEX_DIR"}}
    env.update(HOTLINE_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="config.settings.test")
    out = subprocess.run(
        [sys.executable, "-c", KB_FIRST], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1])["jieba_cache"] == str(var)
    assert any(p.name.startswith("jieba") for p in var.iterdir())


def test_seed_demo_writes_the_knowledge_index_under_the_var_dir(
    db, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.delenv("HOTLINE_KB_INDEX_DIR", raising=False)
    reset_engines()
    try:
        with override_settings(VAR_DIR=tmp_path), django_capture_on_commit_callbacks(execute=True):
            assert index_dir() == tmp_path / "kb-index"
            seed_demo(cases=3, seed=7)
        assert any((tmp_path / "kb-index").iterdir())
    finally:
        reset_engines()
