"""The search engine behind the knowledge base, as one small interface.

The default is an embedded tantivy index (`tantivy_engine.TantivyEngine`) in the directory named by the
environment variable HOTLINE_KB_INDEX_DIR (default `kb-index` under HOTLINE_VAR_DIR). The database stays the
source of truth: the index is kept in step after each commit (`indexing.schedule_reindex`) and can always be
rebuilt from it (`manage.py rebuild_kb_index`).

Another engine is chosen with HOTLINE_KB_ENGINE=dotted.path.ToClass (constructed with the index location).
A large deployment can put a server engine behind the same interface:
- OpenSearch/Elasticsearch: index `IndexDoc` fields as they are; analyse `title`/`keywords`/`body` with an
  n-gram (min=max=2) tokenizer that keeps positions (the standard `ngram` tokenizer does) or a Chinese
  analyzer plus an ngram sub-field; translate each keyword into a `match_phrase` on the bigram sub-field,
  AND/OR groups into `bool` must/should, the filters into `terms`/`range` filters, views into a `sort`,
  highlighting into the `highlight` clause; count matched keywords with `constant_score` should-clauses.
- PostgreSQL: `pg_trgm` or `pg_bigm`, or RUM (`postgresql-15-rum` is in Debian) over a bigram tsvector.
Whatever the engine, `SearchFilters` must be applied inside the engine (validity, permissions, subtree),
never after it, so that counts and pages are right.
"""

from __future__ import annotations

import datetime as dt
import html
import importlib
import os
import threading
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from django.conf import settings

from .query import ParsedQuery
from .text import normalize

SortKey = Literal["relevance", "views", "latest"]


@dataclass(frozen=True)
class IndexDoc:
    """What an engine needs to know about one searchable item (its published version)."""

    item_id: int
    space_id: int
    directory_id: int
    ancestor_ids: tuple[int, ...]  # the directory and all directories above it
    title: str
    keywords: str
    body: str  # plain text of the content, then of each attachment
    is_public: bool = False
    valid_from: dt.datetime | None = None
    valid_to: dt.datetime | None = None
    views: int = 0
    published_at: dt.datetime | None = None


@dataclass
class SearchFilters:
    now: dt.datetime
    subtree_id: int | None = None  # only items in this directory or below
    space_ids: Collection[int] | None = None  # None: every space
    denied_space_ids: Collection[int] = ()
    # Permissions: items in allowed directories or below allowed subtree tops (None for both: no
    # restriction), and never in denied directories or below denied subtree tops.
    allowed_dir_ids: Collection[int] | None = None
    allowed_subtree_ids: Collection[int] | None = None
    denied_dir_ids: Collection[int] = ()
    denied_subtree_ids: Collection[int] = ()
    public_only: bool = False
    sort: SortKey = "relevance"
    limit: int = 20
    offset: int = 0
    highlight: bool = True  # False: ids only (no stored text read, no snippets)


@dataclass
class SearchHit:
    item_id: int
    directory_id: int
    score: float
    views: int
    title_html: str
    snippet_html: str
    matched: tuple[str, ...] = field(default=())


@dataclass
class SearchResult:
    total: int
    hits: list[SearchHit]


class SearchEngine(Protocol):
    def index(self, doc: IndexDoc) -> None: ...

    def index_many(self, docs: Iterable[IndexDoc], *, remove: Iterable[int] = (), bulk: bool = False) -> None:
        """Add or replace `docs` and drop `remove` in one commit; visible to searches when it returns.
        `bulk`: filling an empty index (no replacing needed, more memory and threads allowed)."""
        ...

    def remove(self, item_id: int) -> None: ...

    def clear(self) -> None: ...

    def search(self, query: ParsedQuery, filters: SearchFilters) -> SearchResult: ...

    def count(self) -> int: ...


# --------------------------------------------------------------------------- highlighting


def find_spans(norm: str, keywords: Sequence[str], *, per_keyword: int = 30) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    for word in keywords:
        start = norm.find(word)
        found = 0
        while start >= 0 and found < per_keyword:
            spans.append((start, start + len(word), word))
            found += 1
            start = norm.find(word, start + 1)
    spans.sort()
    return spans


def _mark(text: str, spans: Sequence[tuple[int, int, str]], lo: int, hi: int) -> str:
    out: list[str] = []
    pos = lo
    for start, end, _word in spans:
        if end <= pos or start >= hi:
            continue
        start = max(start, pos)
        end = min(end, hi)
        out.append(html.escape(text[pos:start]))
        out.append("<em>" + html.escape(text[start:end]) + "</em>")
        pos = end
    out.append(html.escape(text[pos:hi]))
    return "".join(out).replace("\n", " ")


def highlight_title(title: str, keywords: Sequence[str]) -> str:
    return _mark(title, find_spans(normalize(title), keywords), 0, len(title))


def snippet(text: str, keywords: Sequence[str], *, width: int = 120) -> tuple[str, tuple[str, ...]]:
    """The window of `text` holding the most distinct keywords, HTML-escaped, matches in <em>."""
    norm = normalize(text)
    spans = find_spans(norm, keywords)
    matched = tuple(dict.fromkeys(w for _, _, w in spans))
    if not spans:
        cut = text[:width]
        return _mark(cut, [], 0, len(cut)) + ("…" if len(text) > width else ""), matched
    # Slide a window over the matches (two pointers) and keep the one holding the most distinct keywords.
    best_lo, best_count = 0, -1
    inside: dict[str, int] = {}
    left = 0
    for _start, end, word in spans:
        inside[word] = inside.get(word, 0) + 1
        while spans[left][0] < end - width:
            gone = spans[left][2]
            inside[gone] -= 1
            if not inside[gone]:
                del inside[gone]
            left += 1
        if len(inside) > best_count:
            best_count = len(inside)
            first = spans[left][0]
            best_lo = max(0, first - max(0, width - (end - first)) // 3)
    hi = min(len(text), best_lo + width)
    body = _mark(text, spans, best_lo, hi)
    return ("…" if best_lo else "") + body + ("…" if hi < len(text) else ""), matched


# --------------------------------------------------------------------------- the configured engine

_engines: dict[tuple[str, str], SearchEngine] = {}
_lock = threading.Lock()


def index_dir() -> Path:
    configured = os.environ.get("HOTLINE_KB_INDEX_DIR")
    return Path(configured) if configured else Path(settings.VAR_DIR) / "kb-index"


def get_engine() -> SearchEngine:
    """The engine for the current HOTLINE_KB_INDEX_DIR / HOTLINE_KB_ENGINE (one instance per process)."""
    engine_path = os.environ.get("HOTLINE_KB_ENGINE", "hotline.knowledge.tantivy_engine.TantivyEngine")
    location = str(index_dir())
    key = (engine_path, location)
    engine = _engines.get(key)
    if engine is None:
        with _lock:
            engine = _engines.get(key)
            if engine is None:
                module_name, _, class_name = engine_path.rpartition(".")
                engine_class = getattr(importlib.import_module(module_name), class_name)
                engine = engine_class(location)
                _engines[key] = engine
    return engine


def reset_engines() -> None:
    """Forget the cached engines (tests point HOTLINE_KB_INDEX_DIR somewhere new)."""
    with _lock:
        for engine in _engines.values():
            wait = getattr(engine, "wait", None)
            if wait is not None:
                wait()
        _engines.clear()
