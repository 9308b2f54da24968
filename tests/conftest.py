"""Shared fixtures: a small city (office, bureaus, two districts with streets and communities) and its people."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from hotline.cases import duplicates, services
from hotline.cases.models import AssignmentRole, Case
from hotline.common.models import DictItem, DictKind
from hotline.common.refcache import RefCache
from hotline.orgs.models import Unit, User
from hotline.sla import calendar as sla_calendar

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


def _forget_cached_rows() -> None:
    from hotline.analytics import bigscreen

    RefCache.invalidate_all()
    bigscreen.forget()
    sla_calendar.invalidate()
    duplicates.forget_statistics()


@pytest.fixture(autouse=True)
def fresh_reference_caches() -> Iterator[None]:
    """Rows cached by one test may have been rolled back or flushed (without signals) by the next. Forgotten
    after the test too: a module-scoped fixture of the next module is built before that module's first test
    starts (with a flow version cached from a rolled-back test, it pinned its cases to a version that is gone)."""
    _forget_cached_rows()
    cache.clear()  # throttle and lockout counters (shared cache) start from zero in every test
    yield
    _forget_cached_rows()


@pytest.fixture(autouse=True)
def clock_not_left_frozen() -> Any:
    """A test must leave the process-wide clock running; one that leaves it frozen fails here, not in a later,
    unrelated test."""
    from hotline.common import clock

    yield
    leaked, clock._frozen = clock._frozen, None
    assert leaked is None, f"the test left the clock frozen at {leaked}"


@pytest.fixture
def city(db: Any) -> City:
    from tests.factories import city_build

    return city_build()


@pytest.fixture
def people(city: City) -> People:
    from tests.factories import people_build

    return people_build(city)


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
