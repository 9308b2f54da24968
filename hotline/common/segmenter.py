"""jieba, the Chinese word segmenter, loaded once per process for every package that cuts text into words
(duplicate screening, the knowledge base's related results).

jieba caches its parsed dictionary in a file; it is kept under HOTLINE_VAR_DIR like every other writable path,
whichever package happens to load jieba first (it used to be the system's /tmp when the knowledge base did).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

_lock = threading.Lock()
_jieba: Any = None


def jieba() -> Any:
    """The initialised `jieba` module (about a second on first use; warmed at worker start)."""
    global _jieba
    if _jieba is None:
        with _lock:
            if _jieba is None:
                import jieba as module
                from django.conf import settings

                module.setLogLevel(logging.WARNING)
                Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
                module.dt.tmp_dir = str(settings.VAR_DIR)
                module.initialize()
                _jieba = module
    return _jieba
