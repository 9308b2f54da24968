"""Duplicate screening (INT-5): before a request is saved, find the cases of the last 15 days with the same
number, the same name or similar content; and hot clusters — groups of similar open requests of the last days.

How content similarity works (measured in bench/duplicates_eval.py on 4,326 real messages, see its docstring):
- the text (title + content) is cut into words with jieba; each word is weighted TF-IDF with the IDF table jieba
  ships (general Chinese), and the request keeps its `TOP_TERMS` heaviest words, L2-normalised;
- similarity = cosine of those truncated vectors. On 154 hand-labelled pairs it beat character-bigram Jaccard
  (AUC 0.77), bigram TF cosine (0.90) and even the full jieba TF-IDF vector (0.91) with AUC 0.93; at the shipped
  threshold 0.35: precision 0.93 / recall 0.93 on the labelled pairs, 0.96 / 0.96 with the exact duplicates and
  random pairs added, 0.1 % of random same-window pairs flagged. It needs no re-reading of stored texts;
- words that are common *locally* (the city's or a district's name) are damped by their document frequency among
  the requests of the window (over 10 % and over 50 requests), which the index gives for free. The evaluation
  windows are too small for it to act; it guards a real city's stream.

Since INT-5 on real data (bench/duplicates_pairs_eval.py), the words only *find* candidates; whether a candidate
is the same matter is judged by `cases.similarity` (e5 embeddings + places and area codes), which the word cosine
alone got wrong on reworded requests and on one complaint template about many places. Each request's embedding is
stored in `cases.RequestEmbedding` by a worker job after commit (`embed_pending`); the new request is embedded
while the agent types (the screening partial; the vector is remembered for the submit).

The index is `cases.RequestKey`: per request, its top words, its number and its name as 63-bit hashed keys
with the word's weight, ordered by (key, at). Candidates by content come from the window's stored embeddings held
per process (`VectorIndex`: one matrix product, refreshed from `RequestEmbedding` at each check); the word keys
find the same number / name and the requests whose vector is not written yet. SQL then reads only the few
candidates' texts and case rows.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import BinaryField, Count, F, FloatField, Sum, Value, When
from django.db.models import Case as SqlCase

from hotline.common import clock, segmenter
from hotline.common.validators import normalize_phone
from hotline.orgs.models import User

from . import lifecycle, masking
from . import similarity as sim
from .models import Case, CaseStatus

WINDOW_DAYS = 15
TOP_TERMS = 16
# Threshold on the cosine of truncated TF-IDF vectors (hot clusters; chosen in bench/duplicates_eval.py).
WORD_THRESHOLD = 0.35
# A candidate is reported "similar" when the pair judgement passes this (bench/duplicates_pairs_eval.py).
THRESHOLD = sim.THRESHOLD
# Candidates whose stored embedding is not written yet (registered seconds ago) are embedded in the check, up to
# this many; beyond that they are judged without the embedding's help (word cosine at WORD_THRESHOLD).
INLINE_EMBED_MAX = 3
# A word found in more than this share of the window's requests is damped (a local stop word: the city's or a
# district's name).
COMMON_SHARE = 0.10
COMMON_MIN_DF = 50  # …and in at least this many requests (small windows have no statistics to speak of)
MAX_CANDIDATES = 50
# Share of a query's (damped) weight, on its locally most common words, left out of the candidate scan.
COMMON_PART = 0.1
NAME_MIN_LENGTH = 2
# Honorific-only names ("王女士", "李先生") say little; they are still keys but not counted as "same name".
_HONORIFIC = re.compile(r"^.(女士|先生|小姐|阿姨|师傅|老师|同志|大爷|大妈|奶奶|爷爷)$")
_KEEP = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")
_EXTRA_STOP = frozenset(
    "您好 你好 领导 尊敬 请问 希望 问题 反映 情况 相关 部门 有关 政府 市民 我们 你们 他们 现在 已经 "
    "没有 一个 这个 那个 什么 怎么 为什么 可以 能够 是否 谢谢 感谢 严重 要求 解决 处理 投诉 咨询 "
    "进行 工作 时间 目前 一直 多次 问题 非常 需要 影响 还是 但是 因为 所以 如果 以及 或者".split()
)


def _segmenter() -> Any:
    """jieba (common/segmenter.py) with its TF-IDF tables."""
    import jieba.analyse  # noqa: F401  (the IDF table and stop words below)

    return segmenter.jieba()


def _idf() -> tuple[dict[str, float], float, frozenset[str]]:
    jieba = _segmenter()
    table = jieba.analyse.default_tfidf
    return table.idf_freq, table.median_idf, frozenset(table.stop_words) | _EXTRA_STOP


def terms(text: str) -> dict[str, float]:
    """The request's TOP_TERMS heaviest words with L2-normalised TF-IDF weights.

    Remembered for the last few texts (a check and the index of the same text segment it once)."""
    return dict(_terms(text))


@functools.lru_cache(maxsize=64)
def _terms(text: str) -> tuple[tuple[str, float], ...]:
    jieba = _segmenter()
    idf, median, stop = _idf()
    words = [
        w.lower()
        for w in jieba.lcut(text or "", HMM=True)
        if len(w) >= 2 and _KEEP.search(w) and w.lower() not in stop and not w.isdigit()
    ]
    counts = Counter(words)
    weighted = {w: (1.0 + math.log(n)) * idf.get(w, median) for w, n in counts.items()}
    top = sorted(weighted.items(), key=lambda item: (-item[1], item[0]))[:TOP_TERMS]
    norm = math.sqrt(sum(v * v for _, v in top)) or 1.0
    return tuple((w, v / norm) for w, v in top)


def similarity(a: dict[str, float], b: dict[str, float], damp: dict[str, float] | None = None) -> float:
    damp = damp or {}
    return sum(w * b.get(t, 0.0) * damp.get(t, 1.0) for t, w in a.items())


def damping(df: int, window_size: int) -> float:
    """1 for a locally rare word; less, down to 0, for a word most requests of the window contain."""
    if window_size <= 0 or df <= max(COMMON_SHARE * window_size, COMMON_MIN_DF):
        return 1.0
    return max(0.0, math.log((window_size + 1) / (df + 1)) / math.log(1 / COMMON_SHARE))


def request_text(title: str, content: str) -> str:
    title = (title or "").strip()
    content = (content or "").strip()
    return content if not title or content.startswith(title) else f"{title}。{content}"


def hashed(kind: str, value: str) -> int:
    """A stable signed 63-bit key (fits BIGINT) for a word, a number or a name."""
    digest = hashlib.blake2b(f"{kind}:{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def phone_key(phone: str) -> int | None:
    phone = normalize_phone(phone or "")
    return hashed("p", phone) if phone else None


def name_key(name: str) -> int | None:
    name = re.sub(r"\s+", "", name or "")
    return hashed("n", name) if len(name) >= NAME_MIN_LENGTH else None


def meaningful_name(name: str) -> bool:
    name = re.sub(r"\s+", "", name or "")
    return len(name) >= NAME_MIN_LENGTH and not _HONORIFIC.match(name)


# --------------------------------------------------------------------------- the index


def index_rows(case: Case) -> list[Any]:
    from hotline.cases.models import RequestKey

    return [
        RequestKey(key=key, weight=weight, case_id=case.pk, at=case.created_at)
        for key, weight in index_keys(case)
    ]


def index_keys(case: Case) -> list[tuple[int, float]]:
    """The request's index keys and their weights: its phone and name (weight 0), then its words."""
    keys = [
        (kind_key, 0.0)
        for kind_key in (phone_key(case.citizen_phone), name_key(case.citizen_name))
        if kind_key is not None
    ]
    keys += [
        (hashed("w", word), weight) for word, weight in terms(request_text(case.title, case.content)).items()
    ]
    return keys


def index_case(case: Case) -> None:
    """(Re)write the request's keys, replacing any it has: running it twice leaves the same rows.

    On PostgreSQL one statement (the delete and the insert in one data-modifying CTE, atomic on its own)."""
    from hotline.cases.models import RequestKey

    if connection.vendor == "postgresql":
        keys = index_keys(case)
        table = connection.ops.quote_name(RequestKey._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH gone AS (DELETE FROM {table} WHERE case_id = %s) "
                f'INSERT INTO {table} ("key", weight, case_id, "at") '
                "SELECT k, w, %s, %s FROM UNNEST(%s::bigint[], %s::double precision[]) AS t(k, w)",
                [case.pk, case.pk, case.created_at, [k for k, _w in keys], [w for _k, w in keys]],
            )
        return
    rows = index_rows(case)
    with transaction.atomic():
        RequestKey.objects.filter(case_id=case.pk).delete()
        RequestKey.objects.bulk_create(rows)


def index_backfill(*, since: dt.datetime | None = None, batch: int = 2000) -> int:
    """Index cases that have no keys yet (after a bulk load); returns how many were indexed."""
    from hotline.cases.models import RequestKey

    qs = Case.objects.order_by("pk").only(
        "pk", "title", "content", "citizen_phone", "citizen_name", "created_at"
    )
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    done = 0
    last = 0
    while True:
        chunk = list(qs.filter(pk__gt=last)[:batch])
        if not chunk:
            return done
        last = chunk[-1].pk
        have = set(
            RequestKey.objects.filter(case_id__in=[c.pk for c in chunk]).values_list("case_id", flat=True)
        )
        rows = [row for c in chunk if c.pk not in have for row in index_rows(c)]
        RequestKey.objects.bulk_create(rows, batch_size=5000)
        done += sum(1 for c in chunk if c.pk not in have)


def index_prune(*, older_than_days: int = 120) -> int:
    """Keys older than any window we screen or cluster over are dead weight; a periodic job may drop them."""
    from hotline.cases.models import RequestEmbedding, RequestKey

    cutoff = clock.now() - dt.timedelta(days=older_than_days)
    deleted, _ = RequestKey.objects.filter(at__lt=cutoff).delete()
    gone, _ = RequestEmbedding.objects.filter(at__lt=cutoff).delete()
    return deleted + gone


# --------------------------------------------------------------------------- screening


@dataclass
class Candidate:
    case: Case
    score: float
    same_phone: bool
    same_name: bool
    similar: bool = False


@dataclass
class DuplicateReport:
    since: dt.datetime
    same_phone: int = 0
    same_name: int = 0
    similar: int = 0
    candidates: list[Candidate] = field(default_factory=list)


_EXCLUDED = [CaseStatus.MERGED]


def _word_scores(
    *,
    query: dict[str, float],
    since: dt.datetime,
    exclude: Sequence[int],
    limit: int,
    also: Iterable[int] = (),
    among: Sequence[int] | None = None,
) -> tuple[list[tuple[int, float]], dict[str, float]]:
    """Damped cosine of the query's words against the requests of the window sharing them, best first.

    Cost is bounded by splitting the query's words: the window's most common words (after damping, together
    weighing at most `COMMON_PART` of the query) are not scanned — they add at most that much to any score, so
    the ranking is found from the other words' postings, and the common words' exact part is then added for
    the requests kept (and for `also`, the same-number / same-name requests) by their ids. `among`: only these
    requests are scored (those the vector index cannot judge yet).
    """
    from hotline.cases.models import RequestKey

    if not query:
        return [], {}
    key_of = {hashed("w", w): w for w in query}
    df = _document_frequencies(list(key_of), since)
    window = _window_size(since)
    damp = {w: damping(df.get(k, 0), window) for k, w in key_of.items()}
    live = {k: query[w] * damp[w] for k, w in key_of.items() if query[w] * damp[w] > 0}
    if not live:
        return [], damp
    common: list[int] = []
    mass = 0.0
    for k in sorted(live, key=lambda k: -df.get(k, 0)):
        if math.sqrt(mass + live[k] ** 2) > COMMON_PART:
            break
        mass += live[k] ** 2
        common.append(k)
    rare = {k: w for k, w in live.items() if k not in common}

    def weighted(keys: dict[int, float]) -> Any:
        whens = [When(key=k, then=Value(float(w))) for k, w in keys.items()]
        return Sum(F("weight") * SqlCase(*whens, default=Value(0.0), output_field=FloatField()))

    qs = RequestKey.objects.filter(key__in=list(rare), at__gte=since)
    if among is not None:
        qs = qs.filter(case_id__in=list(among))
    if exclude:
        qs = qs.exclude(case_id__in=list(exclude))
    rows = qs.values("case_id").annotate(score=weighted(rare)).order_by("-score")[:limit]
    scores = {r["case_id"]: float(r["score"] or 0.0) for r in rows}
    ids = set(scores) | (set(also) - set(exclude))
    if common and ids:
        extra = (
            RequestKey.objects.filter(case_id__in=list(ids), key__in=common, at__gte=since)
            .values("case_id")
            .annotate(score=weighted({k: live[k] for k in common}))
            .order_by()
        )
        for r in extra:
            scores[r["case_id"]] = scores.get(r["case_id"], 0.0) + float(r["score"] or 0.0)
    return sorted(scores.items(), key=lambda item: -item[1]), damp


# Document frequencies move slowly (a window holds two weeks of requests), and the costly ones to count are the
# common words every check meets: counts of at least COMMON_MIN_DF (the only ones damping acts on) are kept for a
# few minutes per process. Rarer words are counted each time, which is cheap.
DF_TTL_SECONDS = 300
_df_cache: dict[int, tuple[float, int]] = {}


def _document_frequencies(keys: list[int], since: dt.datetime) -> dict[int, int]:
    """Requests of the window containing each key (missing = none)."""
    import time

    from hotline.cases.models import RequestKey

    now = time.monotonic()
    found = {k: hit[1] for k in keys if (hit := _df_cache.get(k)) and now - hit[0] < DF_TTL_SECONDS}
    missing = [k for k in keys if k not in found]
    if missing:
        counted = (
            RequestKey.objects.filter(key__in=missing, at__gte=since)
            .values("key")
            .annotate(n=Count("case_id"))
            .order_by()
            .values_list("key", "n")
        )
        for k, n in counted:
            found[k] = n
            if n >= COMMON_MIN_DF:
                _df_cache[k] = (now, n)
        if len(_df_cache) > 100_000:
            _df_cache.clear()
    return found


def forget_statistics() -> None:
    """Drop the cached window statistics and groups (tests; they are otherwise refreshed within minutes)."""
    _df_cache.clear()
    _window_cache.clear()
    _cluster_cache.clear()
    VECTORS.clear()


_window_cache: dict[str, tuple[float, int]] = {}


def _window_size(since: dt.datetime) -> int:
    """Requests in the window (cached a minute: it only scales the damping)."""
    import time

    cached = _window_cache.get("n")
    if cached and time.monotonic() - cached[0] < 60:
        return cached[1]
    n = Case.objects.filter(created_at__gte=since).count()
    _window_cache["n"] = (time.monotonic(), n)
    return n


def _visible(user: User | None) -> Any:
    from .selectors import case_visible

    return case_visible(user=user) if user is not None else Case.objects.all()


def find_duplicates(
    *,
    user: User | None,
    content: str,
    phone: str = "",
    name: str = "",
    title: str = "",
    exclude_case: int | None = None,
    days: int = WINDOW_DAYS,
    limit: int = 20,
) -> DuplicateReport:
    """Candidates of the last `days` days by same number, same name and similar content, best first."""
    from hotline.cases.models import RequestKey

    since = clock.now() - dt.timedelta(days=days)
    report = DuplicateReport(since=since)
    exclude = [exclude_case] if exclude_case else []
    pk, nk = phone_key(phone), name_key(name) if meaningful_name(name) else None
    ident: dict[int, set[str]] = defaultdict(set)
    keys = {key: label for key, label in ((pk, "phone"), (nk, "name")) if key is not None}
    if keys:
        rows = RequestKey.objects.filter(key__in=list(keys), at__gte=since).exclude(case_id__in=exclude)
        for key, case_id in rows.values_list("key", "case_id")[:1000]:
            ident[case_id].add(keys[key])
    # Candidates by meaning: one matrix product over the window's stored vectors held in this process; only
    # those close enough for the judgement to pass can be the same matter (`similarity.may_be_duplicate`).
    query_vector = sim.embed(title, content)
    held = VECTORS.search(query_vector, since=since, exclude=exclude, limit=MAX_CANDIDATES, also=ident)
    # Requests without a vector yet (registered seconds ago, the worker has not embedded them): found by words
    # among those only, as before the vectors (the best few are embedded in the check).
    unknown_ident = [cid for cid in ident if cid not in held.known]
    scores: dict[int, float] = {}
    if held.waiting or unknown_ident:
        among = None if len(held.waiting) > WAITING_MAX else [*held.waiting, *unknown_ident]
        scored, _ = _word_scores(
            query=terms(request_text(title, content)),
            since=since,
            exclude=exclude,
            limit=MAX_CANDIDATES,
            also=unknown_ident,
            among=among,
        )
        scores = {cid: score for cid, score in scored if cid not in held.held}
    wanted = set(ident) | set(held.near) | set(scores)
    # Judged on the vectors held (texts only of the few close in meaning), so that only the candidates worth
    # showing are read as cases.
    judged = _judge(title, content, wanted, scores, known=held.known, query=query_vector)
    shown = {cid for cid in wanted if cid in ident or judged[cid][1]}
    # Which of them the user may see, by id, time and secrecy only: every candidate is counted, but only the
    # `limit` shown are read as whole cases (with their type and unit).
    visible = list(
        _visible(user)
        .filter(pk__in=shown)
        .exclude(status__in=_EXCLUDED)
        .values_list("pk", "created_at", "secrecy_id")
    )
    # A secret caller's request never matches a typed name or number for those who may not know the caller:
    # "same name: yes" would confirm a guess (ORG-4). It may still match by content.
    hides = user is not None and not masking.sees_secret_callers(user)
    ranked = []
    for cid, created_at, secrecy_id in visible:
        secret = hides and masking.secrecy_is_secret(secrecy_id)
        ranked.append(
            (
                cid,
                created_at,
                judged[cid][0],
                judged[cid][1],
                "phone" in ident.get(cid, ()) and not secret,
                "name" in ident.get(cid, ()) and not secret,
            )
        )
    report.same_phone = sum(1 for r in ranked if r[4])
    report.same_name = sum(1 for r in ranked if r[5])
    report.similar = sum(1 for r in ranked if r[3])
    relevant = [r for r in ranked if r[3] or r[4] or r[5]]
    relevant.sort(key=lambda r: (not r[3], not r[4], -r[2], -r[1].timestamp()))
    relevant = relevant[:limit]
    cases = Case.objects.select_related("case_type", "main_unit").in_bulk([r[0] for r in relevant])
    report.candidates = [
        Candidate(case=cases[cid], score=score, similar=similar, same_phone=phone_, same_name=name_)
        for cid, _, score, similar, phone_, name_ in relevant
        if cid in cases
    ]
    return report


def _judge(
    title: str,
    content: str,
    ids: set[int],
    word_scores: dict[int, float],
    *,
    known: dict[int, np.ndarray] | None = None,
    query: np.ndarray | None = None,
) -> dict[int, tuple[float, bool]]:
    """(score, same matter?) per candidate id: the pair judgement of `cases.similarity` on the stored embeddings,
    the query embedded once (remembered from the partial's earlier calls while the agent typed). A candidate's
    text is read only when its vector is close enough for its places to matter, or when it has no vector yet."""
    from hotline.cases.models import RequestEmbedding

    if not ids:
        return {}
    stored = dict(known or {})
    unread = [cid for cid in ids if cid not in stored]
    if unread:
        stored.update(
            (cid, sim.unpack(vector))
            for cid, vector in RequestEmbedding.objects.filter(case_id__in=unread, vector__isnull=False)
            .values_list("case_id", "vector")
            .iterator()
        )
    missing = [cid for cid in ids if cid not in stored]
    # Registered seconds ago, not embedded by the worker yet: the best few by words are embedded here.
    missing.sort(key=lambda cid: -word_scores.get(cid, 0.0))
    inline = missing[:INLINE_EMBED_MAX]
    if query is None:
        query = sim.embed(title, content)
    cosines = {cid: float(np.dot(query, vector)) for cid, vector in stored.items()}
    near = [cid for cid, cosine in cosines.items() if sim.may_be_duplicate(cosine)]
    texts = (
        {
            cid: (t, c)
            for cid, t, c in Case.objects.filter(pk__in=near + inline).values_list("pk", "title", "content")
        }
        if near or inline
        else {}
    )
    for cid in inline:
        if cid in texts:
            stored[cid] = sim.embed(*texts[cid])
    text = sim.request_text(title, content)
    out: dict[int, tuple[float, bool]] = {}
    for cid in ids:
        vector = stored.get(cid)
        if vector is None:
            words = round(word_scores.get(cid, 0.0), 3)
            out[cid] = (words, words >= WORD_THRESHOLD)
            continue
        other = texts.get(cid)
        # far apart in meaning: judged on the cosine alone (judge_vectors reads no text there either)
        verdict = sim.judge_vectors(
            text,
            sim.request_text(*other) if other else "",
            query,
            vector,
            titles=(title, other[0]) if other else None,
        )
        # shown as 相似度 0–1: the place bonus may lift an identical text a little above 1
        out[cid] = (round(min(1.0, max(0.0, verdict.score)), 3), verdict.duplicate)
    return out


# --------------------------------------------------------------------------- the window's vectors in memory

# How far back (in case ids) each refresh re-reads, for rows committed out of id order by concurrent intakes.
REFRESH_LOOKBACK = 200
# Everything is re-read this often (the window moves on; a request whose text changed has a new vector).
REBUILD_SECONDS = 900
# More requests than this without a vector (a bulk load not embedded yet): the words search the whole window.
WAITING_MAX = 2000


class VectorIndex:
    """The stored embeddings of the screening window, held per process as one float32 matrix (≈ 1.5 KB a
    request: 48,000 requests ≈ 74 MB), so that a check finds its candidates by one matrix product instead of
    scanning the word index. Each check first reads what was stored since the last one (rows above the highest
    case id read, less `REFRESH_LOOKBACK`, and the rows that were still waiting for their vector); the whole
    window is re-read every `REBUILD_SECONDS` or when a check asks for a longer window."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self.matrix = np.zeros((0, sim_dim()), dtype=np.float32)
        self.ids = np.zeros(0, dtype=np.int64)
        self.at = np.zeros(0, dtype=np.float64)
        self.count = 0
        self.row: dict[int, int] = {}
        self.pending: dict[int, float] = {}  # case id → its time: rows without a vector yet
        self.keys: dict[int, bytes] = {}  # case id → the text key of the vector held
        self.high = 0
        self.since: dt.datetime | None = None
        self.built = 0.0

    def search(
        self,
        query: np.ndarray,
        *,
        since: dt.datetime,
        exclude: Sequence[int],
        limit: int,
        also: Iterable[int],
    ) -> Found:
        """Brought up to date, then: the close requests (`near`), the vectors of those and of `also`, and the
        window's requests still without a vector."""
        import time

        with self._lock:
            if self.since is None or since < self.since or time.monotonic() - self.built > REBUILD_SECONDS:
                self._rebuild(since)
            else:
                self._refresh()
            near = self._near(query, since=since, exclude=exclude, limit=limit)
            known = {
                cid: self.matrix[i].copy() for cid in {*near, *also} if (i := self.row.get(cid)) is not None
            }
            floor = since.timestamp()
            waiting = [cid for cid, stamp in self.pending.items() if stamp >= floor and cid not in exclude]
            return Found(near=near, known=known, waiting=waiting, held=frozenset(self.row))

    def _rows(self, qs: Any) -> None:
        """Take (case id, text key, vector or None, time) rows; a vector left out (None) of a row held whose
        text key is unchanged keeps the one held; a held row with a new text key is read again."""
        again = []
        for cid, key, vector, at in qs.iterator(chunk_size=5000):
            self.high = max(self.high, cid)
            stamp, key = at.timestamp(), bytes(key)
            if vector is None:
                if cid in self.row and self.keys.get(cid) == key:
                    continue  # held, unchanged (its vector was not sent again)
                if cid in self.row:
                    again.append(cid)
                    continue
                self.pending[cid] = stamp
                continue
            self.pending.pop(cid, None)
            self.keys[cid] = key
            self._put(cid, sim.unpack(vector), stamp)
        if again:
            from hotline.cases.models import RequestEmbedding

            for cid in again:
                self._drop(cid)
            self._rows(
                RequestEmbedding.objects.filter(case_id__in=again).values_list(
                    "case_id", "text_key", "vector", "at"
                )
            )

    def _drop(self, cid: int) -> None:
        i = self.row.pop(cid, None)
        self.keys.pop(cid, None)
        if i is not None:
            self.at[i] = -np.inf  # never in a window again (the row is reused at the next rebuild)

    def _put(self, cid: int, vector: np.ndarray, stamp: float) -> None:
        i = self.row.get(cid)
        if i is None:
            if self.count == len(self.ids):
                size = max(1024, 2 * self.count)
                self.matrix = np.resize(self.matrix, (size, self.matrix.shape[1]))
                self.ids = np.resize(self.ids, size)
                self.at = np.resize(self.at, size)
            i = self.count
            self.count += 1
            self.row[cid] = i
        self.matrix[i] = vector
        self.ids[i] = cid
        self.at[i] = stamp

    def _rebuild(self, since: dt.datetime) -> None:
        import time

        from hotline.cases.models import RequestEmbedding

        _one_blas_thread()
        self.clear()
        self.since = since - dt.timedelta(days=1)  # checks a little later still find their whole window
        self._rows(
            RequestEmbedding.objects.filter(at__gte=self.since)
            .order_by()
            .values_list("case_id", "text_key", "vector", "at")
        )
        self.built = time.monotonic()

    def _refresh(self) -> None:
        from django.db.models import Q

        from hotline.cases.models import RequestEmbedding

        assert self.since is not None
        # the rows of the look-back (and those waiting) with their text keys; vectors only of rows not held
        held = [cid for cid in range(self.high - REFRESH_LOOKBACK + 1, self.high + 1) if cid in self.row]
        recent = Q(case_id__gt=self.high - REFRESH_LOOKBACK)
        if self.pending:
            recent |= Q(case_id__in=list(self.pending))
        vector: Any = F("vector")
        if held:
            vector = SqlCase(
                When(case_id__in=held, then=Value(None)), default=F("vector"), output_field=BinaryField()
            )
        self._rows(
            RequestEmbedding.objects.filter(recent, at__gte=self.since)
            .order_by()
            .annotate(v=vector)
            .values_list("case_id", "text_key", "v", "at")
        )

    def _near(
        self, query: np.ndarray, *, since: dt.datetime, exclude: Sequence[int], limit: int
    ) -> dict[int, float]:
        """Case id → cosine for the requests of the window close enough to be judged the same matter, the
        `limit` closest."""
        n = self.count
        if n == 0:
            return {}
        cosines = self.matrix[:n] @ np.asarray(query, dtype=np.float32)
        hits = np.flatnonzero(
            (cosines + sim.PLACE_BONUS >= sim.THRESHOLD) & (self.at[:n] >= since.timestamp())
        )
        if len(hits) > limit + len(exclude):
            hits = hits[np.argpartition(-cosines[hits], limit + len(exclude))[: limit + len(exclude)]]
        out = {int(self.ids[i]): float(cosines[i]) for i in hits}
        for cid in exclude:
            out.pop(cid, None)
        return dict(sorted(out.items(), key=lambda item: -item[1])[:limit])


@dataclass(frozen=True)
class Found:
    near: dict[int, float]
    known: dict[int, np.ndarray]
    waiting: list[int]
    held: frozenset[int]


def _one_blas_thread() -> None:
    """The matrix product on one BLAS thread: several server processes share two cores, and a threaded product
    waiting for busy cores took ten times as long as on one thread (measured at load 20). Once per process."""
    global _BLAS_LIMITED
    if not _BLAS_LIMITED:
        _BLAS_LIMITED = True
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover - shipped with scikit-learn
            return
        threadpool_limits(1, "blas")


_BLAS_LIMITED = False


def sim_dim() -> int:
    return 384  # multilingual-e5-small


VECTORS = VectorIndex()


# --------------------------------------------------------------------------- stored embeddings


EMBED_BATCH = 20


def mark_for_embedding(case: Case) -> None:
    """After commit: the request's embedding is due (a new request, or its text changed). Idempotent: one
    statement, which leaves a row whose text is unchanged (and its vector) alone."""
    from hotline.cases.models import RequestEmbedding

    table = connection.ops.quote_name(RequestEmbedding._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (case_id, text_key, vector, at) VALUES (%s, %s, NULL, %s) "
            f"ON CONFLICT (case_id) DO UPDATE SET text_key = EXCLUDED.text_key, vector = NULL, at = EXCLUDED.at "
            f"WHERE {table}.text_key <> EXCLUDED.text_key",
            [
                case.pk,
                sim.text_key(case.title, case.content),
                connection.ops.adapt_datetimefield_value(case.created_at),
            ],
        )


def embed_pending(*, batch: int = EMBED_BATCH, budget_seconds: float = 5.0) -> int:
    """The worker job: embed pending requests, newest first, for at most about `budget_seconds`; returns how
    many were written. A row whose text changed meanwhile is left pending (its key no longer matches)."""
    import time

    from hotline.cases.models import RequestEmbedding

    started = time.monotonic()
    done = 0
    while time.monotonic() - started < budget_seconds:
        ids = list(
            RequestEmbedding.objects.filter(vector__isnull=True)
            .order_by("-at")
            .values_list("case_id", flat=True)[:batch]
        )
        if not ids:
            break
        texts = {c.pk: c for c in Case.objects.filter(pk__in=ids).only("pk", "title", "content")}
        for cid in ids:
            case = texts.get(cid)
            if case is None:
                continue
            key = sim.text_key(case.title, case.content)
            vector = sim.pack(sim.embed(case.title, case.content))
            done += RequestEmbedding.objects.filter(case_id=cid, text_key=key, vector__isnull=True).update(
                vector=vector
            )
            if time.monotonic() - started >= budget_seconds:
                break
    return done


def embed_backfill(*, since: dt.datetime | None = None, batch: int = 500) -> int:
    """Mark cases that have no embedding row (after a bulk load) as pending; the worker job embeds them."""
    from hotline.cases.models import RequestEmbedding

    qs = Case.objects.order_by("pk").only("pk", "title", "content", "created_at")
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    marked = 0
    last = 0
    while True:
        chunk = list(qs.filter(pk__gt=last)[:batch])
        if not chunk:
            return marked
        last = chunk[-1].pk
        have = set(
            RequestEmbedding.objects.filter(case_id__in=[c.pk for c in chunk]).values_list(
                "case_id", flat=True
            )
        )
        rows = [
            RequestEmbedding(
                case_id=c.pk, text_key=sim.text_key(c.title, c.content), vector=None, at=c.created_at
            )
            for c in chunk
            if c.pk not in have
        ]
        RequestEmbedding.objects.bulk_create(rows, ignore_conflicts=True)
        marked += len(rows)


# --------------------------------------------------------------------------- hot clusters


@dataclass
class Cluster:
    cases: list[Case]
    terms: list[str]

    @property
    def size(self) -> int:
        return len(self.cases)


CLUSTER_MAX_POSTING = 300
OPEN_STATUSES = [s for s in CaseStatus.values if s not in lifecycle.FINISHED_STATUSES]


# Grouping a week of open requests takes seconds in a big city; the groups (ids and naming words) are kept a
# couple of minutes per process and user scope, while the cases themselves are read fresh on every call, so a
# request merged or closed since drops out at once.
CLUSTER_CACHE_SECONDS = 120
_cluster_cache: dict[tuple[Any, ...], tuple[float, list[tuple[list[int], list[str]]]]] = {}


def hot_clusters(
    *, user: User | None, days: int = 7, min_size: int = 3, threshold: float = WORD_THRESHOLD, limit: int = 20
) -> list[Cluster]:
    """Groups of similar open requests of the last `days` days (same problem reported by many), biggest first."""
    import time

    from hotline.orgs.selectors import sees_everything

    scope = "all" if user is None or sees_everything(user) else user.pk
    key = (scope, days, min_size, threshold, limit)
    hit = _cluster_cache.get(key)
    if hit is None or time.monotonic() - hit[0] > CLUSTER_CACHE_SECONDS:
        hit = (time.monotonic(), _group_open_requests(user, days, min_size, threshold, limit))
        if len(_cluster_cache) > 1000:
            _cluster_cache.clear()
        _cluster_cache[key] = hit
    groups = hit[1]
    cases = Case.objects.filter(status__in=OPEN_STATUSES).in_bulk([cid for ids, _ in groups for cid in ids])
    clusters = [
        Cluster(
            cases=sorted((cases[cid] for cid in ids if cid in cases), key=lambda c: c.created_at), terms=words
        )
        for ids, words in groups
    ]
    return [c for c in clusters if c.size >= min_size]


def _group_open_requests(
    user: User | None, days: int, min_size: int, threshold: float, limit: int
) -> list[tuple[list[int], list[str]]]:
    """The open cases' stored word vectors are read from the index (no re-segmentation); pairs sharing a rare word
    are compared and joined when they are the same matter (single-link, union-find): judged on their stored
    embeddings and places as at intake, or by their damped word similarity at `threshold` when not embedded."""
    from hotline.cases.models import RequestKey

    since = clock.now() - dt.timedelta(days=days)
    open_ids = list(
        _visible(user).filter(created_at__gte=since, status__in=OPEN_STATUSES).values_list("pk", flat=True)
    )
    if not open_ids:
        return []
    vectors: dict[int, dict[int, float]] = defaultdict(dict)
    postings: dict[int, list[int]] = defaultdict(list)
    for chunk in _chunks(open_ids, 5000):
        for case_id, key, weight in RequestKey.objects.filter(case_id__in=chunk, weight__gt=0).values_list(
            "case_id", "key", "weight"
        ):
            vectors[case_id][key] = weight
            postings[key].append(case_id)
    n = len(vectors)
    damp = {k: damping(len(ids), n) for k, ids in postings.items()}
    parent = {cid: cid for cid in vectors}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    damped = {cid: {k: w * damp[k] for k, w in vector.items()} for cid, vector in vectors.items()}
    # Pairs sharing a rare word and somewhat alike in words are the candidates; whether two are the same matter
    # is then judged as at intake (`cases.similarity`: embeddings + places) where both are embedded, else by the
    # word cosine at `threshold`.
    compared: dict[tuple[int, int], float] = {}
    for key, ids in postings.items():
        if damp[key] <= 0 or len(ids) < 2 or len(ids) > CLUSTER_MAX_POSTING:
            continue  # a word most open requests contain joins nothing by itself (rarer shared words will)
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                pair = (a, b) if a < b else (b, a)
                if pair in compared:
                    continue
                va, vb = damped[a], vectors[b]
                compared[pair] = sum(w * vb.get(k, 0.0) for k, w in va.items())
    pairs = {pair: score for pair, score in compared.items() if score >= CLUSTER_PREFILTER}
    same = _same_matter(pairs, threshold)
    for a, b in pairs:
        if same[(a, b)]:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[ra] = rb
    groups: dict[int, list[int]] = defaultdict(list)
    for cid in vectors:
        groups[find(cid)].append(cid)
    big = sorted((g for g in groups.values() if len(g) >= min_size), key=len, reverse=True)[:limit]
    word_of = _words_of(vectors, big)
    return [(g, word_of.get(i, [])) for i, g in enumerate(big)]


CLUSTER_PREFILTER = 0.15  # word cosine below which two requests are not compared for a hot cluster


def _same_matter(pairs: dict[tuple[int, int], float], threshold: float) -> dict[tuple[int, int], bool]:
    """The intake judgement for each candidate pair whose two requests are embedded; the word cosine otherwise."""
    from hotline.cases.models import RequestEmbedding

    ids = sorted({cid for pair in pairs for cid in pair})
    stored: dict[int, Any] = {}
    texts: dict[int, str] = {}
    titles: dict[int, str] = {}
    for chunk in _chunks(ids, 5000):
        for cid, vector in RequestEmbedding.objects.filter(
            case_id__in=chunk, vector__isnull=False
        ).values_list("case_id", "vector"):
            stored[cid] = sim.unpack(vector)
        embedded = [cid for cid in chunk if cid in stored]
        for cid, title, content in Case.objects.filter(pk__in=embedded).values_list("pk", "title", "content"):
            texts[cid] = sim.request_text(title, content)
            titles[cid] = title
    out = {}
    for (a, b), words in pairs.items():
        if a in stored and b in stored and a in texts and b in texts:
            out[(a, b)] = sim.judge_vectors(
                texts[a], texts[b], stored[a], stored[b], titles=(titles[a], titles[b])
            ).duplicate
        else:
            out[(a, b)] = words >= threshold
    return out


def _words_of(vectors: dict[int, dict[int, float]], groups: list[list[int]]) -> dict[int, list[str]]:
    """The shared keys of a cluster are hashes; name the cluster by re-segmenting one member's text."""
    names: dict[int, list[str]] = {}
    for i, group in enumerate(groups):
        weight: defaultdict[int, float] = defaultdict(float)
        for cid in group:
            for key, w in vectors[cid].items():
                weight[key] += w
        top_keys = set(sorted(weight, key=lambda k: -weight[k])[:5])
        first = Case.objects.filter(pk=group[0]).values_list("title", "content").first()
        if first is None:
            continue
        words = terms(request_text(*first))
        names[i] = [w for w in words if hashed("w", w) in top_keys][:5]
    return names


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


INDEXED_ACTIONS = frozenset({lifecycle.Action.CREATE, lifecycle.Action.SAVE_DRAFT})


def wants_index(event: Any) -> bool:
    return event.action in INDEXED_ACTIONS


def on_case_events(sender: Any, *, events: Sequence[Any], **_: Any) -> None:
    """Queued receiver of `case_transitioned` (the case-events job, after commit and off the request): each
    request registered or rewritten in the batch is (re)indexed from its text as the job reads it, and its
    embedding marked due for the worker. A case with several such events in the batch is indexed once."""
    cases = {event.case_id: event.case for event in events if event.action in INDEXED_ACTIONS}
    if cases:
        index_and_mark_many(list(cases.values()))


def index_and_mark(case: Case) -> None:
    """`index_case` and `mark_for_embedding` together, committed together."""
    index_and_mark_many([case])


def index_and_mark_many(cases: Sequence[Case]) -> None:
    """`index_case` and `mark_for_embedding` for each of `cases` (distinct), committed together. On PostgreSQL
    one statement for them all (its data-modifying CTEs are atomic on their own)."""
    from hotline.cases.models import RequestEmbedding, RequestKey

    if connection.vendor != "postgresql":
        with transaction.atomic():  # one commit for both
            for case in cases:
                index_case(case)
                mark_for_embedding(case)
        return
    case_ids: list[int] = []
    key_values: list[int] = []
    weights: list[float] = []
    ats: list[dt.datetime] = []
    for case in cases:
        for key, weight in index_keys(case):
            case_ids.append(case.pk)
            key_values.append(key)
            weights.append(weight)
            ats.append(case.created_at)
    keys = connection.ops.quote_name(RequestKey._meta.db_table)
    embeddings = connection.ops.quote_name(RequestEmbedding._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH gone AS (DELETE FROM {keys} WHERE case_id = ANY(%s::bigint[])), "
            f'added AS (INSERT INTO {keys} ("key", weight, case_id, "at") '
            "SELECT k, w, c, a FROM UNNEST(%s::bigint[], %s::double precision[], %s::bigint[], "
            "%s::timestamptz[]) AS t(k, w, c, a)) "
            f"INSERT INTO {embeddings} (case_id, text_key, vector, at) "
            "SELECT c, t, NULL, a FROM UNNEST(%s::bigint[], %s::bytea[], %s::timestamptz[]) AS e(c, t, a) "
            "ON CONFLICT (case_id) DO UPDATE SET text_key = EXCLUDED.text_key, vector = NULL, at = EXCLUDED.at "
            f"WHERE {embeddings}.text_key <> EXCLUDED.text_key",
            [
                [case.pk for case in cases],
                key_values,
                weights,
                case_ids,
                ats,
                [case.pk for case in cases],
                [sim.text_key(case.title, case.content) for case in cases],
                [case.created_at for case in cases],
            ],
        )
