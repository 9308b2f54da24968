"""Issue 10 (ORG-1, ORG-2) in the browser: an administrator moves a street to another district in Django
admin (its communities follow), then merges a street from its retire screen after reading what happens."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from hotline.orgs.models import Role, Unit, User
from hotline.orgs.services import user_create
from tests.e2e.test_case_loop_browser import PASSWORD, Desk

pytestmark = pytest.mark.django_db(transaction=True)


def test_move_and_merge_units_in_admin(browser, live_server, city, people, screenshot_dir):
    user_create(username="root", password=PASSWORD, full_name="管理员", unit=city.office, roles=[Role.ADMIN])
    admin = Desk(browser, live_server.url, "root", screenshot_dir)
    page = admin.page

    page.goto(f"{live_server.url}/admin/orgs/unit/{city.liyuan.pk}/change/")
    page.get_by_label("上级单位").select_option(label="西湖区")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator(".messagelist")).to_be_visible()
    xingfu = Unit.objects.get(pk=city.xingfu.pk)
    assert xingfu.path == f"/{city.west.pk}/{city.liyuan.pk}/{city.xingfu.pk}/"

    page.goto(f"{live_server.url}/admin/orgs/unit/{city.guanshan.pk}/retire/")
    screen = page.get_by_test_id("unit-retire")
    expect(screen.get_by_test_id("impact-open-work")).to_contain_text("0")
    expect(screen.get_by_test_id("impact-users")).to_contain_text("guanshan")
    admin.shot("orgs-01-retire-screen")
    page.get_by_label("并入单位（不选则仅撤销）").select_option(label="梨园街道")
    page.get_by_test_id("retire-submit").click()
    expect(page.locator(".messagelist")).to_contain_text("历史记录均已保留")
    assert User.objects.get(pk=people.guanshan.pk).unit_id == city.liyuan.pk
