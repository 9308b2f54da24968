"""The demo generator builds a complete city and pushes cases into every status, through the services."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count

from hotline.cases.models import Assignment, Case, CaseEvent, CaseStatus, CloseKind
from hotline.demo.generator import seed_demo
from hotline.orgs.models import Role, Unit, UnitKind, User, UserRole

MOBILE = re.compile(r"^1[3-9]\d{9}$")


@pytest.fixture
def demo(db: None) -> None:
    report = seed_demo(cases=60, seed=7)
    assert report.created


def _children(unit: Unit, kind: str) -> int:
    return unit.children.filter(kind=kind).count()


@pytest.mark.usefixtures("demo")
def test_unit_tree_meets_the_minimums() -> None:
    assert Unit.objects.filter(kind=UnitKind.OFFICE).count() == 1
    city_bureaus = Unit.objects.filter(kind=UnitKind.BUREAU, parent__isnull=True)
    assert city_bureaus.count() >= 10
    assert city_bureaus.filter(is_vertical=True).count() >= 3
    districts = Unit.objects.filter(kind=UnitKind.DISTRICT)
    assert districts.count() >= 5
    for district in districts:
        assert _children(district, UnitKind.BUREAU) == 2
        assert _children(district, UnitKind.STREET) >= 4
    streets = Unit.objects.filter(kind=UnitKind.STREET)
    assert streets.count() >= 20
    assert all(_children(street, UnitKind.COMMUNITY) >= 3 for street in streets)
    assert Unit.objects.filter(kind=UnitKind.COMMUNITY).count() >= 60
    codes = list(Unit.objects.values_list("code", flat=True))
    assert len(codes) == len(set(codes)) and {"OFFICE", "D01", "D01B01", "D01S02", "D01S02C03"} <= set(codes)


@pytest.mark.usefixtures("demo")
def test_every_role_has_a_user_and_every_unit_its_staff() -> None:
    assert set(UserRole.objects.values_list("role", flat=True)) == set(Role.values)
    assert User.objects.get(username="admin").is_superuser
    handled = set(UserRole.objects.filter(role=Role.UNIT_HANDLER).values_list("user__unit_id", flat=True))
    led = set(UserRole.objects.filter(role=Role.UNIT_LEADER).values_list("user__unit_id", flat=True))
    for unit in Unit.objects.exclude(kind=UnitKind.OFFICE):
        assert unit.pk in handled, unit.code
        if unit.kind in (UnitKind.DISTRICT, UnitKind.STREET):
            assert unit.pk in led, unit.code
    assert led & set(Unit.objects.filter(kind=UnitKind.BUREAU).values_list("pk", flat=True))
    community_handler = User.objects.select_related("unit").get(username="d01s01c01_handler")
    assert community_handler.unit is not None and community_handler.unit.code == "D01S01C01"


@pytest.mark.usefixtures("demo")
def test_cases_cover_every_status_and_way_of_closing() -> None:
    assert Case.objects.count() == 60
    statuses = set(Case.objects.values_list("status", flat=True))
    assert statuses == set(CaseStatus.values) - {CaseStatus.MERGED}
    close_kinds = set(Case.objects.filter(status=CaseStatus.CLOSED).values_list("close_kind", flat=True))
    assert close_kinds == set(CloseKind.values)
    # Some cases went district → street → community.
    assert Assignment.objects.filter(level=3, unit__kind=UnitKind.COMMUNITY).exists()


@pytest.mark.usefixtures("demo")
def test_cases_are_plausible_and_their_timelines_ordered() -> None:
    for case in Case.objects.all():
        assert len(case.content) >= 50
        assert MOBILE.match(case.citizen_phone), case.citizen_phone
        assert case.location_unit is not None and case.district is not None
    assert not Case.objects.annotate(n=Count("events")).filter(n=0).exists()
    events = list(CaseEvent.objects.order_by("case_id", "id").values_list("case_id", "at"))
    for (case_a, at_a), (case_b, at_b) in zip(events, events[1:], strict=False):
        assert case_a != case_b or at_a <= at_b
    first, last = Case.objects.order_by("created_at").values_list("created_at", flat=True)[::59]
    assert (last - first).days >= 20  # spread over the last two months


@pytest.mark.usefixtures("demo")
def test_demo_callbacks_record_whether_the_unit_responded_and_the_problem_was_solved() -> None:
    from hotline.cases.models import Callback

    staff = Callback.objects.filter(actor__isnull=False)
    assert (
        staff.exists() and not staff.filter(responded="").exists() and not staff.filter(solution="").exists()
    )
    assert set(staff.values_list("responded", flat=True)) <= {"yes", "no"}
    assert len(set(staff.values_list("solution", flat=True))) >= 2  # not all alike


@pytest.mark.usefixtures("demo")
def test_command_is_idempotent_and_prints_the_accounts() -> None:
    before = (Unit.objects.count(), User.objects.count(), Case.objects.count())
    out = StringIO()
    call_command("seed_demo", "--cases", "5", stdout=out)
    assert (Unit.objects.count(), User.objects.count(), Case.objects.count()) == before
    text = out.getvalue()
    assert "已存在" in text and "http://127.0.0.1:8000/admin/" in text and "/api/v1/docs/" in text
    assert "dispatcher1" in text and "d01s01c01_handler" in text


def test_demo_knowledge_base_layouts_and_blacklist(
    db, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    from hotline.citizens.models import ScreenPopLayout
    from hotline.citizens.selectors import blacklist_lookup
    from hotline.knowledge import selectors as kb
    from hotline.knowledge.engine import reset_engines

    monkeypatch.setenv("HOTLINE_KB_INDEX_DIR", str(tmp_path / "kb-index"))
    reset_engines()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            seed_demo(cases=5, seed=7)
        agent = User.objects.get(username="agent1")
        titles = [h.title_html for h in kb.kb_search(user=agent, q="噪音 扰民").hits]
        assert any("夜间施工" in t for t in titles)
        reviewer = User.objects.get(username="kbreviewer1")
        assert [v.title for v in kb.review_queue(user=reviewer)] == ["来电人情绪激动时的应答口径"]
        assert blacklist_lookup("13900000666") is not None
        assert ScreenPopLayout.objects.filter(prefix="027").exists()
        with django_capture_on_commit_callbacks(execute=True):
            assert not seed_demo(cases=5, seed=7).created  # a second run adds nothing
        assert kb.kb_search(user=agent, q="夜间施工").total == 1
    finally:
        reset_engines()


@pytest.mark.usefixtures("demo")
def test_demo_cases_follow_the_default_flow_template() -> None:
    from hotline.flows.models import CaseFlow, FlowTemplate, VersionStatus
    from hotline.flows.selectors import case_position

    template = FlowTemplate.objects.get(code="default")
    assert template.versions.get().status == VersionStatus.PUBLISHED
    assert CaseFlow.objects.count() == Case.objects.count() == 60  # every status reached under the template
    for case in Case.objects.exclude(status=CaseStatus.MERGED):
        position = case_position(case=case)
        assert position is not None and position.current, case.status
    call_command("seed_demo", "--cases", "5", stdout=StringIO())
    assert FlowTemplate.objects.count() == 1
