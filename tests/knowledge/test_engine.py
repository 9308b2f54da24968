"""The tantivy engine on its own: exact substring semantics, OR ranking, filters, highlighting."""

from __future__ import annotations

import datetime as dt

import pytest

from hotline.knowledge.engine import IndexDoc, SearchFilters, snippet
from hotline.knowledge.query import parse_query
from hotline.knowledge.tantivy_engine import TantivyEngine, bigrams, keyword_terms

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def doc(item_id: int, body: str, *, title: str = "", directory: int = 10, **extra: object) -> IndexDoc:
    values: dict[str, object] = {
        "item_id": item_id,
        "space_id": 1,
        "directory_id": directory,
        "ancestor_ids": (1, directory),
        "title": title or f"条目{item_id}",
        "keywords": "",
        "body": body,
    }
    values.update(extra)
    return IndexDoc(**values)  # type: ignore[arg-type]


@pytest.fixture
def engine() -> TantivyEngine:
    e = TantivyEngine()  # in memory
    e.index_many(
        [
            doc(1, "社保卡补办须本人持身份证到窗口办理。"),
            doc(2, "社保缴费基数每年调整；银行卡可以代扣。"),  # 社保 and 保卡? no: "社保" and "卡" apart
            doc(3, "社保。保卡之间有句号"),  # 社保 and 保卡 both present, never 社保卡
            doc(4, "医保报销比例与社保卡无关，医保目录另行公布。"),
            doc(5, "公积金提取需要提供购房合同。", directory=20),
            doc(6, "ETC设备在高速公路服务区办理。", views=50),
            doc(7, "社保转移接续到外省，办理医保和社保卡转移。", views=5),
        ]
    )
    return e


def ids(engine: TantivyEngine, q: str, **filters: object) -> list[int]:
    values: dict[str, object] = {"now": NOW, "limit": 100, **filters}
    result = engine.search(parse_query(q), SearchFilters(**values))  # type: ignore[arg-type]
    return [h.item_id for h in result.hits]


def test_tokens_positions_are_character_offsets() -> None:
    assert bigrams("社保卡，ab") == "社保 保卡 卡| |a ab"
    assert keyword_terms("社保卡") == [(0, "社保"), (1, "保卡")]
    assert keyword_terms("社保卡补办") == [(0, "社保"), (2, "卡补"), (3, "补办")]


def test_keyword_is_exact_substring(engine: TantivyEngine) -> None:
    assert sorted(ids(engine, "社保卡")) == [1, 4, 7]  # not 3: 社保 and 保卡 across a full stop
    assert sorted(ids(engine, "保卡")) == [1, 3, 4, 7]
    assert sorted(ids(engine, "社保卡补办")) == [1]
    assert ids(engine, "社保卡补办须本人") == [1]
    assert ids(engine, "卡补办须本人持身份证到窗口办理") == [1]


def test_single_character_and_latin(engine: TantivyEngine) -> None:
    assert sorted(ids(engine, "税")) == []
    assert sorted(ids(engine, "购")) == [5]
    assert ids(engine, "etc") == [6]
    assert ids(engine, "ＥＴＣ设备") == [6]


def test_and(engine: TantivyEngine) -> None:
    assert sorted(ids(engine, "社保 医保")) == [4, 7]
    assert ids(engine, "社保 公积金") == []


@pytest.mark.parametrize(
    "q", ["公积金 OR ETC", "公积金-ETC", "公积金——ETC", "公积金 或 ETC", "公积金 or etc"]
)
def test_every_or_spelling_finds_either(engine: TantivyEngine, q: str) -> None:
    assert sorted(ids(engine, q)) == [5, 6]


def test_or_results_with_more_keywords_first(engine: TantivyEngine) -> None:
    # 7 has all three, 4 has 医保 and 社保卡, 1 only 社保卡, 2 only 转移? no: 2 has none of them.
    found = ids(engine, "转移 OR 医保 OR 社保卡")
    assert found[0] == 7
    assert found[1] == 4
    assert set(found[2:]) == {1}


def test_sort_by_views(engine: TantivyEngine) -> None:
    assert ids(engine, "办理", sort="views")[:2] == [6, 7]


def test_subtree_filter(engine: TantivyEngine) -> None:
    assert ids(engine, "提取 OR 社保卡", subtree_id=20) == [5]
    assert 5 not in ids(engine, "提取 OR 社保卡", subtree_id=10)


def test_permission_filters(engine: TantivyEngine) -> None:
    assert ids(engine, "提取 OR 社保卡", allowed_dir_ids=[20]) == [5]
    assert 5 not in ids(engine, "提取 OR 社保卡", denied_dir_ids=[20])


def test_validity_period() -> None:
    e = TantivyEngine()
    e.index_many(
        [
            doc(1, "旧政策：社保缴费", valid_to=NOW - dt.timedelta(seconds=1)),
            doc(2, "新政策：社保缴费", valid_from=NOW + dt.timedelta(days=1)),
            doc(
                3,
                "现行政策：社保缴费",
                valid_from=NOW - dt.timedelta(days=1),
                valid_to=NOW + dt.timedelta(days=1),
            ),
        ]
    )
    assert ids(e, "社保缴费") == [3]
    assert ids(e, "社保缴费", now=NOW + dt.timedelta(days=2)) == [2]


def test_public_only() -> None:
    e = TantivyEngine()
    e.index_many([doc(1, "内部口径：社保", is_public=False), doc(2, "公开答复：社保", is_public=True)])
    assert ids(e, "社保", public_only=True) == [2]


def test_reindex_replaces_and_remove(engine: TantivyEngine) -> None:
    engine.index(doc(5, "公积金贷款额度调整。", directory=20))
    assert ids(engine, "购房合同") == []
    assert ids(engine, "贷款额度") == [5]
    engine.remove(5)
    assert ids(engine, "贷款额度") == []


def test_highlighting(engine: TantivyEngine) -> None:
    result = engine.search(parse_query("社保卡 身份证"), SearchFilters(now=NOW))
    hit = result.hits[0]
    assert "<em>社保卡</em>" in hit.snippet_html and "<em>身份证</em>" in hit.snippet_html
    assert hit.matched == ("社保卡", "身份证")


def test_snippet_escapes_html_and_marks_case_insensitively() -> None:
    html, matched = snippet("<b>ETC</b> 办理", ["etc"])
    assert html == "&lt;b&gt;<em>ETC</em>&lt;/b&gt; 办理"
    assert matched == ("etc",)


def test_on_disk_index_reopens(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "idx"
    first = TantivyEngine(path)
    first.index(doc(1, "社保卡"))
    second = TantivyEngine(path)
    assert second.count() == 1


def test_ngram_fields_stay_inside_runs() -> None:
    from hotline.knowledge.tantivy_engine import ngrams

    assert ngrams("社保卡，医保卡补办", 3) == "社保卡 医保卡 保卡补 卡补办"
    assert ngrams("社保，卡", 4) == ""


def test_three_and_four_character_keywords_do_not_cross_punctuation() -> None:
    e = TantivyEngine()
    e.index_many([doc(1, "社保，卡号"), doc(2, "社保卡号")])
    assert ids(e, "社保卡") == [2]
    assert ids(e, "社保卡号") == [2]
    assert ids(e, "保卡号") == [2]


def test_ids_only_without_highlighting(engine: TantivyEngine) -> None:
    result = engine.search(parse_query("社保卡"), SearchFilters(now=NOW, limit=100, highlight=False))
    assert sorted(h.item_id for h in result.hits) == [1, 4, 7]
    assert result.total == 3 and all(h.snippet_html == "" for h in result.hits)


OPEN_AFTER_SCHEMA_CHANGE = """
import json, logging, sys
import django
django.setup()
import tantivy
from hotline.knowledge.tantivy_engine import SCHEMA_VERSION, TantivyEngine
from pathlib import Path
path = Path(sys.argv[1])
old = path / f"v{SCHEMA_VERSION}"
old.mkdir(parents=True)
sb = tantivy.SchemaBuilder()
sb.add_text_field("something_else", stored=True)
w = tantivy.Index(sb.build(), path=str(old)).writer()
w.add_document(tantivy.Document(something_else="旧索引的内容"))
w.commit()
w.wait_merging_threads()
del w
warnings = []
handler = logging.Handler()
handler.emit = lambda record: warnings.append(record.getMessage())
logging.getLogger("hotline.knowledge.tantivy_engine").addHandler(handler)
engine = TantivyEngine(path)
print(json.dumps({"warnings": warnings, "count": engine.count()}))
"""


def test_changed_schema_starts_an_empty_index(tmp_path: object) -> None:
    """An index left by an older release (another schema) is replaced, with a warning naming the rebuild
    command. Run in a fresh process, as at a release's first start (tantivy keeps per-process state about the
    directories a process opened)."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    path = Path(str(tmp_path)) / "idx"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    out = subprocess.run(
        [sys.executable, "-c", OPEN_AFTER_SCHEMA_CHANGE, str(path)],
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert any("rebuild_kb_index" in w for w in result["warnings"])
    assert result["count"] == 0
    engine = TantivyEngine(path)  # the replaced index is usable
    engine.index(doc(1, "社保卡激活"))
    assert ids(engine, "激活") == [1]
