"""The main menu and the home page show each role what it saw when the role lists were literals in base.html.

The expected sets were written from base.html and cases/home.html before the menu-entry and home-panel
registries replaced those literals: every role must keep exactly its entries and panels.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from hotline.orgs.models import Role
from hotline.orgs.services import user_create

NAV = re.compile(r'<ul class="navbar-nav me-auto">(.*?)</ul>', re.S)
LINK = re.compile(r'<a class="nav-link([^"]*)" href="([^"]+)"[^>]*>([^<]+)</a>')
TESTID = re.compile(r'data-testid="((?:overview|unit-figures|work-[a-z_]+|queue-[a-z_]+))"')

EVERYONE = [
    "工作台",
    "工单查询",
    "在办看板",
    "知识库",
    "市民档案",
    "内部公告",
]  # 内部公告 added with bulletins
ORDER = [
    "工作台",
    "受理登记",
    "在线客服",
    "市民渠道",
    "工单查询",
    "在办看板",
    "知识库",
    "督办统计",
    "派单目录",
    "运行指标",
    "统计报表",
    "绩效考核",
    "流程模板",
    "市民档案",
    "热点聚类",
    "内部公告",
    "班长监控",
    "语音导航",
    "接入系统",
    "系统管理",
]

# role (or flag) → the entries the menu showed before the registries, in menu order.
EXPECTED_MENU: dict[str, set[str]] = {
    Role.AGENT: {*EVERYONE, "受理登记", "在线客服", "市民渠道", "热点聚类"},
    Role.DISPATCHER: {
        *EVERYONE,
        "受理登记",
        "市民渠道",
        "督办统计",
        "派单目录",
        "运行指标",
        "统计报表",
        "绩效考核",
        "流程模板",
        "热点聚类",
    },
    Role.MONITOR: {
        *EVERYONE,
        "在线客服",
        "市民渠道",
        "督办统计",
        "运行指标",
        "统计报表",
        "绩效考核",
        "热点聚类",
        "班长监控",
    },
    Role.LEADER: {*EVERYONE, "督办统计", "运行指标", "统计报表", "绩效考核", "流程模板", "热点聚类"},
    Role.UNIT_LEADER: {*EVERYONE, "市民渠道", "督办统计", "运行指标", "统计报表", "绩效考核"},
    Role.UNIT_HANDLER: {*EVERYONE, "市民渠道"},
    Role.KB_EDITOR: set(EVERYONE),
    Role.KB_REVIEWER: set(EVERYONE),
    Role.ADMIN: {
        *EVERYONE,
        "受理登记",
        "在线客服",
        "市民渠道",
        "督办统计",
        "派单目录",
        "流程模板",
        "运行指标",
        "统计报表",
        "绩效考核",
        "热点聚类",
        "班长监控",
        "语音导航",
        "接入系统",
        "系统管理",
    },  # user_create makes admins superusers
    "none": set(EVERYONE),
    "staff": {*EVERYONE, "系统管理"},
    "superuser": {
        *EVERYONE,
        "受理登记",
        "在线客服",
        "市民渠道",
        "督办统计",
        "派单目录",
        "流程模板",
        "运行指标",
        "统计报表",
        "绩效考核",
        "热点聚类",
        "班长监控",
        "语音导航",
        "接入系统",
        "系统管理",
    },
}

# role → the home sections (data-testid) shown before the registries (an office user for the office roles,
# a district user for the unit roles).
EXPECTED_HOME: dict[str, set[str]] = {
    Role.AGENT: {"queue-draft", "queue-returned", "queue-online", "queue-callback", "overview"},
    Role.DISPATCHER: {
        "queue-submitted",
        "queue-not_accepted",
        "queue-return_review",
        "queue-result_review",
        "overview",
    },
    Role.MONITOR: {"overview"},
    Role.LEADER: {"queue-leader_review", "overview"},
    Role.UNIT_LEADER: {"work-to_sign", "work-handling", "unit-figures"},
    Role.UNIT_HANDLER: {"work-to_sign", "work-handling", "unit-figures"},
    Role.KB_EDITOR: {"overview"},
    "superuser": {
        "queue-draft",
        "queue-returned",
        "queue-online",
        "queue-callback",
        "queue-submitted",
        "queue-not_accepted",
        "queue-return_review",
        "queue-result_review",
        "queue-leader_review",
        "overview",
    },
}
EXPECTED_HOME[Role.ADMIN] = EXPECTED_HOME["superuser"]  # user_create makes admins superusers


def _login(city, kind: str, *, unit=None) -> Client:
    roles = [kind] if kind in Role.values else []
    office_roles = {Role.AGENT, Role.DISPATCHER, Role.MONITOR, Role.LEADER, Role.KB_EDITOR, Role.ADMIN}
    if unit is None:
        unit = city.office if kind in office_roles or kind == "superuser" else city.east
    user = user_create(username=f"u-{kind}", password="pw-123456", full_name=kind, unit=unit, roles=roles)
    if kind in ("staff", "superuser"):
        user.is_staff = True
        user.is_superuser = kind == "superuser"
        user.save(update_fields=["is_staff", "is_superuser"])
    client = Client()
    client.force_login(user)
    return client


def menu(html: str) -> list[tuple[str, str, bool]]:
    """(label, href, active) of each main-menu entry, in order."""
    nav = NAV.search(html)
    assert nav, "no main menu on the page"
    return [(label.strip(), href, "active" in classes) for classes, href, label in LINK.findall(nav.group(1))]


@pytest.mark.parametrize("kind", list(EXPECTED_MENU))
def test_each_role_sees_exactly_the_menu_entries_it_saw_before(city, kind):
    page = _login(city, kind).get(reverse("case-search"))
    assert page.status_code == 200
    labels = [label for label, _href, _active in menu(page.content.decode())]
    assert set(labels) == EXPECTED_MENU[kind]
    assert labels == [label for label in ORDER if label in labels]  # the order is kept too


def test_menu_entries_link_where_they_did_and_mark_the_current_page(city):
    client = _login(city, "superuser")
    entries = menu(client.get(reverse("case-new")).content.decode())
    hrefs = {label: href for label, href, _active in entries}
    assert hrefs == {
        "工作台": reverse("home"),
        "在线客服": reverse("intake-chat"),
        "市民渠道": reverse("intake-sms"),
        "受理登记": reverse("case-new"),
        "工单查询": reverse("case-search"),
        "在办看板": reverse("case-board"),
        "知识库": reverse("kb-search"),
        "督办统计": reverse("supervision"),
        "内部公告": reverse("bulletin-inbox"),
        "班长监控": reverse("tel-monitor"),
        "派单目录": reverse("dispatching:catalogue"),
        "流程模板": reverse("flows:list"),
        "运行指标": reverse("analytics:measures"),
        "统计报表": reverse("analytics:reports"),
        "绩效考核": reverse("analytics:kpi"),
        "语音导航": reverse("tel-ivr-list"),
        "接入系统": reverse("integ-partners"),
        "市民档案": reverse("citizen-list"),
        "热点聚类": reverse("case-clusters"),
        "系统管理": reverse("admin:index"),
    }
    assert [label for label, _href, active in entries if active] == ["受理登记"]
    active = [
        label for label, _href, active in menu(client.get(reverse("citizen-list")).content.decode()) if active
    ]
    assert active == ["市民档案"]
    active = [
        label for label, _href, active in menu(client.get(reverse("kb-search")).content.decode()) if active
    ]
    assert active == ["知识库"]
    active = [label for label, _href, active in menu(client.get(reverse("home")).content.decode()) if active]
    assert active == ["工作台"]
    html = client.get(reverse("home")).content.decode()
    assert 'accesskey="n"' in html and 'accesskey="s"' in html and 'data-testid="nav-kb"' in html


def test_anonymous_pages_have_no_menu(db):
    html = Client().get(reverse("login")).content.decode()
    assert not NAV.search(html)


@pytest.mark.parametrize("kind", list(EXPECTED_HOME))
def test_each_role_sees_exactly_the_home_panels_it_saw_before(city, kind):
    html = _login(city, kind).get(reverse("home")).content.decode()
    assert set(TESTID.findall(html)) == EXPECTED_HOME[kind]


def test_the_new_case_button_on_home_is_for_agents(city):
    assert "＋ 新建工单" in _login(city, Role.AGENT).get(reverse("home")).content.decode()
    assert "＋ 新建工单" not in _login(city, Role.DISPATCHER).get(reverse("home")).content.decode()


def test_a_user_without_a_role_is_told_so_on_home(city):
    html = _login(city, "none", unit=city.east).get(reverse("home")).content.decode()
    assert "您的账号尚未分配业务角色" in html
