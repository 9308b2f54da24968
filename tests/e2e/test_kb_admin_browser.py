"""Knowledge-base management in the browser: a KB admin creates a sub-directory and grants a unit read on it;
an editor recycles an item there and restores it from the recycle bin."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from hotline.knowledge import services
from hotline.knowledge.models import Directory, Grant, ItemState, ItemVersion
from hotline.knowledge.services import ItemInput
from tests.e2e.test_case_loop_browser import Desk
from tests.knowledge.conftest import KB, content, fresh, kb, kb_index  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_creates_directory_and_grants_then_editor_recycles_and_restores(
    browser,
    live_server,
    city,
    people,
    kb: KB,  # noqa: F811
    screenshot_dir,
):
    admin = Desk(browser, live_server.url, "kbadmin", screenshot_dir)
    page = admin.page
    page.goto(f"{live_server.url}/kb/directories/{kb.social.pk}/")
    page.get_by_label("新建子目录").fill("社保转移")
    page.get_by_test_id("kb-subdir-form").get_by_role("button", name="新建").click()
    expect(page.get_by_test_id("kb-current-directory")).to_contain_text("社会保障/社保转移")
    expect(page.locator("[role=alert]").first).to_contain_text("已新建目录")
    directory = Directory.objects.get(name="社保转移")
    assert directory.parent_id == kb.social.pk
    expect(page.get_by_test_id("kb-stats")).to_be_visible()
    admin.shot("kb-admin-00-directory")

    # The grants editor: inherited grants read-only with their source; add read for the tax bureau.
    page.get_by_test_id("kb-grants-link").click()
    inherited = page.get_by_test_id("kb-inherited-grants")
    expect(inherited).to_contain_text("所有人")
    expect(inherited).to_contain_text("社会保障")
    add = page.get_by_test_id("kb-grant-add-form")
    add.get_by_label("单位", exact=True).select_option(label="市税务局")
    expect(add.get_by_label("查看", exact=True)).to_be_checked()
    page.get_by_test_id("kb-grant-add").click()
    expect(page.locator("[role=alert]").first).to_contain_text("目录权限已保存")
    expect(page.get_by_test_id("kb-grant-row")).to_have_count(1)
    grant = Grant.objects.get(directory=directory)
    assert (grant.unit_id, grant.can_read, grant.can_edit) == (city.tax.pk, True, False)
    admin.shot("kb-admin-01-grants")
    admin.close()

    # An editor's item in the new directory, published by a reviewer.
    item = services.item_create(
        actor=kb.editor,
        directory=directory,
        data=ItemInput(title="社保关系转移", content=content("跨省转移办理")),
    )
    services.version_approve(actor=kb.reviewer, version=ItemVersion.objects.get(item=item))

    editor = Desk(browser, live_server.url, "editor", screenshot_dir)
    page = editor.page
    page.goto(f"{live_server.url}/kb/items/{item.pk}/")
    page.get_by_test_id("kb-state-recycle").click()
    expect(page.locator("[role=alert]").first).to_contain_text("已移入回收站")
    expect(page.get_by_test_id("kb-state-restore")).to_be_visible()
    assert fresh(item).state == ItemState.RECYCLED

    page.get_by_test_id("kb-nav-recycle").click()
    row = page.get_by_test_id(f"kb-recycled-{item.pk}")
    expect(row).to_contain_text("社保关系转移")
    expect(row).to_contain_text("社会保障/社保转移")
    editor.shot("kb-admin-02-recycle-bin")
    page.get_by_test_id(f"kb-bin-restore-{item.pk}").click()
    expect(page.locator("[role=alert]").first).to_contain_text("已还原")
    expect(page.get_by_test_id(f"kb-recycled-{item.pk}")).to_have_count(0)
    assert fresh(item).state == ItemState.NORMAL
    editor.close()
