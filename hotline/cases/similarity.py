"""Are two requests the same matter? (INT-5) — the pair judgement shared by intake screening, hot clusters and
`manage.py duplicates_eval`.

Two signals, measured on labelled pairs of real messages in bench/duplicates_eval.py:
- **meaning**: the cosine of the two texts' multilingual-e5-small embeddings (title + the first characters of
  the content, `EMBED_CHARS`). It sees through other words, other lengths and other segmentations, but it also
  finds "a broken street light in estate X" close to "a broken street light in estate Y";
- **place**: the places and organisations each request names — estates, schools, roads, villages, companies,
  projects (names ending in 小区, 花园, 中学, 路, 村, 公司 …) and the anonymised district / city codes (A市, A3区,
  K9县). Names are compared by their characters (伊景园滨河苑 ~ 伊景园滨河院, typos and dropped suffixes
  tolerated). Two requests naming *different* places are pushed apart, naming the same one pulled together.

score = cosine + PLACE_BONUS × place overlap − PLACE_PENALTY × (both name places, none shared)
        − AREA_PENALTY × (different district or city codes) − TITLE_PLACE_PENALTY × (the titles name different
        places: each title names a place the other request nowhere names, `title_conflict`)
        − SUBJECT_PENALTY × (the titles' problem words are mostly absent from the other request, `subject_conflict`);
a duplicate when score ≥ THRESHOLD. The threshold, the bonus and the area penalty were chosen on the development
half of the labelled pairs only (bench/data/duplicate_pairs_teddy.csv, split "dev"; `--tune` prints the grid).
PLACE_PENALTY is 0: on the dev pairs any penalty for differently named places lowered F1 (0.929 with 0,
0.913 with 0.04: place extraction is noisy and true pairs "conflict"); it stays a parameter. Different anonymised
district / city codes (A2区 vs A5区) are refused through AREA_PENALTY; two estates with real names and one
complaint template were NOT told apart by this judgement (cosine ≈ 0.97); since session 9 the titles' places are
compared (TITLE_PLACE_PENALTY: the subject of a request is named in its title — "柏家塘小区 KTV" vs "燕联小区 KTV"
— while its body names many places in passing), chosen on the dev pairs (286 with session 9's 91). Since session 10
the titles' subjects are compared too (SUBJECT_PENALTY: one school or estate with another problem — "中秋节不放假" vs
"收费不合理"), chosen with the threshold by 5-fold cross-validation on the same dev pairs.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from hotline.common import embedding

EMBED_CHARS = 128
# Chosen on the development pairs (bench/duplicates_eval.py --tune prints the grid).
THRESHOLD = 0.9375
PLACE_BONUS = 0.02
PLACE_PENALTY = 0.0
AREA_PENALTY = 0.12
# Both titles name a place and neither title's place is named anywhere in the other request (session 9, dev
# pairs: any value from 0.04 up gives the same F1 — it acts as a veto; 0.06 kept as a penalty, not a rule).
TITLE_PLACE_PENALTY = 0.06
# The titles' subjects: neither title's problem words (its words once places, codes and request verbs are cut) are
# mostly named in the other request — at most SUBJECT_COVER of them — "K市职业技术学院中秋节不放假" vs "K市职业技术学院
# 收费不合理" (session 10, chosen with THRESHOLD by cross-validation on the dev pairs; `subject_conflict`).
SUBJECT_PENALTY = 0.02
SUBJECT_COVER = 0.34

_SPACE = re.compile(r"\s+")
# A place or organisation: 2–10 name characters before a suffix that says what it is. Non-greedy, so
# "A市A2区丽发新城小区" yields "丽发新城小区" after the codes are cut off below.
_SUFFIXES = (
    "小区|花园|家园|公寓|广场|新城|新村|大厦|中心|商城|城|苑|府|庭|郡|湾|居|园|国际|华庭|"
    "幼儿园|小学|中学|大学|学院|学校|医院|卫生院|驾校|公司|集团|银行|"
    "村|组|社区|街道|镇|乡|路|大道|街|巷|桥|隧道|高速|线|站|市场|项目|楼盘|工地|公园|水库|河"
)
_PLACE = re.compile(rf"([\u4e00-\u9fa5A-Za-z0-9]{{2,10}}?(?:{_SUFFIXES}))")
# Anonymised administrative codes: a city letter (A市), a district or county (A3区, K9县, A9市 as a county-level
# city). A code followed by 路/大道/街 is an anonymised road name ("A1区路"), not an area.
_AREA = re.compile(r"(?<![A-Za-z0-9])([A-N])(\d{0,2})(市|区|县)(?!路|大道|街|道|中路|北路|南路|东路|西路)")
# Words that name no particular place on their own.
_GENERIC = frozenset(
    "小区 花园 家园 公寓 广场 新城 新村 大厦 中心 商城 城 苑 府 庭 郡 湾 居 园 国际 华庭 幼儿园 小学 中学 大学 学院 学校 "
    "医院 卫生院 驾校 公司 集团 银行 村 组 社区 街道 镇 乡 路 大道 街 巷 桥 隧道 高速 线 站 市场 项目 楼盘 工地 公园 "
    "水库 河 我们 我家 本人 我们小区 该小区 本小区 这个小区 附近 周边 市民 居民 业主 政府 有限 物业 开发 管理 "
    "相关 领导 书记 市长 县长 西地省 全国 城市 农村 城区 市区 本地 当地 各位 您好 你好 请问 投诉 反映 咨询 "
    "一个 两个 几个 多个 所在 位于 处于 居住 住在 家住 购买 关于 对于 希望 建议 要求 问题".split()
)
_PREFIX_NOISE = re.compile(
    r"^(?:.*(?:我们是|我是|位于|住在|家住|关于|投诉|反映|举报|咨询|请问|希望|建议|请求|要求|强烈|坚决|反对|在|的|是|和|与|及|对|从|到|由|给))"
)
_CODE = re.compile(r"[A-N]\d{0,2}(?:市|区|县)|[\u4e00-\u9fa5]{1,3}(?:省|市|区|县)(?=[\u4e00-\u9fa5]{2})")
# Common words that end in a place suffix but name no place; cut out before names are looked for.
_NOT_PLACES = re.compile(
    r"政府|路灯|路面|路况|路口|马路|道路|线路|城管|城市|城区|进城|县城|组织|部门|单位|门口|楼下|楼上|家园感|"
    r"那盏|这盏|一段路|这条路|那条路|这个|那个"
)
_GENERIC_LONGEST_FIRST = tuple(sorted(_GENERIC, key=len, reverse=True))
# What a title says besides its subject: request verbs, addressees, filler (cut before comparing subjects).
_SUBJECT_STOP = frozenset(
    "投诉 反映 建议 请求 要求 希望 咨询 请问 关于 问题 情况 举报 强烈 严重 相关 部门 领导 政府 市民 居民 业主 我们 "
    "解决 处理 尽快 能否 是否 什么 为何 为什么 怎么 如何 何时 一下 一个 进行 存在 关注 再次 一直 长期 多次 现象 "
    "事情 事宜 有关 申请 市长 书记 您好 你好 尊敬".split()
)
_SUBJECT_CODES = re.compile(r"[A-N]\d{0,2}(?:市|区|县)|西地省|[\u4e00-\u9fa5]{1,3}省")
_WORDLIKE = re.compile(r"[\u4e00-\u9fa5A-Za-z]")


@dataclass(frozen=True)
class Request:
    title: str
    content: str

    @property
    def text(self) -> str:
        return request_text(self.title, self.content)


def request_text(title: str, content: str) -> str:
    title = _SPACE.sub(" ", (title or "").strip())
    content = _SPACE.sub(" ", (content or "").strip())
    return content if not title or content.startswith(title) else f"{title}。{content}"


def embed_input(title: str, content: str) -> str:
    """What is embedded: the title and the beginning of the content (cost grows with length; the matter is said
    first)."""
    return request_text(title, content)[:EMBED_CHARS]


def text_key(title: str, content: str) -> bytes:
    """A short digest of the embedded input: a stored vector is valid while the request's key is unchanged."""
    return hashlib.blake2b(embed_input(title, content).encode(), digest_size=8).digest()


# --------------------------------------------------------------------------- vectors


@functools.lru_cache(maxsize=256)
def _embed_cached(text: str) -> bytes:
    return np.asarray(embedding.model().query(text), dtype=np.float32).tobytes()


def embed(title: str, content: str) -> np.ndarray:
    """The request's L2-normalised embedding (float32). Remembered for the last texts of the process: the
    screening partial embeds while the agent types, so the check at submit finds it ready."""
    return np.frombuffer(_embed_cached(embed_input(title, content)), dtype=np.float32)


def embed_many(requests: Sequence[tuple[str, str]]) -> np.ndarray:
    if not requests:
        return np.zeros((0, embedding.DIM), dtype=np.float32)
    return np.vstack([embed(t, c) for t, c in requests])


def pack(vector: np.ndarray) -> bytes:
    """Stored form: float16 (768 bytes), enough for cosines to ±0.001."""
    return np.asarray(vector, dtype=np.float16).tobytes()


def unpack(data: bytes | memoryview | None) -> np.ndarray:
    if data is None:
        raise ValueError("no stored vector")
    return np.frombuffer(bytes(data), dtype=np.float16).astype(np.float32)


# --------------------------------------------------------------------------- places


@dataclass(frozen=True)
class Places:
    names: frozenset[str]  # specific places / organisations, codes removed
    cities: frozenset[str]  # "A"
    areas: frozenset[str]  # "A3区", "K9县"

    @property
    def grams(self) -> frozenset[str]:
        return frozenset(g for n in self.names for g in _bigrams(n))


def _bigrams(name: str) -> set[str]:
    return {name[i : i + 2] for i in range(len(name) - 1)} if len(name) > 1 else {name}


def _core(name: str) -> str:
    """The distinctive part of a matched name: codes, leading verbs/prepositions and the generic suffix cut."""
    name = _CODE.sub("", name)
    name = _PREFIX_NOISE.sub("", name)
    return name


@functools.lru_cache(maxsize=1024)
def places(text: str) -> Places:
    """The places, organisations and area codes a request names (title and beginning of the content)."""
    head = _NOT_PLACES.sub("，", text[:400])
    names: set[str] = set()
    for raw in _PLACE.findall(head):
        core = _core(raw)
        for suffix in _GENERIC_LONGEST_FIRST:
            if core.endswith(suffix) and len(core) - len(suffix) >= 2:
                stem = core[: -len(suffix)]
                break
        else:
            stem = core
        if len(stem) >= 2 and stem not in _GENERIC and core not in _GENERIC and not stem.isdigit():
            names.add(stem)
    cities: set[str] = set()
    areas: set[str] = set()
    for letter, number, kind in _AREA.findall(head):
        cities.add(letter)
        if number:
            areas.add(f"{letter}{number}{kind}")
    return Places(frozenset(names), frozenset(cities), frozenset(areas))


def place_overlap(a: Places, b: Places) -> float:
    """0–1: how well the best-matching pair of named places agrees, by characters (中茂城 ~ 星沙中茂城,
    伊景园滨河苑 ~ 伊景园滨河院). The best pair, so that the stray phrases a suffix also catches ("…的路") do not
    dilute a shared estate name."""
    best = 0.0
    for x in a.names:
        gx = _bigrams(x)
        for y in b.names:
            gy = _bigrams(y)
            best = max(best, len(gx & gy) / min(len(gx), len(gy)))
            if best >= 1.0:
                return 1.0
    return best


def _same_name(x: str, y: str) -> bool:
    """Two extracted names for one place: most bigrams shared (伊景园滨河苑 ~ 伊景园滨河院), or, for names of 3+
    characters, most characters shared (兴隆砖厂 ~ 隆兴砖厂, 聚利人普惠 ~ 惠普利聚人: the anonymisation and typos
    swap characters)."""
    gx, gy = _bigrams(x), _bigrams(y)
    if len(gx & gy) / min(len(gx), len(gy)) >= 0.67:
        return True
    if len(x) >= 3 and len(y) >= 3:
        sx, sy = set(x), set(y)
        return len(sx & sy) / min(len(sx), len(sy)) >= 0.67
    return False


def _named_in(name: str, text: str) -> bool:
    return name in text or any(_same_name(name, other) for other in places(text).names)


def title_conflict(title_a: str, text_a: str, title_b: str, text_b: str) -> bool:
    """Both titles name a specific place or organisation and neither title's place is named anywhere in the other
    request: one complaint about two estates / schools / companies ("柏家塘小区 KTV 扰民" vs "燕联小区 KTV 噪音
    扰民"). A title naming no place, or a place the other request also names, is no conflict."""
    pa, pb = places(title_a), places(title_b)
    if not (pa.names and pb.names):
        return False
    return not any(_named_in(n, text_b) for n in pa.names) and not any(_named_in(n, text_a) for n in pb.names)


@functools.lru_cache(maxsize=1024)
def subject_words(title: str) -> tuple[str, ...]:
    """What the title complains about: its words (jieba, 2+ characters) once area codes, the places it names and
    request verbs are cut ("投诉K市职业技术学院中秋节不放假" → 学院, 中秋节, 放假)."""
    from hotline.common import segmenter

    rest = _SUBJECT_CODES.sub(" ", title or "")
    for name in sorted(places(title or "").names, key=len, reverse=True):
        rest = rest.replace(name, " ")
    return tuple(
        w
        for w in segmenter.jieba().lcut(rest)
        if len(w) >= 2 and w not in _SUBJECT_STOP and _WORDLIKE.search(w)
    )


def subject_conflict(title_a: str, text_a: str, title_b: str, text_b: str) -> bool:
    """Neither title's subject is mostly named in the other request: at most SUBJECT_COVER of its subject words
    appear there (the same school or estate with another problem: 中秋节不放假 vs 收费不合理). A title with no subject
    words says nothing; two such titles are no conflict."""
    covers = [
        sum(1 for w in words if w in other) / len(words)
        for words, other in ((subject_words(title_a), text_b), (subject_words(title_b), text_a))
        if words
    ]
    return bool(covers) and max(covers) < SUBJECT_COVER


def area_conflict(a: Places, b: Places) -> bool:
    """Both name a city or district code and they share none (A2区 vs A5区, A市 vs B市)."""
    if a.cities and b.cities and not (a.cities & b.cities):
        return True
    return bool(a.areas and b.areas and not (a.areas & b.areas))


# --------------------------------------------------------------------------- the judgement


@dataclass(frozen=True)
class Judgement:
    cosine: float
    overlap: float
    place_conflict: bool
    area_conflict: bool
    score: float
    title_conflict: bool = False
    subject_conflict: bool = False

    @property
    def duplicate(self) -> bool:
        return self.score >= THRESHOLD


def combine(
    cosine: float,
    overlap: float,
    place_conflict: bool,
    area_conflict_: bool,
    *,
    bonus: float = PLACE_BONUS,
    penalty: float = PLACE_PENALTY,
    area_penalty: float = AREA_PENALTY,
    title_conflict_: bool = False,
    title_penalty: float = TITLE_PLACE_PENALTY,
    subject_conflict_: bool = False,
    subject_penalty: float = SUBJECT_PENALTY,
) -> float:
    return (
        cosine
        + bonus * overlap
        - penalty * float(place_conflict)
        - area_penalty * float(area_conflict_)
        - title_penalty * float(title_conflict_)
        - subject_penalty * float(subject_conflict_)
    )


def may_be_duplicate(cosine: float) -> bool:
    """Whether places could still make a pair this close in meaning a duplicate (they add at most PLACE_BONUS)."""
    return cosine + PLACE_BONUS >= THRESHOLD


def judge_vectors(
    text_a: str,
    text_b: str,
    vec_a: np.ndarray,
    vec_b: np.ndarray,
    *,
    full: bool = False,
    titles: tuple[str, str] | None = None,
) -> Judgement:
    """The pair's score and its parts (`text_*` as `request_text` makes them; `titles` the two titles, whose places
    and subjects are compared when given). Unless `full` (the benchmark's grid wants every part), a pair too far apart in
    meaning for places to matter is answered from the cosine alone."""
    cosine = float(np.dot(vec_a, vec_b))
    if not full and not may_be_duplicate(cosine):
        # Places can only add PLACE_BONUS: too far apart in meaning whatever they name (most candidates of a
        # check end here, without reading their places).
        return Judgement(
            cosine=round(cosine, 4),
            overlap=0.0,
            place_conflict=False,
            area_conflict=False,
            score=round(cosine, 4),
        )
    pa, pb = places(text_a), places(text_b)
    overlap = place_overlap(pa, pb)
    conflict = bool(pa.names and pb.names) and overlap < 0.5
    areas = area_conflict(pa, pb)
    titled = title_conflict(titles[0], text_a, titles[1], text_b) if titles else False
    before = combine(cosine, overlap, conflict, areas, title_conflict_=titled)
    # The subject check can only change the verdict of a pair within SUBJECT_PENALTY above the threshold; elsewhere
    # (most candidates) its word segmentation is skipped unless `full`.
    subject = bool(
        titles
        and (full or THRESHOLD <= round(before, 4) < THRESHOLD + SUBJECT_PENALTY)
        and subject_conflict(titles[0], text_a, titles[1], text_b)
    )
    return Judgement(
        cosine=round(cosine, 4),
        overlap=round(overlap, 3),
        place_conflict=conflict,
        area_conflict=areas,
        score=round(
            combine(cosine, overlap, conflict, areas, title_conflict_=titled, subject_conflict_=subject), 4
        ),
        title_conflict=titled,
        subject_conflict=subject,
    )


def judge(a: Request, b: Request) -> Judgement:
    return judge_vectors(
        a.text, b.text, embed(a.title, a.content), embed(b.title, b.content), titles=(a.title, b.title)
    )


def judge_many(query: Request, others: Iterable[tuple[Request, np.ndarray]]) -> list[Judgement]:
    qv = embed(query.title, query.content)
    return [
        judge_vectors(query.text, other.text, qv, vec, titles=(query.title, other.title))
        for other, vec in others
    ]
