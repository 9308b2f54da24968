"""Shared fixtures: a small city (office, bureaus, two districts with streets and communities) and its people."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from hotline.cases import duplicates, services
from hotline.cases.models import AssignmentRole, Case
from hotline.common.dictionaries import seed_dictionaries
from hotline.common.models import DictItem, DictKind
from hotline.common.refcache import RefCache
from hotline.notify.defaults import seed_templates
from hotline.notify.models import MessageTemplate
from hotline.orgs.models import Role, Unit, UnitKind, User
from hotline.orgs.services import unit_create, user_create
from hotline.sla import calendar as sla_calendar
from hotline.sla.defaults import seed_all as seed_sla_defaults

CONTENT = (
    "我住在江城市东湖区梨园街道幸福社区12栋，楼下烧烤店每天晚上营业到凌晨两点，油烟和噪音非常大，"
    "已经严重影响居民休息，多次与店主沟通无果，希望有关部门尽快查处。"
)


@dataclass
class City:
    office: Unit
    tax: Unit  # vertically managed city bureau
    housing: Unit  # ordinary city bureau
    east: Unit  # district
    east_cg: Unit  # district bureau under east
    liyuan: Unit  # street in east
    xingfu: Unit  # community in liyuan
    heping: Unit  # community in liyuan
    guanshan: Unit  # second street in east
    west: Unit  # another district
    west_street: Unit
    west_comm: Unit


@dataclass
class People:
    agent: User
    dispatcher: User
    leader: User
    monitor: User
    tax: User
    housing: User
    east: User
    east_leader: User
    east_cg: User
    liyuan: User
    liyuan_leader: User
    xingfu: User
    heping: User
    guanshan: User
    west: User
    west_street: User


@pytest.fixture(autouse=True)
def fresh_reference_caches() -> None:
    """Rows cached by one test may have been rolled back or flushed (without signals) by the next."""
    RefCache.invalidate_all()
    sla_calendar.invalidate()
    duplicates.forget_statistics()
    cache.clear()  # throttle and lockout counters (shared cache) start from zero in every test


@pytest.fixture
def city(db: Any) -> City:
    seed_dictionaries(DictItem)  # transactional tests flush the rows the migrations seeded
    seed_sla_defaults()
    seed_templates(MessageTemplate)
    sla_calendar.invalidate()
    office = unit_create(name="市12345热线办", code="OFFICE", kind=UnitKind.OFFICE)
    tax = unit_create(name="市税务局", code="B-TAX", kind=UnitKind.BUREAU, is_vertical=True)
    housing = unit_create(name="市住建局", code="B-HOUSING", kind=UnitKind.BUREAU)
    east = unit_create(name="东湖区", code="D-EAST", kind=UnitKind.DISTRICT)
    east_cg = unit_create(name="东湖区城管局", code="D-EAST-CG", kind=UnitKind.BUREAU, parent=east)
    liyuan = unit_create(name="梨园街道", code="S-LIYUAN", kind=UnitKind.STREET, parent=east)
    xingfu = unit_create(name="幸福社区", code="C-XINGFU", kind=UnitKind.COMMUNITY, parent=liyuan)
    heping = unit_create(name="和平社区", code="C-HEPING", kind=UnitKind.COMMUNITY, parent=liyuan)
    guanshan = unit_create(name="关山街道", code="S-GUANSHAN", kind=UnitKind.STREET, parent=east)
    west = unit_create(name="西湖区", code="D-WEST", kind=UnitKind.DISTRICT)
    west_street = unit_create(name="西湖街道", code="S-WEST", kind=UnitKind.STREET, parent=west)
    west_comm = unit_create(name="西湖社区", code="C-WEST", kind=UnitKind.COMMUNITY, parent=west_street)
    return City(
        office, tax, housing, east, east_cg, liyuan, xingfu, heping, guanshan, west, west_street, west_comm
    )


def _user(name: str, unit: Unit, *roles: str) -> User:
    return user_create(username=name, password="pw-123456", full_name=name, unit=unit, roles=roles)


@pytest.fixture
def people(city: City) -> People:
    return People(
        agent=_user("agent", city.office, Role.AGENT),
        dispatcher=_user("dispatcher", city.office, Role.DISPATCHER),
        leader=_user("leader", city.office, Role.LEADER),
        monitor=_user("monitor", city.office, Role.MONITOR),
        tax=_user("tax", city.tax, Role.UNIT_HANDLER),
        housing=_user("housing", city.housing, Role.UNIT_HANDLER),
        east=_user("east", city.east, Role.UNIT_HANDLER),
        east_leader=_user("east_leader", city.east, Role.UNIT_LEADER),
        east_cg=_user("east_cg", city.east_cg, Role.UNIT_HANDLER),
        liyuan=_user("liyuan", city.liyuan, Role.UNIT_HANDLER),
        liyuan_leader=_user("liyuan_leader", city.liyuan, Role.UNIT_LEADER),
        xingfu=_user("xingfu", city.xingfu, Role.UNIT_HANDLER),
        heping=_user("heping", city.heping, Role.UNIT_HANDLER),
        guanshan=_user("guanshan", city.guanshan, Role.UNIT_HANDLER),
        west=_user("west", city.west, Role.UNIT_HANDLER),
        west_street=_user("west_street", city.west_street, Role.UNIT_HANDLER),
    )


def dict_item(kind: str, code: str) -> DictItem:
    return DictItem.objects.get(kind=kind, code=code)


def case_input(city: City, **overrides: Any) -> services.CaseInput:
    values: dict[str, Any] = {
        "case_type": dict_item(DictKind.CASE_TYPE, "complaint"),
        "content": CONTENT,
        "citizen_name": "王女士",
        "citizen_phone": "13812345678",
        "location": "梨园街道幸福社区12栋",
        "location_unit": city.xingfu,
        "bureau": city.housing,
        "nature": dict_item(DictKind.NATURE, "environment"),
        "urgency": dict_item(DictKind.URGENCY, "normal"),
    }
    values.update(overrides)
    return services.CaseInput(**values)


def submitted_case(city: City, people: People, **overrides: Any) -> Case:
    return services.case_intake(actor=people.agent, data=case_input(city, **overrides)).case


def dispatched_to(
    city: City, people: People, main: Unit, *others: tuple[Unit, str], **overrides: Any
) -> Case:
    case = submitted_case(city, people, **overrides)
    targets = [services.Target(main, AssignmentRole.MAIN), *(services.Target(u, r) for u, r in others)]
    return services.case_dispatch(
        case=case, actor=people.dispatcher, expected_version=case.version, targets=targets
    )


def fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def as_user(client: APIClient, user: User) -> APIClient:
    client.force_authenticate(user=user)
    return client
