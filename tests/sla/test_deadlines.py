"""Deadlines on cases: time limits as data, warnings, yellow and red cards, reminders, extensions, urging."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from hotline.cases import services
from hotline.cases.models import Assignment, AssignmentRole, CaseEvent, OverdueMark
from hotline.common import clock
from hotline.common.errors import ServiceError
from hotline.common.models import DictKind
from hotline.notify.models import Outbox
from hotline.sla import services as sla
from hotline.sla.models import Alert, Clock, Stage, TimeLimit
from hotline.sla.sweep import sweep
from tests.conftest import dict_item, dispatched_to, fresh
from tests.notices import usernames

SH = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


def main_of(case):
    return Assignment.objects.get(case=case, role=AssignmentRole.MAIN, round=fresh(case).dispatch_round)


def kinds(case) -> list[str]:
    return sorted(Alert.objects.filter(case=case).values_list("kind", flat=True))


def test_time_limits_are_data_and_the_most_specific_wins(city, people):
    with clock.frozen_now(at(2026, 11, 23, 10)):  # Monday
        normal = dispatched_to(city, people, city.east)
        consult = dispatched_to(city, people, city.east, case_type=dict_item(DictKind.CASE_TYPE, "consult"))
        urgent = dispatched_to(city, people, city.east, urgency=dict_item(DictKind.URGENCY, "urgent"))
    assert main_of(normal).due_at == at(2026, 11, 30, 10)  # 5 working days
    assert main_of(consult).due_at == at(2026, 11, 26, 10)  # 3 working days for consultations
    assert main_of(urgent).due_at == at(2026, 11, 25, 10)  # 2 working days when urgent
    sign = Clock.objects.get(assignment=main_of(urgent), stage=Stage.SIGN_FOR)
    assert sign.due_at == at(2026, 11, 23, 12, 0)  # 2 office hours
    TimeLimit.objects.create(
        stage=Stage.REPLY, case_type=dict_item(DictKind.CASE_TYPE, "complaint"), amount=4
    )
    with clock.frozen_now(at(2026, 11, 23, 10)):
        complaint = dispatched_to(city, people, city.east)
    assert main_of(complaint).due_at == at(2026, 11, 27, 10)


def test_a_case_walks_across_spring_festival_into_yellow_then_red(city, people):
    with clock.frozen_now(at(2026, 2, 12, 9)):  # Thu; 5 wd: 13, 14 (make-up Sat), 24, 25, 26 Feb
        case = dispatched_to(city, people, city.east)
        main = main_of(case)
        services.assignment_sign_for(assignment=main, actor=people.east, expected_version=None)
    main.refresh_from_db()
    assert main.due_at == at(2026, 2, 26, 9)
    for moment, expected in [
        (at(2026, 2, 20, 9), ["reminder"]),  # 7 calendar days after the start, in the middle of the holiday
        (at(2026, 2, 25, 9, 1), ["reminder", "warning"]),  # the last working day before the deadline
        (at(2026, 2, 26, 9, 1), ["reminder", "warning", "yellow"]),
        (at(2026, 2, 28, 10), ["reminder", "warning", "yellow"]),  # 2 working days overdue: still yellow
        # Sat 28 Feb is a make-up workday, so the third working day overdue is Mon 2 March.
        (at(2026, 3, 2, 9, 1), ["red", "reminder", "warning", "yellow"]),
    ]:
        with clock.frozen_now(moment):
            sweep()
            sweep()  # running twice raises nothing twice
        assert kinds(case) == expected, moment
    assert OverdueMark.objects.filter(case=case).exists()
    timeline = list(CaseEvent.objects.filter(case=case).values_list("action", flat=True))
    assert {"sla_warning", "sla_yellow", "sla_red", "sla_reminder"} <= set(timeline)
    # yellow to the handler and the unit leader, red to the unit leader (and the parent unit's leaders: none)
    assert usernames(template="sla_yellow", channel="in_app") == ["east", "east_leader"]
    assert usernames(template="sla_red", channel="in_app") == ["east_leader"]


def test_reporting_in_time_stops_the_clock(city, people):
    with clock.frozen_now(at(2026, 11, 23, 10)):
        case = dispatched_to(city, people, city.east)
        main = main_of(case)
        services.assignment_sign_for(assignment=main, actor=people.east, expected_version=None)
        services.assignment_report(assignment=main, actor=people.east, expected_version=None, result="已办结")
    with clock.frozen_now(at(2026, 12, 10, 10)):
        sweep()
    reply_alerts = Alert.objects.filter(case=case, clock__stage=Stage.REPLY)
    assert not reply_alerts.exists()


def test_extension_moves_the_deadline_within_the_rules_maximum(city, people):
    with clock.frozen_now(at(2026, 11, 23, 10)):
        case = dispatched_to(city, people, city.east)
        main = main_of(case)
        services.assignment_sign_for(assignment=main, actor=people.east, expected_version=None)
        with pytest.raises(ServiceError, match="最长期限"):
            services.assignment_request_extension(
                assignment=main,
                actor=people.east,
                expected_version=None,
                requested_due_at=at(2027, 3, 1, 10),
                reason="太久",
            )
        with pytest.raises(ServiceError, match="早于当前时间"):
            services.assignment_request_extension(
                assignment=main,
                actor=people.east,
                expected_version=None,
                requested_due_at=at(2026, 11, 20, 10),
                reason="过去",
            )
        request = services.assignment_request_extension(
            assignment=main,
            actor=people.east,
            expected_version=None,
            requested_due_at=at(2026, 12, 4, 10),
            reason="需协调",
        )
        services.extension_decide(
            request=request, actor=people.dispatcher, expected_version=None, approve=True
        )
    main.refresh_from_db()
    assert main.due_at == at(2026, 12, 4, 10) and fresh(case).due_at == at(2026, 12, 4, 10)
    with clock.frozen_now(at(2026, 11, 30, 10, 1)):  # the old deadline passes quietly
        sweep()
    assert "yellow" not in kinds(case)
    with clock.frozen_now(at(2026, 12, 4, 10, 1)):
        sweep()
    assert "yellow" in kinds(case)


def test_redo_gets_a_fresh_deadline(city, people):
    with clock.frozen_now(at(2026, 11, 23, 10)):
        case = dispatched_to(city, people, city.east)
        main = main_of(case)
        services.assignment_sign_for(assignment=main, actor=people.east, expected_version=None)
        services.assignment_report(assignment=main, actor=people.east, expected_version=None, result="好了")
    with clock.frozen_now(at(2026, 11, 24, 10)):
        services.case_review_reject(
            case=fresh(case), actor=people.dispatcher, expected_version=None, opinion="不完整"
        )
    main.refresh_from_db()
    assert main.due_at == at(2026, 12, 1, 10)
    assert Clock.objects.filter(assignment=main, stage=Stage.REPLY, stopped_at__isnull=True).count() == 1


def test_callback_and_total_clocks_follow_the_status(city, people):
    with clock.frozen_now(at(2026, 11, 23, 10)):
        case = dispatched_to(city, people, city.east)
        assert Clock.objects.filter(case=case, stage=Stage.TOTAL, stopped_at__isnull=True).count() == 1
        main = main_of(case)
        services.assignment_sign_for(assignment=main, actor=people.east, expected_version=None)
        services.assignment_report(assignment=main, actor=people.east, expected_version=None, result="好了")
        services.case_review_accept(case=fresh(case), actor=people.dispatcher, expected_version=None)
        callback = Clock.objects.get(case=case, stage=Stage.CALLBACK)
        assert callback.due_at == at(2026, 11, 25, 10) and callback.stopped_at is None
        services.case_callback(
            case=fresh(case),
            actor=people.agent,
            expected_version=None,
            rating="satisfied",
            method="phone",
            responded="yes",
            solution="solved",
        )
    assert not Clock.objects.filter(case=case, stopped_at__isnull=True).exists()


def test_urging_is_recorded_and_notified(city, people):
    case = dispatched_to(city, people, city.east, (city.housing, AssignmentRole.ASSISTING))
    with pytest.raises(ServiceError):
        services.case_urge(case=case, actor=people.dispatcher, expected_version=None, message=" ")
    services.case_urge(case=fresh(case), actor=people.dispatcher, expected_version=None, message="请加快办理")
    assert CaseEvent.objects.filter(case=case, action="urge").count() == 1
    assert case.urges.count() == 2  # the main and the assisting unit
    recipients = set(
        Outbox.objects.filter(template="case_urged", channel="in_app").values_list(
            "recipient__username", flat=True
        )
    )
    assert recipients == {"east", "east_leader", "housing"}


def test_deadline_computation_uses_no_query(city, people, django_assert_num_queries):
    from hotline.sla import calendar

    cal = calendar.current()
    with django_assert_num_queries(0):
        for n in range(100):
            cal.shift_working_days(at(2026, 1, 1, 9), n % 20)
    assert sla.add_limit(at(2026, 11, 23, 10), 1, "hours") == at(2026, 11, 23, 11)


def test_supervision_api(api, city, people):
    from tests.conftest import as_user

    with clock.frozen_now(at(2026, 11, 23, 10)):
        case = dispatched_to(city, people, city.east)
        request = services.assignment_request_extension(
            assignment=main_of(case),
            actor=people.east,
            expected_version=None,
            requested_due_at=at(2026, 12, 2, 10),
            reason="需协调",
        )
        services.extension_decide(
            request=request, actor=people.dispatcher, expected_version=None, approve=True
        )
    with clock.frozen_now(at(2026, 12, 8, 10)):
        sweep()
        client = as_user(api, people.dispatcher)
        cards = client.get("/api/v1/supervision/cards/").json()
        row = next(r for r in cards if r["unit_name"] == "东湖区")
        # red cards: the reply (three working days past the extended deadline) and the sign-for (never signed)
        assert row["yellow"] >= 1 and row["red"] == 2 and row["extensions_approved"] == 1
        limits = client.get("/api/v1/supervision/time-limits/").json()
        assert next(r for r in limits if r["unit_name"] == "东湖区")["signed_late"] == 1
        assert client.get("/api/v1/supervision/cards/", {"from": "2026-13-01"}).status_code == 400
        assert client.get("/api/v1/supervision/quality/").status_code == 200
        assert client.get("/api/v1/supervision/results/").status_code == 200
        # another district sees nothing of it; a handler may not open the ledger at all
        assert as_user(api, people.west).get("/api/v1/supervision/cards/").status_code == 403
        assert (
            as_user(api, people.east_leader).get("/api/v1/supervision/cards/").json()[0]["unit_name"]
            == "东湖区"
        )
        notices = as_user(api, people.east).get("/api/v1/notices/").json()
        assert any("黄牌" in n["subject"] or "超期" in n["subject"] for n in notices)
        marked = as_user(api, people.east).post(
            "/api/v1/notices/read/", {"ids": [n["id"] for n in notices]}, format="json"
        )
        assert marked.json()["marked"] == len(notices)


def test_urge_via_api(api, city, people):
    from tests.conftest import as_user

    case = dispatched_to(city, people, city.east)
    response = as_user(api, people.dispatcher).post(
        f"/api/v1/cases/{case.pk}/urge/", {"message": "请今天回复"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert (
        as_user(api, people.east)
        .post(f"/api/v1/cases/{case.pk}/urge/", {"message": "x"}, format="json")
        .status_code
        == 403
    )


def test_supervision_page(city, people):
    from django.test import Client

    client = Client()
    client.force_login(people.dispatcher)
    page = client.get("/supervision/", {"from": "2026-11-01", "to": "2026-11-30"})
    assert page.status_code == 200 and "红黄牌台账" in page.content.decode()
    assert "日期格式" in client.get("/supervision/", {"from": "bad"}).content.decode()
    handler = Client()
    handler.force_login(people.east)
    assert handler.get("/supervision/").status_code == 403


def test_case_page_shows_deadlines_and_urging_reaches_the_unit_corner(city, people):
    from django.test import Client

    case = dispatched_to(city, people, city.east)
    office = Client()
    office.force_login(people.dispatcher)
    page = office.get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="deadlines"' in page and "答复热线办" in page and "催办内容" in page
    office.post(f"/cases/{case.pk}/act/urge/", {"message": "请今天办结", "version": fresh(case).version})
    unit = Client()
    unit.force_login(people.east)
    corner = unit.get("/partials/notices/").content.decode()
    assert 'data-testid="inbox-item"' in corner and "催办" in corner
