"""Related results (issue 11, item 5): when the exact-match search finds nothing or little, look for the words
of the query instead of the query as one phrase.

Callers describe things in their own words ("社保卡掉了", "工资拖欠", "物业不管") while the answers say
"社保卡丢失…补办", "被拖欠工资", "物业服务不到位…投诉". The exact engine (tantivy, see README) finds none of
these. The fallback cuts the query into words with jieba, adds the words of every synonym group (an editable
table, `SynonymGroup`) that shares a word with the query or appears in it, and asks the same engine for items
containing any of them, those containing more of the words first. It goes through the same permission
filters as the exact search, so it never shows what the user may not read.
"""

from __future__ import annotations

from typing import Any

from hotline.common import segmenter
from hotline.common.refcache import RefCache

from .models import SynonymGroup
from .query import ParsedQuery
from .text import normalize

# (words, note): the table a new installation starts with (migration 0002); administrators edit it.
STARTER_GROUPS: list[tuple[str, str]] = [
    ("掉了，丢了，丢失，遗失，补办，挂失", "证件、卡片丢失"),
    ("拖欠，欠薪，讨薪，不发工资，拖欠工资", "工资拖欠"),
    ("不管，不作为，不处理，不到位，没人管，投诉", "无人处理"),
    ("物业，物业公司，物业服务", "物业"),
    ("吵，噪音，扰民，噪声", "噪音"),
    ("乱停，违停，乱停乱放", "停车"),
    ("过期，变质，食品安全", "食品"),
    ("退税，汇算，个税", "个人所得税"),
]

MAX_TERMS = 30
# Words that say nothing about the subject of a request.
STOP_WORDS = frozenset(
    "怎么 怎么办 怎样 如何 什么 为什么 哪里 哪个 可以 能否 能不能 是否 一下 请问 你好 我们 他们 现在 已经 "
    "还是 但是 因为 所以 没有 不是 这个 那个 这样 一直 问题 情况 反映 咨询".split()
)

SYNONYMS = RefCache(SynonymGroup)


def _cutter() -> Any:
    """jieba, loaded once per process with its cache under HOTLINE_VAR_DIR (common/segmenter.py)."""
    return segmenter.jieba()


def seed_synonyms() -> int:
    """The starter groups (idempotent); returns how many were added."""
    made = 0
    for words, note in STARTER_GROUPS:
        made += SynonymGroup.objects.get_or_create(words=words, defaults={"note": note})[1]
    return made


def _groups() -> list[list[str]]:
    return [group.word_list for group in SYNONYMS.all() if group.is_active]


def related_terms(query: str) -> list[str]:
    """The words to look for: the query's own words (jieba, two characters or more, no stop words) and the
    words of every synonym group that has one of them or occurs in the query; the query's words first."""
    text = normalize(query or "")[:200]
    terms: dict[str, None] = {}
    cut = [w.strip() for w in _cutter().cut_for_search(text)]
    for word in cut:
        if len(word) >= 2 and word not in STOP_WORDS and not word.isdigit():
            terms.setdefault(word, None)
    for group in _groups():
        if any(word in terms or (len(word) >= 2 and word in text) or word in cut for word in group):
            for word in group:
                if len(word) >= 2:
                    terms.setdefault(word, None)
    return list(terms)[:MAX_TERMS]


def related_query(query: str) -> ParsedQuery | None:
    terms = related_terms(query)
    if not terms:
        return None
    return ParsedQuery(groups=tuple((term,) for term in terms))
