"""The hotline admin builds an IVR menu in the browser: a new flow, a menu node added in the form, a node nobody
can reach refused at publishing (the problem shown on that node), then published; the outline previews it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from hotline.orgs.models import Role
from hotline.orgs.services import user_create
from hotline.telephony.models import IvrVersion, Queue
from tests.e2e.test_case_loop_browser import PASSWORD, Desk

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_builds_validates_and_publishes_a_menu(
    browser: Any, live_server: Any, settings: Any, city: Any, tmp_path: Any, screenshot_dir: Any
) -> None:
    settings.VAR_DIR = tmp_path
    Queue.objects.create(code="general", name="综合")
    Queue.objects.create(code="complaints", name="投诉")
    user_create(
        username="ivradmin", password=PASSWORD, full_name="管理员", unit=city.office, roles=[Role.ADMIN]
    )
    desk = Desk(browser, live_server.url, "ivradmin", screenshot_dir)
    page = desk.page
    page.get_by_test_id("nav-tel-ivr").click()
    form = page.get_by_test_id("ivr-new-flow")
    form.get_by_label("编码").fill("main")
    form.get_by_label("名称").fill("主菜单")
    form.get_by_role("button", name="新建").click()
    page.wait_for_url("**/telephony/ivr/main/")
    # The draft starts with one node putting the caller through; add a menu in front of it and an orphan.
    page.locator('[name="start"]').fill("menu")
    page.locator('[name="n-1-id"]').fill("menu")
    page.locator('[name="n-1-type"]').select_option("menu")
    page.locator('[name="n-1-prompt"]').fill("投诉请按1，其他请按2。")
    page.locator('[name="n-1-options"]').fill("1=to_complaints; 2=start")
    page.locator('[name="n-1-fallback"]').fill("start")
    page.locator('[name="n-2-id"]').fill("to_complaints")
    page.locator('[name="n-2-type"]').select_option("queue")
    page.locator('[name="n-2-queue"]').select_option("complaints")
    page.locator('[name="n-3-id"]').fill("orphan")
    page.locator('[name="n-3-type"]').select_option("hangup")
    page.get_by_test_id("ivr-publish").click()
    expect(page.get_by_test_id("ivr-notice")).to_contain_text("不能发布")
    expect(page.get_by_test_id("ivr-node-problems")).to_contain_text("从起始节点无法到达")
    assert not IvrVersion.objects.filter(status="published").exists()
    desk.shot("ivr-01-refused")
    # Delete the orphan, publish: the outline shows the menu's branches.
    orphan = page.get_by_test_id("ivr-node").filter(has=page.locator('[value="orphan"]'))
    orphan.get_by_label("删除").check()
    page.get_by_test_id("ivr-publish").click()
    expect(page.get_by_test_id("ivr-new-draft")).to_be_visible()
    outline = page.get_by_test_id("ivr-outline")
    expect(outline).to_contain_text("按 1")
    expect(outline).to_contain_text("to_complaints")
    desk.shot("ivr-02-published")
    version = IvrVersion.objects.get(status="published")
    assert version.graph["start"] == "menu" and [n["id"] for n in version.graph["nodes"]] == [
        "start",
        "menu",
        "to_complaints",
    ]
    desk.close()
