"""Issue 17 in the browser: an administrator registers a partner system, copies its secret from the one-time
credentials page, the partner calls us signed (and once with a bad signature), and the partner page shows its
traffic and the refusal's reason; a civic app's Open311 key request is approved from the partner list and
collected once through the claim link."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from hotline.integrations import signing
from hotline.orgs.models import Role
from hotline.orgs.services import user_create
from tests.e2e.test_case_loop_browser import PASSWORD, Desk

pytestmark = pytest.mark.django_db(transaction=True)


def _ping(base: str, code: str, secret: str, *, tamper: bool = False) -> int:
    path = "/api/v1/partner/ping/"
    headers = signing.signed_headers(partner=code, secret=secret.encode(), method="GET", path=path)
    if tamper:
        headers[signing.HEADER_SIGNATURE] = "AAAA" + headers[signing.HEADER_SIGNATURE][4:]
    return requests.get(base + path, headers=headers, timeout=30).status_code


def test_register_a_partner_see_its_traffic_and_approve_a_key_request(
    browser, live_server, city, screenshot_dir
):
    user_create(username="root", password=PASSWORD, full_name="管理员", unit=city.office, roles=[Role.ADMIN])
    admin = Desk(browser, live_server.url, "root", screenshot_dir)
    page = admin.page
    page.goto(f"{live_server.url}/integrations/partners/new/")
    page.get_by_label("接入代码").fill("tax-system")
    page.get_by_label("名称").fill("税务局业务系统")
    page.get_by_role("button", name="登记并生成密钥").click()  # a bureau system without its unit is refused
    expect(page.get_by_test_id("error-unit")).to_contain_text("对应单位")
    page.get_by_label("对应单位").select_option(label="市税务局")
    page.get_by_role("button", name="登记并生成密钥").click()
    secret = page.get_by_test_id("secret").inner_text().strip()
    assert len(secret) >= 32
    admin.shot("partners-01-credentials")

    assert _ping(live_server.url, "tax-system", secret) == 200
    assert _ping(live_server.url, "tax-system", secret, tamper=True) == 401
    page.get_by_role("link", name="查看接入系统").click()
    expect(page.get_by_test_id("call-table")).to_contain_text("/api/v1/partner/ping/")
    expect(page.get_by_test_id("failure-table")).to_contain_text("bad_signature")
    admin.shot("partners-02-traffic")

    # Editing: a bad network is refused on the form; an allowlist without 127.0.0.1 shuts the partner out.
    page.get_by_test_id("edit-partner").click()
    page.get_by_label("来源地址白名单").fill("10.0.0.300")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("error-allowed_networks")).to_be_visible()
    page.get_by_label("来源地址白名单").fill("10.20.0.0/16")
    page.get_by_label("每分钟请求上限").fill("120")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("10.20.0.0/16")).to_be_visible()
    expect(page.get_by_text("120", exact=True)).to_be_visible()
    assert _ping(live_server.url, "tax-system", secret) == 403
    page.get_by_test_id("edit-partner").click()
    page.get_by_label("来源地址白名单").fill("127.0.0.1")
    page.get_by_role("button", name="保存").click()
    assert _ping(live_server.url, "tax-system", secret) == 200

    app = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    app.goto(f"{live_server.url}/open311/keys/")
    app.get_by_label("应用名称").fill("江城随手拍")
    app.get_by_label("开发者或机构").fill("江城大学开源社")
    app.get_by_label("联系邮箱").fill("dev@example.org")
    app.get_by_label("用途说明").fill("拍照上报路灯、井盖问题")
    app.get_by_role("button", name="提交申请").click()
    claim = app.get_by_test_id("claim-url").inner_text().strip()
    assert re.search(r"/open311/keys/[A-Za-z0-9_-]+/$", claim)

    page.goto(f"{live_server.url}/integrations/partners/")
    row = page.get_by_test_id("key-request-row").filter(has_text="江城随手拍")
    row.get_by_role("button", name="批准").click()
    expect(page.get_by_test_id("partner-table")).to_contain_text("江城随手拍")

    app.goto(claim)
    api_key = app.get_by_test_id("api-key").inner_text().strip()
    assert "." in api_key
    app.reload()
    expect(app.get_by_test_id("claim-status")).to_contain_text("已领取")
    assert api_key not in app.content()
