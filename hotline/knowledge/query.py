"""The knowledge-base query language (KB-5), parsed once and handed to whichever engine is configured.

- Keywords separated by spaces must all occur (AND).
- `OR` (any case), `或` standing alone, `-`, `——` (or any run of dashes, also full-width) separate
  alternatives: `社保 转移 OR 医保` = (社保 AND 转移) OR 医保.
- A keyword matches where it occurs as an exact substring of the title, keywords, content or attachment
  text, after full-width → half-width and lower-casing (see `text.normalize`).
- Punctuation, brackets and quotes are not part of any keyword: they separate keywords (AND) and the answer
  says that they were ignored. A query with nothing to search for, longer than MAX_QUERY_CHARS or with more
  than MAX_KEYWORDS keywords is refused with a clear message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from hotline.common.errors import ServiceError

from .text import SEPARATORS, normalize

MAX_QUERY_CHARS = 100
MAX_KEYWORDS = 10

_OR_WORDS = {"or", "或"}
_DASHES = re.compile(r"[-\u2010-\u2015\u2212\ufe58\ufe63]+")
_VISIBLE_PUNCT = re.compile(r"[^\w\s\-\u2010-\u2015\u2212\ufe58\ufe63]|_")


class QueryError(ServiceError):
    code = "bad_query"

    def __init__(self, message: str):
        super().__init__(message, field_errors={"q": [message]})


@dataclass(frozen=True)
class ParsedQuery:
    """`groups` are alternatives (OR); each group's keywords must all match (AND)."""

    groups: tuple[tuple[str, ...], ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def keywords(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for group in self.groups:
            for word in group:
                seen.setdefault(word, None)
        return tuple(seen)

    @property
    def has_or(self) -> bool:
        return len(self.groups) > 1


def parse_query(raw: str) -> ParsedQuery:
    if raw is None or not raw.strip():
        raise QueryError(_("请输入要检索的关键词"))
    if len(raw) > MAX_QUERY_CHARS:
        raise QueryError(
            _("检索内容过长（%(n)d个字符），请不超过%(max)d个字符") % {"n": len(raw), "max": MAX_QUERY_CHARS}
        )
    text = normalize(raw)
    warnings: list[str] = []
    ignored = sorted(set(_VISIBLE_PUNCT.findall(text)))
    if ignored:
        warnings.append("已忽略检索词中的标点符号：" + " ".join(ignored))

    # Split into whitespace-separated tokens, then dashes inside tokens into OR operators as well.
    pieces: list[str | None] = []  # None marks an OR
    for token in text.split():
        if token in _OR_WORDS:
            pieces.append(None)
            continue
        parts = _DASHES.split(token)
        for i, part in enumerate(parts):
            if i:
                pieces.append(None)
            if part:
                pieces.append(part)

    groups: list[tuple[str, ...]] = []
    current: list[str] = []
    for piece in pieces:
        if piece is None:
            if current:
                groups.append(tuple(dict.fromkeys(current)))
            current = []
            continue
        current.extend(w for w in SEPARATORS.split(piece) if w)
    if current:
        groups.append(tuple(dict.fromkeys(current)))

    if not groups:
        if any(p is None for p in pieces):
            raise QueryError(_("检索式只有运算符（OR、或、-、——），请输入关键词"))
        raise QueryError(_("检索式中没有可检索的文字（标点符号不参与检索）"))
    if any(p is None for p in pieces) and (pieces[0] is None or pieces[-1] is None or _double_or(pieces)):
        warnings.append("已忽略多余的“或”运算符")
    parsed = ParsedQuery(groups=tuple(dict.fromkeys(groups)), warnings=tuple(warnings))
    if len(parsed.keywords) > MAX_KEYWORDS:
        raise QueryError(
            _("关键词过多（%(n)d个），请不超过%(max)d个") % {"n": len(parsed.keywords), "max": MAX_KEYWORDS}
        )
    return parsed


def _double_or(pieces: list[str | None]) -> bool:
    return any(a is None and b is None for a, b in zip(pieces, pieces[1:], strict=False))
