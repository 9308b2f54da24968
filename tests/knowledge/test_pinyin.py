"""Directory search by pinyin: full (`shebao`), initials (`sb`), fuzzy mixes; only readable directories."""

from __future__ import annotations

import pytest

from hotline.knowledge import selectors, services
from hotline.knowledge.services import GrantInput
from hotline.knowledge.text import pinyin_full, pinyin_initials, pinyin_matches, pinyin_syllables
from tests.conftest import People

from .conftest import KB


def test_pinyin_fields() -> None:
    assert pinyin_full("社保卡") == "shebaoka"
    assert pinyin_initials("社保卡") == "sbk"
    assert pinyin_syllables("ETC办理") == ["etc", "ban", "li"]
    assert pinyin_initials("12345热线") == "12345rx"


@pytest.mark.parametrize("query", ["shebao", "sb", "shb", "sbao", "shebaok", "SheBao", "baoka", "bk"])
def test_fuzzy_matches(query: str) -> None:
    assert pinyin_matches(query, pinyin_syllables("社保卡"))


@pytest.mark.parametrize("query", ["yibao", "sbx", "shebaoxian", "kb", "x"])
def test_fuzzy_non_matches(query: str) -> None:
    assert not pinyin_matches(query, pinyin_syllables("社保卡"))


def names(kb: KB, user: object, q: str) -> list[str]:
    return [d.name for d in selectors.directory_search(user=user, query=q, space=kb.space.pk)]  # type: ignore[arg-type]


def test_directory_search(kb: KB, people: People) -> None:
    assert names(kb, people.agent, "shebao") == ["社保卡"]
    assert names(kb, people.agent, "sb") == ["社保卡"]
    assert names(kb, people.agent, "shbz") == ["社会保障"]
    assert names(kb, people.agent, "yl") == ["医疗保险"]
    assert names(kb, people.agent, "bx") == ["医疗保险"]  # from any syllable on (保险)
    assert names(kb, people.agent, "保") == ["社会保障", "社保卡", "医疗保险"]
    assert names(kb, people.agent, "sw") == []  # 税务 exists but the agent cannot read it
    assert names(kb, people.tax, "sw") == ["税务"]


def test_renaming_updates_pinyin(kb: KB, people: People) -> None:
    services.directory_update(actor=kb.editor, directory=kb.card, name="市民卡")
    assert names(kb, people.agent, "smk") == ["市民卡"]
    assert names(kb, people.agent, "shebao") == []


def test_directory_search_api(kb: KB, people: People, api: object) -> None:
    from tests.conftest import as_user

    hidden = services.directory_create(
        actor=kb.admin, space=kb.space, parent=kb.social, name="社保内部", grants=[GrantInput(can_read=False)]
    )
    client = as_user(api, people.agent)  # type: ignore[arg-type]
    body = client.get("/api/v1/kb/directories/search/", {"q": "sb"}).json()
    assert [d["name"] for d in body] == ["社保卡"]
    assert body[0]["breadcrumb"] == "社会保障/社保卡"
    assert hidden.pk not in [d["id"] for d in body]
