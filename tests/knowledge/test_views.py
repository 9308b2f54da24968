"""The knowledge-base staff screens: scoping (404, nothing in search), search, item page, review flow."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from hotline.knowledge import services
from hotline.knowledge.models import Favourite, HelpfulVote, Item, ItemVersion, VersionStatus
from hotline.knowledge.services import ItemInput
from tests.conftest import People

from .conftest import KB, content, fresh, publish


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_nav_link_and_pages_render(kb: KB, people: People) -> None:
    client = client_for(people.agent)
    home = client.get("/").content.decode()
    assert 'data-testid="nav-kb"' in home and "知识库" in home
    for url in [
        "/kb/",
        "/kb/directories/",
        f"/kb/directories/{kb.social.pk}/",
        "/kb/rankings/",
        "/kb/reviews/",
    ]:
        assert client.get(url).status_code == 200, url
    assert Client().get("/kb/").status_code == 302  # login required


def test_user_without_read_gets_404_and_sees_nothing_in_search(kb: KB, people: People, commit: Any) -> None:
    with commit():
        secret = publish(kb, kb.tax, "个税汇算清缴", "个税汇算清缴办理指南", actor=kb.admin)
        public = publish(kb, kb.card, "社保卡补办", "社保卡补办指南，个税无关")
    agent = client_for(people.agent)
    assert agent.get(f"/kb/items/{secret.pk}/").status_code == 404
    assert agent.get(f"/kb/items/{secret.pk}/edit/").status_code == 404
    assert agent.post(f"/kb/items/{secret.pk}/favourite/").status_code == 404
    assert agent.get(f"/kb/directories/{kb.tax.pk}/").status_code == 404
    assert agent.get(f"/kb/?q=个税&directory={kb.tax.pk}").status_code == 404
    page = agent.get("/kb/?q=个税").content.decode()
    assert "汇算清缴" not in page and f"/kb/items/{secret.pk}/" not in page
    assert f"/kb/items/{public.pk}/" in page
    tree = agent.get("/kb/directories/").content.decode()
    assert "税务" not in tree and "社保卡" in tree
    suggestions = agent.post("/kb/partials/suggest/", {"content": "我要办理个税汇算清缴"}).content.decode()
    assert "汇算清缴" not in suggestions
    # the tax bureau reads it
    tax = client_for(people.tax)
    assert tax.get(f"/kb/items/{secret.pk}/").status_code == 200
    assert f"/kb/items/{secret.pk}/" in tax.get("/kb/?q=个税").content.decode()


def test_search_highlights_pages_and_reports_query_errors_inline(kb: KB, people: People, commit: Any) -> None:
    with commit():
        for i in range(25):
            publish(kb, kb.card, f"社保卡问题{i}", f"关于社保卡激活的第{i}条说明")
        publish(kb, kb.medical, "医保报销", "医保报销材料")
    client = client_for(people.agent)
    page = client.get("/kb/?q=社保卡 激活&sort=relevance").content.decode()
    assert 'data-testid="kb-result-count">25<' in page
    assert "<em>社保卡</em>" in page and "<em>激活</em>" in page
    assert "下一页" in page and "第 1 / 2 页" in page
    assert "第 2 / 2 页" in client.get("/kb/?q=社保卡 激活&page=2").content.decode()
    subtree = client.get(f"/kb/?q=医保 OR 社保卡&directory={kb.medical.pk}").content.decode()
    assert 'data-testid="kb-result-count">1<' in subtree
    for bad, message in [("", "请输入"), ("，。！", "")]:
        html = client.get("/kb/", {"q": bad}).content.decode()
        assert 'data-testid="kb-query-error"' in html and message in html
    too_long = client.get("/kb/", {"q": "字" * 101}).content.decode()
    assert 'data-testid="kb-query-error"' in too_long and "100" in too_long


def test_item_page_counts_a_view_and_toggles_favourite_and_helpful(kb: KB, people: People) -> None:
    item = publish(kb, kb.card, "社保卡挂失", "社保卡挂失请拨打12333")
    client = client_for(people.agent)
    html = client.get(f"/kb/items/{item.pk}/").content.decode()
    assert "社保卡挂失请拨打12333" in html and 'data-testid="kb-view-count">1<' in html
    assert fresh(item).view_count == 1
    response = client.post(f"/kb/items/{item.pk}/favourite/", HTTP_HX_REQUEST="true")
    assert "已收藏" in response.content.decode()
    assert Favourite.objects.filter(user=people.agent, item=item).exists()
    client.post(f"/kb/items/{item.pk}/favourite/", HTTP_HX_REQUEST="true")
    assert not Favourite.objects.filter(user=people.agent, item=item).exists()
    response = client.post(f"/kb/items/{item.pk}/helpful/", {"helpful": "1"}, HTTP_HX_REQUEST="true")
    assert "有帮助" in response.content.decode() and "（1）" in response.content.decode()
    client.post(f"/kb/items/{item.pk}/helpful/", {"helpful": "0"})
    assert HelpfulVote.objects.get(user=people.agent, item=item).helpful is False
    assert (fresh(item).helpful_count, fresh(item).unhelpful_count) == (0, 1)


def test_attachment_download_is_scoped(kb: KB, people: People) -> None:
    upload = SimpleUploadedFile("指南.txt", "个税申报指南".encode())
    item = services.item_create(
        actor=kb.admin,
        directory=kb.tax,
        data=ItemInput(title="个税", content=content("个税")),
        attachments=[upload],
    )
    attachment = item.attachments.get()
    assert client_for(people.agent).get(f"/kb/attachments/{attachment.pk}/").status_code == 404
    response = client_for(people.tax).get(f"/kb/attachments/{attachment.pk}/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == "个税申报指南".encode()  # type: ignore[attr-defined]


def test_review_flow_through_the_screens(kb: KB, people: People) -> None:
    editor, reviewer = client_for(kb.editor), client_for(kb.reviewer)
    # the editor creates an item with the form: it waits for review
    form = editor.get(f"/kb/items/new/?directory={kb.card.pk}").content.decode()
    assert "社保卡" in form
    response = editor.post(
        "/kb/items/new/",
        {
            "directory": kb.card.pk,
            "title": "社保卡激活",
            "keywords": "激活，银行",
            "content": "第一行\n第二行",
            "attachments": [SimpleUploadedFile("说明.txt", "到银行网点激活".encode())],
        },
    )
    item = Item.objects.get(title="社保卡激活")
    assert response.status_code == 302 and response["Location"] == f"/kb/items/{item.pk}/"
    assert item.content == "<p>第一行</p><p>第二行</p>" and item.keywords == "激活 银行"
    assert not item.is_published
    # readers do not see it; the reviewer has it in the queue
    assert client_for(people.agent).get(f"/kb/items/{item.pk}/").status_code == 404
    queue = reviewer.get("/kb/reviews/").content.decode()
    version = ItemVersion.objects.get(item=item)
    assert f'data-testid="kb-review-{version.pk}"' in queue and "说明.txt" in queue
    assert 'data-testid="kb-review-count">1<' in queue
    # rejecting needs a reason
    reviewer.post(f"/kb/versions/{version.pk}/reject/", {"reason": " "})
    assert ItemVersion.objects.get(pk=version.pk).status == VersionStatus.PENDING
    assert "请填写退回原因" in reviewer.get("/kb/reviews/").content.decode()
    reviewer.post(f"/kb/versions/{version.pk}/reject/", {"reason": "请补充激活地点"})
    assert ItemVersion.objects.get(pk=version.pk).status == VersionStatus.REJECTED
    mine = editor.get("/kb/reviews/").content.decode()
    assert "请补充激活地点" in mine and "已退回" in mine
    # the editor changes it; the reviewer approves; readers now see it
    edit = editor.get(f"/kb/items/{item.pk}/edit/").content.decode()
    assert "说明.txt" in edit
    response = editor.post(
        f"/kb/items/{item.pk}/edit/",
        {
            "title": "社保卡激活",
            "content": "<p>到任一合作银行网点激活</p>",
            "change_note": "补充地点",
            "version": 1,
        },
    )
    assert response.status_code == 302
    second = ItemVersion.objects.get(item=item, number=2)
    assert second.status == VersionStatus.PENDING and second.attachments.count() == 1
    response = reviewer.post(f"/kb/versions/{second.pk}/approve/", {"note": "好"})
    assert response.status_code == 302 and response["Location"] == "/kb/reviews/"
    assert fresh(item).is_published and fresh(item).content == "<p>到任一合作银行网点激活</p>"
    assert "到任一合作银行网点激活" in client_for(people.agent).get(f"/kb/items/{item.pk}/").content.decode()
    # a reader cannot approve or reach the edit form
    assert client_for(people.agent).post(f"/kb/versions/{second.pk}/approve/").status_code in (302, 404)
    assert client_for(people.agent).get(f"/kb/items/{item.pk}/edit/").status_code == 404
    assert client_for(people.agent).get("/kb/items/new/").status_code == 404


def test_stale_edit_is_refused_inline(kb: KB) -> None:
    item = publish(kb, kb.card, "社保卡", "内容一")
    services.item_update(actor=kb.chief, item=item, data=ItemInput(title="社保卡", content=content("内容二")))
    html = (
        client_for(kb.chief)
        .post(f"/kb/items/{item.pk}/edit/", {"title": "社保卡", "content": "内容三", "version": 1})
        .content.decode()
    )
    assert "已有新的修改" in html
    assert fresh(item).content == content("内容二")


def test_directory_screen_pinyin_search_and_import(kb: KB, people: People) -> None:
    publish(kb, kb.card, "社保卡补办", "补办流程")
    client = client_for(kb.chief)
    html = client.get(f"/kb/directories/{kb.social.pk}/").content.decode()
    assert (
        "社保卡补办" in html
        and 'data-testid="kb-export-zip"' in html
        and 'data-testid="kb-import-form"' in html
    )
    assert (
        'data-testid="kb-import-form"'
        not in client_for(people.agent).get(f"/kb/directories/{kb.social.pk}/").content.decode()
    )
    matches = client.get("/kb/partials/directories/", {"dq": "sbk"}).content.decode()
    assert "社会保障/社保卡" in matches
    assert "医疗保险" in client.get("/kb/partials/directories/", {"dq": "yiliao"}).content.decode()
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["目录", "标题", "内容"])
    sheet.append(["新目录", "导入的条目", "导入内容"])
    sheet.append(["", "", "缺标题"])
    data = io.BytesIO()
    book.save(data)
    upload = SimpleUploadedFile("kb.xlsx", data.getvalue())
    response = client.post(f"/kb/directories/{kb.social.pk}/import/", {"file": upload}, follow=True)
    assert "未导入任何数据" in response.content.decode() and "第3行" in response.content.decode()
    assert not Item.objects.filter(title="导入的条目").exists()
    book.active.delete_rows(3)  # type: ignore[union-attr]
    data = io.BytesIO()
    book.save(data)
    upload = SimpleUploadedFile("kb.xlsx", data.getvalue())
    response = client.post(f"/kb/directories/{kb.social.pk}/import/", {"file": upload}, follow=True)
    assert "已导入1条" in response.content.decode()
    assert Item.objects.get(title="导入的条目").directory.name == "新目录"


def test_rankings_page(kb: KB, people: People) -> None:
    item = publish(kb, kb.card, "社保卡", "内容")
    services.item_record_view(user=people.agent, item=item)
    services.favourite_add(user=people.agent, item=item)
    html = client_for(people.agent).get("/kb/rankings/?days=7").content.decode()
    assert html.count(f"/kb/items/{item.pk}/") == 4  # most viewed, latest, most favourited, mine


def test_suggest_partial(kb: KB, people: People, commit: Any) -> None:
    with commit():
        item = publish(kb, kb.card, "社保卡补办流程", "社保卡丢失后可到银行网点补办")
    client = client_for(people.agent)
    assert "录入诉求内容后" in client.post("/kb/partials/suggest/", {"content": ""}).content.decode()
    html = client.post(
        "/kb/partials/suggest/", {"content": "市民来电反映社保卡丢了，想问怎么补办"}
    ).content.decode()
    assert f'href="/kb/items/{item.pk}/"' in html and 'target="_blank"' in html and "<em>" in html
    intake = client.get("/cases/new/").content.decode()
    assert 'hx-post="/kb/partials/suggest/"' in intake and "from:#id_content" in intake
