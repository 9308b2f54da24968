"""The citizen portal: anonymous search of public, valid, published items only; 404 for anything else."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from hotline.common import clock
from hotline.knowledge import portal, services
from hotline.knowledge.services import ItemInput

from .conftest import KB, content, publish


@pytest.fixture(autouse=True)
def _fresh_throttle() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def test_only_public_valid_published_items_are_found(kb: KB, commit: Any) -> None:
    now = clock.now()
    with commit():
        public = publish(kb, kb.card, "社保卡补办（公开）", "社保卡补办流程", is_public=True)
        internal = publish(kb, kb.card, "社保卡内部口径", "社保卡内部答复口径")
        expired = publish(
            kb, kb.card, "社保卡旧政策", "社保卡旧政策", is_public=True, valid_to=now - dt.timedelta(days=1)
        )
        taxed = publish(kb, kb.tax, "社保卡与个税", "社保卡个税", is_public=True, actor=kb.admin)
        paused = publish(kb, kb.card, "社保卡暂停", "社保卡暂停", is_public=True)
        services.item_change_state(actor=kb.chief, item=paused, action="pause")
        pending = services.item_create(
            actor=kb.editor,
            directory=kb.card,
            data=ItemInput(title="社保卡待审", content=content("社保卡待审"), is_public=True),
        )
    client = Client()
    html = client.get("/portal/kb/", {"q": "社保卡"}).content.decode()
    assert f"/portal/kb/items/{public.pk}/" in html
    assert f"/portal/kb/items/{taxed.pk}/" in html  # public items are public whatever the staff grants
    assert 'data-testid="portal-kb-count">2<' in html
    for hidden in (internal, expired, paused, pending):
        assert f"/portal/kb/items/{hidden.pk}/" not in html
        assert client.get(f"/portal/kb/items/{hidden.pk}/").status_code == 404
    page = client.get(f"/portal/kb/items/{public.pk}/").content.decode()
    assert "社保卡补办流程" in page and "工作台" not in page.split("<main")[1]
    assert client.get("/portal/kb/items/999999/").status_code == 404


def test_query_errors_are_shown_and_the_empty_page_renders(kb: KB) -> None:
    client = Client()
    assert client.get("/portal/kb/").status_code == 200
    html = client.get("/portal/kb/", {"q": "，，"}).content.decode()
    assert 'data-testid="portal-kb-error"' in html


def test_public_attachments_only(kb: KB) -> None:
    public = services.item_create(
        actor=kb.chief,
        directory=kb.card,
        data=ItemInput(title="公开", content=content("公开"), is_public=True),
        attachments=[SimpleUploadedFile("公开.txt", b"public")],
    )
    internal = services.item_create(
        actor=kb.chief,
        directory=kb.card,
        data=ItemInput(title="内部", content=content("内部")),
        attachments=[SimpleUploadedFile("内部.txt", b"internal")],
    )
    client = Client()
    response = client.get(f"/portal/kb/attachments/{public.attachments.get().pk}/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"public"  # type: ignore[attr-defined]
    assert client.get(f"/portal/kb/attachments/{internal.attachments.get().pk}/").status_code == 404


def test_anonymous_visitors_are_throttled(kb: KB, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(portal.PortalThrottle, "rate", "3/min")
    client = Client()
    codes = [client.get("/portal/kb/", {"q": "社保"}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = client.get("/portal/kb/")
    assert (
        limited.status_code == 429 and "查询过于频繁" in limited.content.decode() and limited["Retry-After"]
    )
