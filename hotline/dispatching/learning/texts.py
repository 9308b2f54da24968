"""How a message becomes the texts the classifier reads (shared by training, prediction and the cache warm-up)."""

from __future__ import annotations

import re

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
