"""The /api/v1/kb/ endpoints: thin views over the services and selectors."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from hotline.knowledge import services
from hotline.knowledge.models import Item, ItemState, ViewDay
from hotline.orgs.models import Role
from tests.conftest import City, People, as_user

from .conftest import KB, kb_user, publish


def test_item_lifecycle_through_the_api(kb: KB, people: People, api: Any, commit: Any) -> None:
    editor = as_user(api, kb.editor)
    with commit():
        response = editor.post(
            "/api/v1/kb/items/",
            {
                "directory": kb.card.pk,
                "title": "社保卡密码重置",
                "content": "<p>携带身份证到银行网点重置。</p>",
            },
            format="json",
        )
    assert response.status_code == 201, response.json()
    item = response.json()
    assert item["is_published"] is False and item["pending_version"] is not None
    assert as_user(api, people.agent).get(f"/api/v1/kb/items/{item['id']}/").status_code == 404

    reviewer = as_user(api, kb.reviewer)
    queue = reviewer.get("/api/v1/kb/reviews/").json()["results"]
    assert [v["item"] for v in queue] == [item["id"]]
    with commit():
        approved = reviewer.post(
            f"/api/v1/kb/versions/{queue[0]['id']}/approve/", {"note": "好"}, format="json"
        )
    assert approved.status_code == 200 and approved.json()["status"] == "approved"

    agent = as_user(api, people.agent)
    detail = agent.get(f"/api/v1/kb/items/{item['id']}/").json()
    assert detail["rights"] == {"read": True, "edit": False, "review": False}
    assert Item.objects.get(pk=item["id"]).view_count == 1
    assert ViewDay.objects.get(item_id=item["id"]).count == 1

    found = agent.get("/api/v1/kb/search/", {"q": "密码 OR 挂失"}).json()
    assert found["count"] == 1
    hit = found["results"][0]
    assert hit["id"] == item["id"] and "<em>密码</em>" in hit["title_html"]
    assert hit["directory_path"] == "社会保障/社保卡"

    with commit():
        change = as_user(api, kb.editor).patch(
            f"/api/v1/kb/items/{item['id']}/",
            {"content": "<p>也可在手机银行重置。</p>", "version": 1},
            format="json",
        )
    assert change.status_code == 200, change.json()
    assert change.json()["number"] == 2 and change.json()["title"] == "社保卡密码重置"
    rejected = as_user(api, kb.reviewer).post(
        f"/api/v1/kb/versions/{change.json()['id']}/reject/", {"reason": ""}, format="json"
    )
    assert rejected.status_code == 400 and "reason" in rejected.json()["errors"]

    state = as_user(api, kb.editor).post(
        f"/api/v1/kb/items/{item['id']}/state/", {"action": "pause"}, format="json"
    )
    assert state.status_code == 200 and state.json()["state"] == ItemState.PAUSED
    again = as_user(api, kb.editor).post(
        f"/api/v1/kb/items/{item['id']}/state/", {"action": "pause"}, format="json"
    )
    assert again.status_code == 400 and "不能暂停" in again.json()["detail"]
    assert (
        as_user(api, people.agent)
        .post(f"/api/v1/kb/items/{item['id']}/state/", {"action": "resume"}, format="json")
        .status_code
        == 404
    )


def test_editor_without_right_gets_403(kb: KB, people: People, api: Any) -> None:
    item = publish(kb, kb.card, "标题", "内容")
    response = as_user(api, people.agent).patch(
        f"/api/v1/kb/items/{item.pk}/", {"title": "改"}, format="json"
    )
    assert response.status_code == 403 and response.json()["detail"] == "您没有该目录的编辑权限"


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("", "请输入"),
        ("OR", "只有运算符"),
        ("- —— 或", "只有运算符"),
        ("（）“”", "没有可检索的文字"),
        ("社保" * 500, "过长"),
    ],
)
def test_bad_queries_are_400_with_a_message(kb: KB, people: People, api: Any, q: str, message: str) -> None:
    response = as_user(api, people.agent).get("/api/v1/kb/search/", {"q": q})
    assert response.status_code == 400
    body = response.json()
    assert message in body["detail"] and body["errors"]["q"]


def test_unbalanced_punctuation_is_searched_with_a_warning(
    kb: KB, people: People, api: Any, commit: Any
) -> None:
    with commit():
        item = publish(kb, kb.card, "社保卡补办", "补办需要身份证。")
    body = as_user(api, people.agent).get("/api/v1/kb/search/", {"q": "（社保卡“补办"}).json()
    assert [r["id"] for r in body["results"]] == [item.pk]
    assert "标点" in body["warnings"][0]


def test_search_paging_limits(kb: KB, people: People, api: Any) -> None:
    client = as_user(api, people.agent)
    assert client.get("/api/v1/kb/search/", {"q": "社保", "page": "60"}).status_code == 400
    assert client.get("/api/v1/kb/search/", {"q": "社保", "page_size": "500"}).status_code == 400
    assert client.get("/api/v1/kb/search/", {"q": "社保", "sort": "views"}).status_code == 200


def test_favourites_votes_rankings_stats(kb: KB, people: People, api: Any, commit: Any) -> None:
    with commit():
        a = publish(kb, kb.card, "社保卡激活", "激活金融功能。")
        b = publish(kb, kb.medical, "医保报销", "报销比例。")
    agent = as_user(api, people.agent)
    for _ in range(3):
        agent.get(f"/api/v1/kb/items/{b.pk}/")
    agent.get(f"/api/v1/kb/items/{a.pk}/")
    assert agent.post(f"/api/v1/kb/items/{a.pk}/favourite/").status_code == 204
    assert agent.post(f"/api/v1/kb/items/{a.pk}/favourite/").status_code == 204  # idempotent
    assert [r["id"] for r in agent.get("/api/v1/kb/favourites/").json()["results"]] == [a.pk]
    assert (
        agent.post(f"/api/v1/kb/items/{a.pk}/helpful/", {"helpful": False}, format="json").status_code == 204
    )
    assert (
        agent.post(f"/api/v1/kb/items/{a.pk}/helpful/", {"helpful": True}, format="json").status_code == 204
    )
    a.refresh_from_db()
    assert (a.favourite_count, a.helpful_count, a.unhelpful_count) == (1, 1, 0)
    assert agent.get(f"/api/v1/kb/items/{a.pk}/").json()["is_favourite"] is True

    views = agent.get("/api/v1/kb/rankings/", {"kind": "views", "days": "7"}).json()
    assert [(r["id"], r["figure"]) for r in views] == [(b.pk, 3), (a.pk, 2)]
    assert [r["id"] for r in agent.get("/api/v1/kb/rankings/", {"kind": "latest"}).json()] == [b.pk, a.pk]
    assert [r["id"] for r in agent.get("/api/v1/kb/rankings/", {"kind": "favourites"}).json()] == [a.pk]
    stats = agent.get(f"/api/v1/kb/items/{b.pk}/stats/").json()
    assert stats["views"] == 3 and stats["daily"][0]["views"] == 3
    directory = agent.get(f"/api/v1/kb/directories/{kb.social.pk}/stats/").json()
    assert directory["items"] == 2 and directory["views"] == 5

    assert agent.delete(f"/api/v1/kb/items/{a.pk}/favourite/").status_code == 204
    assert agent.get("/api/v1/kb/favourites/").json()["results"] == []


def test_views_sort_follows_view_counts(kb: KB, people: People, api: Any, commit: Any) -> None:
    with commit():
        a = publish(kb, kb.card, "社保A", "社保内容")
        b = publish(kb, kb.card, "社保B", "社保内容")
    agent = as_user(api, people.agent)
    with commit():
        agent.get(f"/api/v1/kb/items/{b.pk}/")
    order = [
        r["id"] for r in agent.get("/api/v1/kb/search/", {"q": "社保", "sort": "views"}).json()["results"]
    ]
    assert order == [b.pk, a.pk]


def test_directories_api(kb: KB, people: People, api: Any, commit: Any) -> None:
    def admin() -> Any:
        return as_user(api, kb.admin)

    def editor() -> Any:
        return as_user(api, kb.editor)

    created = admin().post("/api/v1/kb/directories/", {"space": kb.space.pk, "name": "公积金"}, format="json")
    assert created.status_code == 201 and created.json()["depth"] == 1
    assert created.json()["rights"] == {"read": True, "edit": True, "review": True}
    refused = editor().post("/api/v1/kb/directories/", {"space": kb.space.pk, "name": "x"}, format="json")
    assert refused.status_code == 403 and "一级目录" in refused.json()["detail"]
    sub = editor().post(
        "/api/v1/kb/directories/",
        {"space": kb.space.pk, "parent": created.json()["id"], "name": "提取"},
        format="json",
    )
    assert sub.status_code == 201
    dup = editor().post(
        "/api/v1/kb/directories/",
        {"space": kb.space.pk, "parent": created.json()["id"], "name": "提取"},
        format="json",
    )
    assert dup.status_code == 400 and dup.json()["errors"]["name"]
    tree = [
        d["name"]
        for d in as_user(api, people.agent).get("/api/v1/kb/directories/", {"space": kb.space.pk}).json()
    ]
    assert tree == ["社会保障", "社保卡", "医疗保险", "公积金", "提取"]  # 税务 is not readable
    grants = admin().put(
        f"/api/v1/kb/directories/{sub.json()['id']}/grants/",
        {"grants": [{"role": "", "can_read": False}, {"role": Role.AGENT, "can_read": True}]},
        format="json",
    )
    assert grants.status_code == 200 and len(grants.json()) == 2
    assert as_user(api, people.west).get(f"/api/v1/kb/directories/{sub.json()['id']}/").status_code == 404
    assert as_user(api, people.agent).get(f"/api/v1/kb/directories/{sub.json()['id']}/").status_code == 200
    move = admin().post(
        f"/api/v1/kb/directories/{sub.json()['id']}/move/", {"parent": kb.social.pk}, format="json"
    )
    assert move.status_code == 200 and move.json()["breadcrumb"] == "社会保障/提取"
    assert admin().delete(f"/api/v1/kb/directories/{created.json()['id']}/").status_code == 204


def test_export_then_import(kb: KB, people: People, api: Any, commit: Any) -> None:
    with commit():
        publish(kb, kb.card, "社保卡激活", "激活金融功能。", keywords="激活 金融")
        publish(kb, kb.medical, "医保报销", "报销比例为70%。", is_public=True)
    exported = as_user(api, people.agent).get(f"/api/v1/kb/directories/{kb.social.pk}/export/")
    assert exported.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(exported.content))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:4] == ("目录", "标题", "关键词", "内容")
    assert {(r[0], r[1]) for r in rows[1:]} == {("社保卡", "社保卡激活"), ("医疗保险", "医保报销")}

    target = services.directory_create(actor=kb.admin, space=kb.space, name="导入测试")
    upload = SimpleUploadedFile("kb.xlsx", exported.content)
    with commit():
        response = as_user(api, kb.editor).post(
            f"/api/v1/kb/directories/{target.pk}/import/", {"file": upload}, format="multipart"
        )
    assert response.status_code == 201, response.json()
    assert response.json() == {"created": 2, "published": 0, "pending": 2, "directories_created": 2}
    imported = Item.objects.filter(directory__path__startswith=target.path)
    assert sorted(imported.values_list("directory__name", "title")) == [
        ("医疗保险", "医保报销"),
        ("社保卡", "社保卡激活"),
    ]
    assert imported.get(title="医保报销").is_public
    assert imported.get(title="社保卡激活").keywords == "激活 金融"


def test_import_with_errors_saves_nothing(kb: KB, api: Any) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["标题", "内容", "生效时间"])
    sheet.append(["好的一行", "内容", "2026-01-01"])
    sheet.append(["", "没有标题", None])
    sheet.append(["日期错", "内容", "明天"])
    out = io.BytesIO()
    book.save(out)
    response = as_user(api, kb.chief).post(
        f"/api/v1/kb/directories/{kb.card.pk}/import/",
        {"file": SimpleUploadedFile("x.xlsx", out.getvalue())},
        format="multipart",
    )
    assert response.status_code == 400
    body = response.json()
    assert "未导入任何数据" in body["detail"]
    assert body["errors"]["rows"] == [
        "第3行：请填写标题",
        "第4行：生效时间格式不正确（应为 2026-01-31 或 2026-01-31 08:00）",
    ]
    assert not Item.objects.exists()
    bad = as_user(api, kb.chief).post(
        f"/api/v1/kb/directories/{kb.card.pk}/import/",
        {"file": SimpleUploadedFile("x.xlsx", b"not a zip")},
        format="multipart",
    )
    assert bad.status_code == 400 and "扩展名与内容不符" in bad.json()["detail"]


def test_suggestions_from_case_text(kb: KB, people: People, api: Any, commit: Any) -> None:
    with commit():
        card = publish(kb, kb.card, "社保卡丢失补办", "社保卡丢失后先挂失再补办。")
        publish(kb, kb.medical, "医保异地就医", "异地就医需备案。")
    text = "市民来电称其社保卡丢失了，想咨询如何补办"
    body = as_user(api, people.agent).post("/api/v1/kb/suggest/", {"text": text}, format="json").json()
    assert body["results"][0]["id"] == card.pk
    assert (
        as_user(api, people.agent)
        .post("/api/v1/kb/suggest/", {"text": "。。。"}, format="json")
        .json()["results"]
        == []
    )


def test_spaces_api(kb: KB, people: People, city: City, api: Any) -> None:
    assert [s["code"] for s in as_user(api, people.agent).get("/api/v1/kb/spaces/").json()] == ["HOTLINE"]
    refused = as_user(api, kb.admin).post(
        "/api/v1/kb/spaces/", {"name": "税务知识库", "code": "TAX"}, format="json"
    )
    assert refused.status_code == 403
    root = kb_user("sysadmin", city.office, Role.ADMIN)
    made = as_user(api, root).post("/api/v1/kb/spaces/", {"name": "税务知识库", "code": "TAX"}, format="json")
    assert made.status_code == 201
    # A new space without directories is invisible to ordinary users.
    assert [s["code"] for s in as_user(api, people.agent).get("/api/v1/kb/spaces/").json()] == ["HOTLINE"]


def test_tenants_are_searched_together_or_apart(
    kb: KB, city: City, people: People, api: Any, commit: Any
) -> None:
    root = kb_user("sysadmin", city.office, Role.ADMIN)
    other = services.space_create(actor=root, name="税务局知识库", code="TAX", admins=[people.tax])
    tax_root = services.directory_create(actor=people.tax, space=other, name="纳税服务")
    with commit():
        a = publish(kb, kb.card, "社保卡与个税", "个税APP可查社保。")
        b = publish(kb, tax_root, "个税汇算", "个税汇算每年3月开始。", actor=people.tax)
    agent = as_user(api, people.agent)
    assert sorted(
        r["id"] for r in agent.get("/api/v1/kb/search/", {"q": "个税"}).json()["results"]
    ) == sorted([a.pk, b.pk])
    only = agent.get("/api/v1/kb/search/", {"q": "个税", "space": str(other.pk)}).json()["results"]
    assert [r["id"] for r in only] == [b.pk]


def test_attachment_download_is_scoped(kb: KB, people: People, api: Any) -> None:
    item = services.item_create(
        actor=people.tax,
        directory=kb.tax,
        data=services.ItemInput(title="t", content="<p>c</p>"),
        attachments=[SimpleUploadedFile("a.txt", "税务内部".encode())],
    )
    attachment = item.attachments.get()
    assert as_user(api, people.tax).get(f"/api/v1/kb/attachments/{attachment.pk}/").status_code == 200
    assert as_user(api, people.west).get(f"/api/v1/kb/attachments/{attachment.pk}/").status_code == 404
