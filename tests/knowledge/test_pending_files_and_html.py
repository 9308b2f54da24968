"""Issue 10: files of an unapproved change are for editors and reviewers only (API and web), and item bodies
cannot borrow the page's classes or positioning styles to cover the page with a fake dialog."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from hotline.knowledge import services
from hotline.knowledge.models import Attachment, Item, ItemVersion
from hotline.knowledge.services import ItemInput
from hotline.knowledge.text import sanitize_html
from tests.conftest import People, as_user

from .conftest import KB, content, publish

OVERLAY = (
    '<div class="modal d-block position-fixed top-0 start-0 w-100 h-100 bg-white text-center" '
    'style="position:fixed;top:0;left:0;width:100vw;height:100vh;z-index:9999;color:red">'
    "登录已过期，请重新登录</div>"
)


def _pending_change_with_file(kb: KB) -> tuple[Item, Attachment, Attachment]:
    item = services.item_create(
        actor=kb.chief,
        directory=kb.card,
        data=ItemInput(title="社保卡补办", content=content("补办流程"), is_public=True),
        attachments=[SimpleUploadedFile("已发布.txt", "已发布的材料".encode())],
    )
    published = item.attachments.get()
    services.item_update(
        actor=kb.editor,
        item=item,
        data=ItemInput(title="社保卡补办", content=content("补办流程（待审）"), is_public=True),
        attachments=[SimpleUploadedFile("待审.txt", "尚未审核的材料".encode())],
    )
    pending = item.attachments.exclude(pk=published.pk).get()
    return item, published, pending


def _download(client: Any, url: str) -> tuple[int, bytes]:
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.status_code == 200 else b""
    return response.status_code, body


@pytest.mark.parametrize("prefix", ["/api/v1/kb/attachments/", "/kb/attachments/"])
def test_a_pending_file_is_for_editors_and_reviewers_only(
    kb: KB, people: People, prefix: str, api: Any
) -> None:
    item, published, pending = _pending_change_with_file(kb)
    if prefix.startswith("/api"):

        def client_for(user: Any) -> Any:
            return as_user(api, user)
    else:

        def client_for(user: Any) -> Any:
            client = Client()
            client.force_login(user)
            return client

    # A reader (an agent: everyone reads 社会保障) gets the published file, not the pending one.
    assert _download(client_for(people.agent), f"{prefix}{published.pk}/") == (200, "已发布的材料".encode())
    assert _download(client_for(people.agent), f"{prefix}{pending.pk}/")[0] == 404
    for user in (kb.editor, kb.reviewer, kb.admin):
        assert _download(client_for(user), f"{prefix}{pending.pk}/") == (200, "尚未审核的材料".encode())
    # Once approved the file is the item's and every reader gets it.
    services.version_approve(actor=kb.reviewer, version=item.versions.get(status="pending"))
    assert _download(client_for(people.agent), f"{prefix}{pending.pk}/")[0] == 200


def test_the_item_page_and_api_list_only_published_files_for_readers(
    kb: KB, people: People, api: Any
) -> None:
    item, published, pending = _pending_change_with_file(kb)
    client = Client()
    client.force_login(people.agent)
    page = client.get(f"/kb/items/{item.pk}/").content.decode()
    assert "已发布.txt" in page and "待审.txt" not in page
    data = as_user(api, people.agent).get(f"/api/v1/kb/items/{item.pk}/").json()
    assert [a["name"] for a in data["attachments"]] == ["已发布.txt"]
    versions = as_user(api, people.agent).get(f"/api/v1/kb/items/{item.pk}/versions/").json()
    rows = versions["results"] if isinstance(versions, dict) else versions
    assert "待审.txt" not in str(rows)


def test_item_html_keeps_only_typographic_classes_and_styles() -> None:
    cleaned = sanitize_html(
        OVERLAY + '<p class="text-center fw-bold" style="text-align:center;color:#c00">提示</p>'
    )
    for forbidden in ("modal", "position", "fixed", "w-100", "h-100", "z-index", "100vh", "d-block", "top"):
        assert forbidden not in cleaned
    assert 'class="bg-white text-center"' not in cleaned and 'class="text-center"' in cleaned
    assert (
        'class="text-center fw-bold"' in cleaned and "text-align:center" in cleaned and "color:red" in cleaned
    )


def test_the_portal_page_cannot_be_covered_by_an_item(kb: KB) -> None:
    cache.clear()
    item = publish(kb, kb.card, "社保卡", "x", is_public=True)
    item = services.item_update(
        actor=kb.chief, item=item, data=ItemInput(title="社保卡", content=OVERLAY, is_public=True)
    ).item
    stored = Item.objects.get(pk=item.pk).content
    assert "position" not in stored and "modal" not in stored
    # Content stored under the older, looser rule is cleaned again when shown (portal, staff page, review).
    Item.objects.filter(pk=item.pk).update(content=OVERLAY)
    ItemVersion.objects.filter(item=item).update(content=OVERLAY)
    for html in (
        Client().get(f"/portal/kb/items/{item.pk}/").content.decode(),
        _staff_page(kb, f"/kb/items/{item.pk}/"),
    ):
        body = html.split('kb-content"', 1)[1].split("</div>", 1)[0]
        assert "登录已过期" in body
        assert (
            "position" not in body and "modal" not in body and "z-index" not in body and "w-100" not in body
        )
    cache.clear()


def _staff_page(kb: KB, url: str) -> str:
    client = Client()
    client.force_login(kb.chief)
    return client.get(url).content.decode()
