"""The embedded default engine: tantivy (PyPI `tantivy`) over character bigrams with positions.

Why bigrams made here rather than tantivy's `ngram(2,2)` tokenizer: that tokenizer gives every n-gram
position 0, so a keyword can only be an AND of its bigrams and `社保卡` would also match a text holding
`社保` and `保卡` apart. Here the normalised text becomes one token per character position — the bigram
starting there, or a bigram containing a separator (never searched for) — joined by spaces for tantivy's
whitespace tokenizer, so a token's position is its character offset. A keyword of n ≥ 2 characters is
then a phrase query of ⌈n/2⌉ non-overlapping bigrams at their offsets (plus the last, overlapping one when
n is odd), which matches exactly where the keyword occurs: recall and precision equal substring search.
Three- and four-character keywords (most of what agents type) are single terms of position-free 3-gram and
4-gram fields, which keeps very common phrases cheap (no position checks); one-character keywords use a
field of each document's distinct characters.

Filters (validity, permissions by directory, subtree, space, public) are clauses of the same query, so
totals and pages are right. Ranking: with alternatives (OR), each matched alternative adds a constant per keyword far above any
BM25 score, so documents matching more keywords come first, then BM25 (the title is indexed twice, so a
title match weighs more).
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import tantivy
from tantivy import FieldType, Occur, Query

from .engine import IndexDoc, SearchFilters, SearchHit, SearchResult, highlight_title, snippet
from .query import ParsedQuery
from .text import SEPARATOR, SEPARATORS, normalize

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2
FOREVER = 2**62
KEYWORD_WEIGHT = 10_000.0
WRITER_HEAP = 50_000_000
BULK_WRITER_HEAP = 400_000_000
LOCK_WAIT_SECONDS = 30.0
IDLE_RELEASE_SECONDS = 5.0


def bigrams(norm: str) -> str:
    """Space-joined token per character position of normalised text (see module docstring)."""
    s = SEPARATOR.sub("|", norm)
    if len(s) < 2:
        return s
    return " ".join(map(str.__add__, s, s[1:]))


def ngrams(norm: str, n: int) -> str:
    """Space-joined n-grams inside each run of keyword characters (no positions kept, no separators)."""
    out: list[str] = []
    for run in SEPARATORS.split(norm):
        if len(run) >= n:
            out.extend(run[i : i + n] for i in range(len(run) - n + 1))
    return " ".join(out)


def keyword_terms(word: str) -> list[tuple[int, str]]:
    """The bigrams (with offsets) whose co-occurrence at those offsets is exactly an occurrence of `word`."""
    n = len(word)
    terms = [(i, word[i : i + 2]) for i in range(0, n - 1, 2)]
    if n % 2:
        terms.append((n - 2, word[n - 2 :]))
    return terms


def _timestamp(value: dt.datetime | None, default: int) -> int:
    return int(value.timestamp()) if value is not None else default


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_unsigned_field("id", stored=True, indexed=True, fast=True)
    sb.add_unsigned_field("dir", stored=True, indexed=True, fast=True)
    sb.add_unsigned_field("anc", indexed=True)
    sb.add_unsigned_field("space", indexed=True)
    sb.add_unsigned_field("public", indexed=True)
    sb.add_integer_field("vfrom", indexed=True, fast=True)
    sb.add_integer_field("vto", indexed=True, fast=True)
    sb.add_unsigned_field("views", stored=True, fast=True)
    sb.add_integer_field("pub", fast=True)
    sb.add_text_field("body", tokenizer_name="whitespace", index_option="position")
    # Position-free: the distinct characters, and the 3-grams and 4-grams inside runs of keyword characters
    # (made here: tantivy's ngram tokenizer would also index the useless ones spanning punctuation).
    sb.add_text_field("chars", tokenizer_name="whitespace", index_option="basic")
    sb.add_text_field("tri", tokenizer_name="whitespace", index_option="freq")
    sb.add_text_field("quad", tokenizer_name="whitespace", index_option="freq")
    sb.add_bytes_field("title_s", stored=True)
    sb.add_bytes_field("kw_s", stored=True)
    sb.add_bytes_field("body_s", stored=True)
    return sb.build()


class TantivyEngine:
    def __init__(self, location: str | Path | None = None):
        self.schema = build_schema()
        if location is None:
            self.path: Path | None = None
            self._index = tantivy.Index(self.schema)
        else:
            # One subdirectory per schema version: a new release with another schema starts an empty index
            # beside the old one (fill it with `manage.py rebuild_kb_index`) instead of failing to open.
            self.path = Path(location) / f"v{SCHEMA_VERSION}"
            self.path.mkdir(parents=True, exist_ok=True)
            try:
                self._index = tantivy.Index(self.schema, path=str(self.path))
            except ValueError as exc:
                if "schema does not match" not in str(exc):
                    raise
                logger.warning(
                    "知识库索引结构已变化，已清空 %s，请运行 manage.py rebuild_kb_index", self.path
                )
                shutil.rmtree(self.path)
                self.path.mkdir(parents=True)
                self._index = tantivy.Index(self.schema, path=str(self.path))
        self._index.config_reader("OnCommit", 0)
        self._write_lock = threading.Lock()
        self._live_writer: Any = None  # kept between writes; released after IDLE_RELEASE_SECONDS idle
        self._last_write = 0.0
        self._timer: threading.Timer | None = None

    # ------------------------------------------------------------------ writing

    def make_document(self, doc: IndexDoc) -> tantivy.Document:
        # The title twice: a title match weighs more in BM25 at no cost per query.
        all_n = normalize(f"{doc.title}\n{doc.title}\n{doc.keywords}\n{doc.body}")
        d = tantivy.Document()
        d.add_unsigned("id", doc.item_id)
        d.add_unsigned("dir", doc.directory_id)
        for ancestor in doc.ancestor_ids:
            d.add_unsigned("anc", ancestor)
        d.add_unsigned("space", doc.space_id)
        d.add_unsigned("public", 1 if doc.is_public else 0)
        d.add_integer("vfrom", _timestamp(doc.valid_from, 0))
        d.add_integer("vto", _timestamp(doc.valid_to, FOREVER))
        d.add_unsigned("views", max(0, doc.views))
        d.add_integer("pub", _timestamp(doc.published_at, 0))
        d.add_text("body", bigrams(all_n))
        d.add_text("chars", " ".join(set(SEPARATOR.sub("", all_n))))
        d.add_text("tri", ngrams(all_n, 3))
        d.add_text("quad", ngrams(all_n, 4))
        d.add_bytes("title_s", doc.title.encode())
        d.add_bytes("kw_s", doc.keywords.encode())
        d.add_bytes("body_s", doc.body.encode())
        return d

    def _writer(self, heap: int, threads: int) -> Any:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                return self._index.writer(heap, threads)
            except ValueError as exc:  # another process is writing (tantivy's directory lock)
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def index(self, doc: IndexDoc) -> None:
        self.index_many([doc])

    def index_many(self, docs: Iterable[IndexDoc], *, remove: Iterable[int] = (), bulk: bool = False) -> None:
        """Write, commit and reload: the change is searchable when this returns.

        One writer is kept open between writes, so the segment merges a commit triggers run in its
        background threads and no request waits for them; it is released (merges finished, tantivy's
        directory lock freed for other processes, e.g. `rebuild_kb_index`) after a few idle seconds."""
        with self._write_lock:
            if bulk:
                self._release_writer()
                writer = self._writer(BULK_WRITER_HEAP, 2)
            else:
                writer = self._live_writer or self._writer(WRITER_HEAP, 1)
                self._live_writer = writer
            try:
                # By query, not by term: the schema types the term (delete_documents_by_term takes a Python
                # int as i64 and silently matches nothing in this u64 field).
                batch: Iterable[IndexDoc] = docs if bulk else list(docs)
                drop = set(remove) if bulk else set(remove) | {d.item_id for d in batch}
                if drop:
                    writer.delete_documents_by_query(Query.term_set_query(self.schema, "id", sorted(drop)))
                for doc in batch:
                    writer.add_document(self.make_document(doc))
                writer.commit()
            except BaseException:
                writer.rollback()
                if not bulk:
                    self._live_writer = None  # start afresh next time (dropping it frees the lock)
                raise
            finally:
                if bulk:
                    writer.wait_merging_threads()
                    del writer
            self._index.reload()
            self._last_write = time.monotonic()
            if not bulk:
                self._schedule_release()

    def _schedule_release(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = threading.Timer(IDLE_RELEASE_SECONDS, self._release_if_idle)
        self._timer.daemon = True
        self._timer.start()

    def _release_if_idle(self) -> None:
        with self._write_lock:
            if time.monotonic() - self._last_write >= IDLE_RELEASE_SECONDS * 0.9:
                self._release_writer()

    def _release_writer(self) -> None:
        """Let the open writer finish its merges and drop it. Call with the write lock held."""
        writer, self._live_writer = self._live_writer, None
        if writer is None:
            return
        try:
            writer.wait_merging_threads()  # consumes the writer: the directory lock is released
        except Exception:
            logger.exception("知识库索引合并失败（不影响已提交的修改）")

    def wait(self) -> None:
        """Finish merges and release the writer now (tests, shutdown, before another process writes)."""
        with self._write_lock:
            if self._timer is not None:
                self._timer.cancel()
            self._release_writer()

    def remove(self, item_id: int) -> None:
        self.index_many([], remove=[item_id])

    def clear(self) -> None:
        with self._write_lock:
            self._release_writer()
            writer = self._writer(WRITER_HEAP, 1)
            writer.delete_all_documents()
            writer.commit()
            writer.wait_merging_threads()
            del writer
            self._index.reload()

    def count(self) -> int:
        return int(self._index.searcher().num_docs)

    # ------------------------------------------------------------------ searching

    def keyword_query(self, word: str) -> Query:
        if len(word) == 1:
            return Query.term_query(self.schema, "chars", word, index_option="basic")
        if len(word) == 2:
            return Query.term_query(self.schema, "body", word)
        if len(word) == 3:
            return Query.term_query(self.schema, "tri", word, index_option="freq")
        if len(word) == 4:
            return Query.term_query(self.schema, "quad", word, index_option="freq")
        terms: list[str | tuple[int, str]] = list(keyword_terms(word))
        return Query.phrase_query(self.schema, "body", terms)

    def _any_of(self, field: str, values: Iterable[int]) -> Query:
        """A few terms: a union of term queries (seeks lazily); many: a term set (builds a bitset)."""
        values = list(values)
        if len(values) <= 16:
            terms = [Query.term_query(self.schema, field, v) for v in values]
            return terms[0] if len(terms) == 1 else Query.boolean_query([(Occur.Should, t) for t in terms])
        return Query.term_set_query(self.schema, field, values)

    def _filter_clauses(self, f: SearchFilters) -> list[tuple[Occur, Query]]:
        s = self.schema
        now = int(f.now.timestamp())
        must: list[Query] = []
        # Validity as exclusions (expired: valid_to <= now; not yet valid: valid_from > now): the excluded
        # sets are small, so this costs less than requiring every match to fall inside both ranges.
        must_not: list[Query] = [
            Query.range_query(s, "vto", FieldType.Integer, None, now),
            Query.range_query(s, "vfrom", FieldType.Integer, now, None, include_lower=False),
        ]
        if f.subtree_id is not None:
            must.append(Query.term_query(s, "anc", f.subtree_id))
        if f.space_ids is not None:
            must.append(Query.term_set_query(s, "space", list(f.space_ids)))
        if f.denied_space_ids:
            must_not.append(Query.term_set_query(s, "space", list(f.denied_space_ids)))
        if f.allowed_dir_ids is not None or f.allowed_subtree_ids is not None:
            allowed = [
                self._any_of(field, ids)
                for field, ids in (("dir", f.allowed_dir_ids), ("anc", f.allowed_subtree_ids))
                if ids
            ]
            if not allowed:
                must.append(Query.empty_query())
            else:
                must.append(
                    allowed[0]
                    if len(allowed) == 1
                    else Query.boolean_query([(Occur.Should, q) for q in allowed])
                )
        if f.denied_dir_ids:
            must_not.append(Query.term_set_query(s, "dir", list(f.denied_dir_ids)))
        if f.denied_subtree_ids:
            must_not.append(self._any_of("anc", f.denied_subtree_ids))
        if f.public_only:
            must.append(Query.term_query(s, "public", 1))
        return [
            *((Occur.Must, Query.const_score_query(q, 0.0)) for q in must),
            *((Occur.MustNot, q) for q in must_not),
        ]

    def build_query(self, query: ParsedQuery, filters: SearchFilters) -> Query:
        keyword_queries = {word: self.keyword_query(word) for word in query.keywords}
        rank_by_count = query.has_or and filters.sort == "relevance"
        groups: list[Query] = []
        for group in query.groups:
            clauses = [(Occur.Must, keyword_queries[w]) for w in group]
            if rank_by_count:
                # A constant per keyword of the alternative, added only where the alternative matches: no
                # second evaluation of the keyword queries (the all-docs scorer is only advanced to matches).
                bonus = Query.const_score_query(Query.all_query(), KEYWORD_WEIGHT * len(group))
                clauses.append((Occur.Should, bonus))
            groups.append(clauses[0][1] if len(clauses) == 1 else Query.boolean_query(clauses))
        match = groups[0] if len(groups) == 1 else Query.boolean_query([(Occur.Should, g) for g in groups])
        return Query.boolean_query([(Occur.Must, match), *self._filter_clauses(filters)])

    def search(self, query: ParsedQuery, filters: SearchFilters) -> SearchResult:
        q = self.build_query(query, filters)
        searcher = self._index.searcher()
        limit = max(1, filters.limit)
        if filters.sort == "views":
            result = searcher.search(q, limit, True, "views", filters.offset)
        elif filters.sort == "latest":
            result = searcher.search(q, limit, True, "pub", filters.offset)
        else:
            result = searcher.search(q, limit, True, None, filters.offset)
        keywords = query.keywords
        hits: list[SearchHit] = []
        if not filters.highlight:
            addresses = [address for _, address in result.hits]
            ids = searcher.fast_field_values("id", addresses)
            dirs = searcher.fast_field_values("dir", addresses)
            hits = [
                SearchHit(int(i or 0), int(d or 0), float(score), 0, "", "")
                for (score, _), i, d in zip(result.hits, ids, dirs, strict=True)
            ]
        for score, address in result.hits if filters.highlight else ():
            doc = searcher.doc(address)
            title = bytes(doc.get_first("title_s") or b"").decode()
            body = bytes(doc.get_first("body_s") or b"").decode()
            text_snippet, matched = snippet(body, keywords)
            if not matched:
                kw = bytes(doc.get_first("kw_s") or b"").decode()
                if kw:
                    kw_snippet, kw_matched = snippet(kw, keywords)
                    if kw_matched:
                        text_snippet, matched = "关键词：" + kw_snippet, kw_matched
            hits.append(
                SearchHit(
                    item_id=int(doc.get_first("id") or 0),
                    directory_id=int(doc.get_first("dir") or 0),
                    score=float(score),
                    views=int(doc.get_first("views") or 0),
                    title_html=highlight_title(title, keywords),
                    snippet_html=text_snippet,
                    matched=matched,
                )
            )
        total = getattr(result, "count", None)  # present when searched with count=True
        return SearchResult(total=int(total or 0), hits=hits)
