"""A new package adds a menu entry, a permission and a home panel from its own AppConfig.ready(), with no edit
in cases/ or base.html (tests/common/plugin_app is such a package, installed only here)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.test.utils import modify_settings, override_settings
from django.urls import reverse

from hotline.common import registry
from hotline.common.errors import NotAllowed
from hotline.common.registry import Permission, register_permissions, user_may
from hotline.orgs.models import Role
from hotline.orgs.services import user_create

from .test_menu import menu


@pytest.fixture
def plugin(db):
    saved = {name: dict(getattr(registry, name)) for name in ("_MENU", "_PANELS", "_PERMISSIONS", "_JOBS")}
    with (
        modify_settings(INSTALLED_APPS={"append": "tests.common.plugin_app"}),
        override_settings(ROOT_URLCONF="tests.common.plugin_app.urls"),
    ):
        yield
    for name, value in saved.items():
        setattr(registry, name, value)


def _client(city, role: str) -> Client:
    user = user_create(
        username=f"p-{role}", password="pw-123456", full_name=role, unit=city.office, roles=[role]
    )
    client = Client()
    client.force_login(user)
    return client


def test_a_new_package_adds_a_menu_entry_for_the_users_its_permission_admits(city, plugin):
    dispatcher = _client(city, Role.DISPATCHER)
    labels = [
        label for label, _href, _active in menu(dispatcher.get(reverse("case-search")).content.decode())
    ]
    assert labels == [
        "工作台",
        "受理登记",
        "市民渠道",
        "工单查询",
        "在办看板",
        "派单规则",
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
    ]
    entries = menu(dispatcher.get(reverse("plugin-rules")).content.decode())
    assert [(label, href) for label, href, active in entries if active] == [("派单规则", "/plugin/rules/")]
    agent = _client(city, Role.AGENT)
    labels = [label for label, _href, _active in menu(agent.get(reverse("case-search")).content.decode())]
    assert "派单规则" not in labels and labels[:5] == [
        "工作台",
        "受理登记",
        "在线客服",
        "市民渠道",
        "工单查询",
    ]


def test_a_new_package_adds_a_home_panel(city, plugin):
    dispatcher = _client(city, Role.DISPATCHER)
    html = dispatcher.get(reverse("home")).content.decode()
    assert 'data-testid="plugin-panel"' in html and "待自动派单 3 件" in html
    # Its place follows its order (50): before the case core's panels (100 and up).
    assert html.index('data-testid="plugin-panel"') < html.index('data-testid="overview"')
    assert html.index('data-testid="plugin-panel"') < html.index('data-testid="queue-submitted"')
    # A panel whose context answers None is left out; one the permission refuses is never computed.
    assert (
        'data-testid="plugin-panel"'
        not in dispatcher.get(reverse("home") + "?plugin_waiting=0").content.decode()
    )
    assert 'data-testid="plugin-panel"' not in _client(city, Role.AGENT).get(reverse("home")).content.decode()


def test_the_plugin_leaves_no_trace_when_uninstalled(city):
    assert "plugin_app" not in {entry.key for entry in registry.menu_entries()}
    html = _client(city, Role.DISPATCHER).get(reverse("home")).content.decode()
    assert "plugin-panel" not in html and "派单规则" not in html


def test_permissions_answer_by_name_and_refuse_with_their_message(city, monkeypatch):
    monkeypatch.setattr(registry, "_PERMISSIONS", dict(registry._PERMISSIONS))
    register_permissions(Permission("demo.leaders", lambda user: user.has_role(Role.LEADER), "只有领导可以"))
    leader = user_create(
        username="l", password="pw-123456", full_name="l", unit=city.office, roles=[Role.LEADER]
    )
    agent = user_create(
        username="a", password="pw-123456", full_name="a", unit=city.office, roles=[Role.AGENT]
    )
    assert user_may(leader, "demo.leaders") and not user_may(agent, "demo.leaders")
    registry.permission("demo.leaders").require(leader)
    with pytest.raises(NotAllowed, match="只有领导可以"):
        registry.permission("demo.leaders").require(agent)
    with pytest.raises(KeyError):
        user_may(leader, "demo.no_such_permission")  # a typo is an error, never a silent "no"
    assert not user_may(None, "demo.leaders")


def test_each_package_registers_its_own_permissions():
    names = {p.name for p in registry.permissions()}
    assert {
        "common.admin_site",
        "cases.intake",
        "cases.clusters",
        "cases.callback",
        "sla.supervision",
        "citizens.personal_data",
        "citizens.edit",
        "citizens.blacklist",
        "intake.chat",
    } <= names
