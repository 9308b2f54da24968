"""Issue 11, item 5: staff search finds what callers say in their own words. The exact engine finds nothing
for "社保卡掉了", "工资拖欠", "物业不管" in the demo knowledge base; the related results (jieba words and the
editable synonym table) find the answers, within the user's permissions."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from hotline.demo.knowledge import seed_knowledge
from hotline.knowledge import selectors
from hotline.knowledge.models import Item, SynonymGroup
from hotline.knowledge.related import related_terms, seed_synonyms
from hotline.orgs.models import Role
from tests.conftest import People, as_user

from .conftest import KB, kb_user

EXPECTED = {
    "社保卡掉了": "社保卡补办流程",
    "工资拖欠": "被拖欠工资怎么办",
    "物业不管": "对物业服务不满意如何投诉",
}


@pytest.fixture
def demo_kb(kb: KB, commit: Any) -> KB:
    seed_synonyms()
    with commit():
        root = kb_user("demo-root", kb.admin.unit, Role.ADMIN)
        assert seed_knowledge(admin=root, editor=kb.editor) > 10
    return kb


@pytest.mark.parametrize("query", list(EXPECTED))
def test_caller_words_find_the_answer_as_related_results(demo_kb: KB, people: People, query: str) -> None:
    exact = selectors.kb_search(user=people.agent, q=query)
    assert exact.total == 0  # the exact engine finds nothing: this is what staff saw before
    related = selectors.related_search(user=people.agent, q=query)
    titles = [related.items[h.item_id].title for h in related.hits]
    assert titles and titles[0] == EXPECTED[query], titles


def test_terms_come_from_jieba_and_the_synonym_table(db: Any) -> None:
    seed_synonyms()
    terms = related_terms("社保卡掉了")
    assert "社保卡" in terms and "丢失" in terms and "补办" in terms
    assert "了" not in terms and "掉" not in terms
    assert related_terms("怎么办") == []


def test_an_administrator_edits_the_synonyms(demo_kb: KB, people: People) -> None:
    def top(query: str) -> list[str]:
        page = selectors.related_search(user=people.agent, q=query)
        return [page.items[h.item_id].title for h in page.hits]

    assert "异地就医备案" not in top("看病报销")[:1]
    root = kb_user("root2", people.agent.unit, Role.ADMIN)
    client = Client()
    client.force_login(root)
    response = client.post(
        "/admin/knowledge/synonymgroup/add/", {"words": "看病", "note": "", "is_active": "on"}
    )
    assert "至少填写两个词" in response.content.decode()
    response = client.post(
        "/admin/knowledge/synonymgroup/add/",
        {"words": "看病, 就医、 医保", "note": "就医", "is_active": "on"},
    )
    assert response.status_code == 302
    assert SynonymGroup.objects.filter(words="看病，就医，医保").exists()
    assert top("看病")[0] in {"异地就医备案", "新生儿参加城乡居民医保"}


def test_related_results_respect_permissions(demo_kb: KB, people: People) -> None:
    # 内部口径 is internal and still pending review: no reader finds it, not even by related words.
    internal = Item.objects.get(title="来电人情绪激动时的应答口径")
    page = selectors.related_search(user=people.agent, q="情绪激动 安抚")
    assert internal.pk not in [h.item_id for h in page.hits]
    # Items of the test space's 税务 directory are read by the tax bureau only.
    page = selectors.related_search(user=people.west, q="个税 退税")
    assert all(page.items[h.item_id].directory.name != "税务" for h in page.hits)


def test_screen_and_api_show_related_results(demo_kb: KB, people: People, api: Any) -> None:
    client = Client()
    client.force_login(people.agent)
    html = client.get("/kb/", {"q": "工资拖欠"}).content.decode()
    assert 'data-testid="kb-result-count">0<' in html
    related = html.split('data-testid="kb-related"', 1)[1]
    assert "相关结果" in related and "被拖欠工资怎么办" in re.sub(r"<[^>]+>", "", related)
    data = as_user(api, people.agent).get("/api/v1/kb/search/", {"q": "物业不管"}).json()
    assert data["count"] == 0 and data["related"]
    assert data["related"][0]["title"] == "对物业服务不满意如何投诉"
    # Enough exact hits: no related block.
    data = as_user(api, people.agent).get("/api/v1/kb/search/", {"q": "办理"}).json()
    assert data["count"] >= selectors.RELATED_BELOW and data["related"] == []
