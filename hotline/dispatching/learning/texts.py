"""How a message becomes the texts the classifier reads (shared by training, prediction and the cache warm-up)."""

from __future__ import annotations

import logging
import re
from typing import Any

_WS = re.compile(r"\s+")
LEAD_CHARS = 64


def clean(text: str | None) -> str:
    return _WS.sub(" ", text or "").strip()


def full_text(title: str, content: str) -> str:
    """Title and content for the character n-gram features."""
    return clean(title) + "。" + clean(content)


def title_view(title: str, content: str) -> str:
    """What is embedded: the title, or the content's start when there is no title."""
    return clean(title) or clean(content)[:LEAD_CHARS]


def lead_view(title: str, content: str) -> str:
    """Title and the first characters of the content (≈ 60 tokens: an embedding costs ≈ 3 × a title's)."""
    return (clean(title) + "。" + clean(content)[:LEAD_CHARS]).strip("。")


def words(text: str) -> str:
    """The text cut into words by jieba, space-separated (the word view's features)."""
    return " ".join(w for w in _jieba().lcut(text) if w.strip())


_plain_jieba: Any = None


def _jieba() -> Any:
    """The project's jieba (dictionary cache under HOTLINE_VAR_DIR) under Django; jieba itself outside (the bench)."""
    global _plain_jieba
    if _plain_jieba is not None:
        return _plain_jieba
    try:
        from hotline.common.segmenter import jieba

        return jieba()
    except Exception:  # noqa: BLE001 - outside Django (bench scripts): Django's settings are not configured
        import jieba as module

        module.setLogLevel(logging.WARNING)
        _plain_jieba = module
        return module
