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


def test_admin_edits_condition_and_collect_nodes_and_a_malformed_condition_is_refused(
    browser: Any, live_server: Any, settings: Any, city: Any, tmp_path: Any, screenshot_dir: Any
) -> None:
    """Routing by level / urgency (a condition node) to a priority queue, else four keyed digits (a collect
    node): a condition naming a level that does not exist cannot be published (the message shown on that node);
    corrected, the flow publishes and the preview shows the branches, the collect node's paths and the
    priority."""
    settings.VAR_DIR = tmp_path
    Queue.objects.create(code="general", name="综合")
    Queue.objects.create(code="vip", name="重点")
    user_create(
        username="ivradmin2", password=PASSWORD, full_name="管理员", unit=city.office, roles=[Role.ADMIN]
    )
    desk = Desk(browser, live_server.url, "ivradmin2", screenshot_dir)
    page = desk.page
    page.goto(f"{live_server.url}/telephony/ivr/")
    form = page.get_by_test_id("ivr-new-flow")
    form.get_by_label("编码").fill("route")
    form.get_by_label("名称").fill("分级路由")
    form.get_by_role("button", name="新建").click()
    page.wait_for_url("**/telephony/ivr/route/")
    page.locator('[name="start"]').fill("check")
    page.locator('[name="n-1-id"]').fill("check")
    page.locator('[name="n-1-type"]').select_option("condition")
    page.locator('[name="n-1-branches"]').fill(
        "level == gold => fast\nurgency in (urgent, very_urgent) => fast"
    )
    page.locator('[name="n-1-fallback"]').fill("ask")
    page.locator('[name="n-2-id"]').fill("ask")
    page.locator('[name="n-2-type"]').select_option("collect")
    page.locator('[name="n-2-prompt"]').fill("请输入身份证后四位，以井号键结束。")
    page.locator('[name="n-2-digits"]').fill("4")
    page.locator('[name="n-2-var"]').fill("id_tail")
    page.locator('[name="n-2-next"]').fill("start")
    page.locator('[name="n-2-fallback"]').fill("start")
    page.locator('[name="n-2-invalid"]').fill("start")
    page.locator('[name="n-3-id"]').fill("fast")
    page.locator('[name="n-3-type"]').select_option("queue")
    page.locator('[name="n-3-queue"]').select_option("vip")
    page.locator('[name="n-3-priority"]').fill("3")
    page.get_by_test_id("ivr-publish").click()

    expect(page.get_by_test_id("ivr-notice")).to_contain_text("不能发布")
    refused = page.get_by_test_id("ivr-node").filter(has=page.locator('[name$="-id"][value="check"]'))
    expect(refused.get_by_test_id("ivr-node-problems")).to_contain_text("level == gold")
    assert not IvrVersion.objects.filter(status="published").exists()
    # What was typed is kept: the other branch, the collect node, the priority.
    expect(refused.get_by_test_id("ivr-branches")).to_have_value(
        "level == gold => fast\nurgency in (urgent, very_urgent) => fast"
    )
    expect(page.locator('[name="n-2-var"]')).to_have_value("id_tail")
    expect(page.locator('[name="n-3-priority"]')).to_have_value("3")
    desk.shot("ivr-logic-01-refused")

    refused.get_by_test_id("ivr-branches").fill(
        "level in (vip, sensitive) => fast\nurgency in (urgent, very_urgent) => fast"
    )
    page.get_by_test_id("ivr-publish").click()
    expect(page.get_by_test_id("ivr-new-draft")).to_be_visible()
    outline = page.get_by_test_id("ivr-outline")
    expect(outline).to_contain_text("若 level in (vip, sensitive)")
    expect(outline).to_contain_text("其他情况")
    expect(outline).to_contain_text("ask collect")
    expect(outline).to_contain_text("#4 → $id_tail")
    expect(outline).to_contain_text("输入完整")
    expect(outline).to_contain_text("输入无效")
    expect(outline).to_contain_text("优先 3")
    desk.shot("ivr-logic-02-published")
    version = IvrVersion.objects.get(status="published")
    nodes = {n["id"]: n for n in version.graph["nodes"]}
    assert version.graph["start"] == "check"
    assert nodes["check"]["branches"][1] == {"when": "urgency in (urgent, very_urgent)", "next": "fast"}
    assert (nodes["ask"]["digits"], nodes["ask"]["var"], nodes["ask"]["invalid"]) == (4, "id_tail", "start")
    assert (nodes["fast"]["queue"], nodes["fast"]["priority"]) == ("vip", 3)
    desk.close()
