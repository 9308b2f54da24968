"""Build the demo city 江城市: units, accounts and cases in every status, all through the project's services.

`seed_demo()` is idempotent: if the demo office unit exists it changes nothing. Everything is created in one
transaction, so a failure leaves no half-built city. Content is deterministic for a given seed; the times are
spread over the `HISTORY_DAYS` before the moment of seeding.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from hotline.cases.models import Case, CaseStatus, CloseKind
from hotline.orgs.models import Unit, UnitKind, User

from .content import CallerPool, Dictionaries, case_input, draw_request
from .flows import seed_flow_template
from .hashing import fast_password_hashing
from .org import DemoOrg, build_org, demo_exists, load_org, main_accounts
from .scenarios import SCENARIOS, CaseDriver, Scenario, World

DEFAULT_CASES = 300
DEFAULT_SEED = 12345
DEFAULT_PASSWORD = "demo12345"
HISTORY_DAYS = 60
LOGIN_URLS = ("http://127.0.0.1:8000/admin/", "http://127.0.0.1:8000/api/v1/docs/")

Progress = Callable[[str], None]


def demo_password() -> str:
    return os.environ.get("HOTLINE_DEMO_PASSWORD") or DEFAULT_PASSWORD


@dataclass
class SeedReport:
    created: bool
    password: str
    accounts: list[tuple[str, str, str, str]] = field(default_factory=list)
    unit_counts: dict[str, int] = field(default_factory=dict)
    user_count: int = 0
    status_counts: list[tuple[str, str, int]] = field(default_factory=list)
    close_kind_counts: list[tuple[str, str, int]] = field(default_factory=list)
    scenario_counts: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


def plan_scenarios(rng: random.Random, count: int) -> list[Scenario]:
    """Every scenario once (so even a small demo shows every status), the rest drawn by weight."""
    first = list(SCENARIOS)
    rng.shuffle(first)
    rest = rng.choices(SCENARIOS, weights=[s.weight for s in SCENARIOS], k=max(0, count - len(first)))
    return (first + rest)[:count]


def _start_time(rng: random.Random, scenario: Scenario, now: dt.datetime) -> dt.datetime:
    low, high = scenario.age
    moment = now - dt.timedelta(days=rng.uniform(low, min(high, HISTORY_DAYS)))
    if timezone.localtime(moment).hour < 7 and rng.random() < 0.8:
        moment += dt.timedelta(hours=8)  # fewer calls at night
    return min(moment, now - dt.timedelta(minutes=30))


def _run_case(
    world: World, callers: CallerPool, scenario: Scenario, start: dt.datetime, limit: dt.datetime
) -> Case:
    request = draw_request(world.rng, world.org)
    caller = callers.draw(request.community, request.location)
    data = case_input(world.rng, world.dicts, request, caller)
    driver = CaseDriver(world, request, data, start, limit)
    scenario.steps(driver)
    case = driver.case
    if case.status != scenario.status or (scenario.close_kind and case.close_kind != scenario.close_kind):
        raise RuntimeError(
            f"demo scenario {scenario.name} left case {case.number} in {case.status}/{case.close_kind}, "
            f"expected {scenario.status}/{scenario.close_kind}"
        )
    return case


def seed_cases(world: World, count: int, *, progress: Progress | None = None) -> Counter[str]:
    """Create `count` cases in chronological order of intake, each pushed to its scenario's status."""
    now = timezone.now()
    limit = now - dt.timedelta(minutes=1)
    plans = [(_start_time(world.rng, s, now), s) for s in plan_scenarios(world.rng, count)]
    plans.sort(key=lambda item: item[0])
    callers = CallerPool(world.rng)
    done: Counter[str] = Counter()
    for index, (start, scenario) in enumerate(plans, start=1):
        _run_case(world, callers, scenario, start, limit)
        done[scenario.name] += 1
        if progress and (index % 50 == 0 or index == count):
            progress(f"  已生成工单 {index}/{count}")
    return done


def seed_demo(
    *,
    cases: int = DEFAULT_CASES,
    seed: int = DEFAULT_SEED,
    password: str | None = None,
    progress: Progress | None = None,
) -> SeedReport:
    """Build the demo city unless it exists. Returns what there is to tell the person who ran it."""
    password = password or demo_password()
    started = time.perf_counter()
    if demo_exists():
        org = load_org()
        _seed_extras(org)
        report = SeedReport(created=False, password=password)
        _fill_report(report, org)
        return report
    rng = random.Random(seed)
    with fast_password_hashing(), transaction.atomic():
        if progress:
            progress("正在创建单位和账号……")
        org = build_org(password=password, rng=rng)
        seed_flow_template(actor=org.users["admin"])
        if progress:
            progress(f"正在生成 {cases} 件工单……")
        world = World(org=org, dicts=Dictionaries(), rng=rng)
        scenario_counts = seed_cases(world, cases, progress=progress)
        if progress:
            progress("正在生成知识库、弹屏布局和黑名单……")
        _seed_extras(org)
    report = SeedReport(created=True, password=password, scenario_counts=scenario_counts)
    _fill_report(report, org)
    report.seconds = time.perf_counter() - started
    return report


def _seed_extras(org: DemoOrg) -> None:
    """Knowledge base, screen-pop layouts, blacklist and the flow template (each idempotent)."""
    from .knowledge import seed_citizen_settings, seed_knowledge

    admin, editor = org.users["admin"], org.users["kbeditor1"]
    with transaction.atomic():
        seed_flow_template(actor=admin)
        if seed_knowledge(admin=admin, editor=editor):
            seed_citizen_settings(actor=admin)


def _fill_report(report: SeedReport, org: DemoOrg) -> None:
    report.accounts = main_accounts(org)
    kinds = dict(Unit.objects.values_list("kind").annotate(n=Count("id")).values_list("kind", "n"))
    report.unit_counts = {str(UnitKind(k).label): kinds.get(k, 0) for k in UnitKind.values}
    report.user_count = User.objects.count()
    by_status = dict(Case.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    report.status_counts = [(s, str(CaseStatus(s).label), by_status.get(s, 0)) for s in CaseStatus.values]
    closed = Case.objects.filter(status=CaseStatus.CLOSED)
    by_kind = dict(closed.values_list("close_kind").annotate(n=Count("id")).values_list("close_kind", "n"))
    report.close_kind_counts = [(k, str(CloseKind(k).label), by_kind.get(k, 0)) for k in CloseKind.values]
