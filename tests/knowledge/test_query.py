"""The query language: space = AND; OR, -, ——, 或 = OR; bad queries refused with a clear message."""

from __future__ import annotations

import pytest

from hotline.knowledge.query import MAX_QUERY_CHARS, QueryError, parse_query


def test_space_means_and() -> None:
    q = parse_query("社保卡  补办")
    assert q.groups == (("社保卡", "补办"),)
    assert not q.has_or


@pytest.mark.parametrize(
    "text",
    [
        "社保 OR 医保",
        "社保 or 医保",
        "社保-医保",
        "社保 - 医保",
        "社保——医保",
        "社保 —— 医保",
        "社保 或 医保",
        "社保－医保",
    ],
)
def test_every_or_spelling(text: str) -> None:
    q = parse_query(text)
    assert q.groups == (("社保",), ("医保",))
    assert q.has_or


def test_and_binds_tighter_than_or() -> None:
    q = parse_query("社保 转移 OR 医保 报销 或 公积金")
    assert q.groups == (("社保", "转移"), ("医保", "报销"), ("公积金",))
    assert q.keywords == ("社保", "转移", "医保", "报销", "公积金")


def test_or_inside_a_word_is_a_character() -> None:
    # 或 only separates when it stands alone; "或者" is a word.
    assert parse_query("或者社保").groups == (("或者社保",),)
    assert parse_query("社保或医保").groups == (("社保或医保",),)


def test_full_width_and_case_are_normalised() -> None:
    assert parse_query("ＥＴＣ　办理").groups == (("etc", "办理"),)


def test_punctuation_separates_keywords_and_is_reported() -> None:
    q = parse_query("（社保卡，补办")
    assert q.groups == (("社保卡", "补办"),)
    assert q.warnings and "标点" in q.warnings[0]


def test_stray_operators_are_ignored_with_a_note() -> None:
    q = parse_query("OR 社保 OR OR 医保 -")
    assert q.groups == (("社保",), ("医保",))
    assert any("运算符" in w for w in q.warnings)


@pytest.mark.parametrize("text", ["", "   ", "OR", "- —— 或 OR", "——"])
def test_only_operators_or_nothing(text: str) -> None:
    with pytest.raises(QueryError) as err:
        parse_query(text)
    assert err.value.field_errors["q"]


@pytest.mark.parametrize("text", ["（）", "“”《》！？", "((("])
def test_only_punctuation(text: str) -> None:
    with pytest.raises(QueryError, match="没有可检索的文字"):
        parse_query(text)


def test_too_long() -> None:
    with pytest.raises(QueryError, match="过长"):
        parse_query("社保" * 500)
    parse_query("社" * MAX_QUERY_CHARS)


def test_too_many_keywords() -> None:
    with pytest.raises(QueryError, match="关键词过多"):
        parse_query(" ".join(f"词{i}" for i in range(11)))
