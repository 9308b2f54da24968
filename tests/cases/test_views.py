"""The workbench pages: rendering per role, scoping (404), form errors inline, the loop through HTML forms."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.test import Client
from openpyxl import load_workbook

from hotline.cases.models import Assignment, AssignmentRole, Case, CaseStatus
from tests.conftest import CONTENT, dispatched_to, fresh, submitted_case


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_login_page_and_redirect(db):
    assert Client().get("/").status_code == 302
    page = Client().get("/login/")
    assert page.status_code == 200 and "工作人员登录" in page.content.decode()


@pytest.mark.parametrize("who", ["agent", "dispatcher", "leader", "east", "east_leader", "xingfu"])
def test_every_role_gets_its_home(city, people, who):
    dispatched_to(city, people, city.east)
    html = client_for(getattr(people, who)).get("/").content.decode()
    expected = {
        "agent": "待回访",
        "dispatcher": "结果待审核",
        "leader": "今日受理",
        "east": "待签收",
        "east_leader": "近30天办结上报",
        "xingfu": "没有待签收的工单",
    }[who]
    assert expected in html


def test_intake_form_shows_errors_inline_and_saves_nothing(city, people):
    response = client_for(people.agent).post(
        "/cases/new/",
        {
            "case_type": "complaint",
            "content": "太短了",
            "citizen_phone": "12345678901",
            "channel": "phone",
            "action": "submit",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="error-content"' in html and "不少于50个字" in html
    assert 'data-testid="error-citizen_phone"' in html
    assert Case.objects.count() == 0


def test_intake_form_creates_a_case(city, people):
    response = client_for(people.agent).post(
        "/cases/new/",
        {
            "case_type": "complaint",
            "content": CONTENT,
            "citizen_phone": "13812345678",
            "channel": "phone",
            "location_unit": city.xingfu.pk,
            "bureau": city.housing.pk,
            "action": "submit",
        },
    )
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    assert case.status == CaseStatus.SUBMITTED and case.intake_by == people.agent


def test_case_page_of_another_district_is_404(city, people):
    case = dispatched_to(city, people, city.liyuan)
    assert client_for(people.west).get(f"/cases/{case.pk}/").status_code == 404
    assignment = Assignment.objects.get(case=case, role=AssignmentRole.MAIN)
    assert client_for(people.west).post(f"/assignments/{assignment.pk}/act/sign-for/").status_code == 404
    assert (
        client_for(people.west).post(f"/cases/{case.pk}/act/callback/", {"rating": "satisfied"}).status_code
        == 404
    )
    search = client_for(people.west).get("/cases/search/").content.decode()
    assert case.number not in search


def test_dispatch_sign_and_report_through_forms(city, people):
    case = submitted_case(city, people)
    page = client_for(people.dispatcher).get(f"/cases/{case.pk}/").content.decode()
    assert "默认主办单位" in page and "东湖区" in page
    client_for(people.dispatcher).post(
        f"/cases/{case.pk}/act/dispatch/",
        {"version": case.version, "main_unit": city.east.pk, "assisting_units": [], "opinion": "请办理"},
    )
    case = fresh(case)
    assert case.status == CaseStatus.DISPATCHED
    assignment = Assignment.objects.get(case=case, role=AssignmentRole.MAIN)
    east = client_for(people.east)
    east.post(f"/assignments/{assignment.pk}/act/sign-for/", {"version": case.version})
    response = east.post(
        f"/assignments/{assignment.pk}/act/report/", {"result": "已处理", "_label": "办结上报"}, follow=True
    )
    assert "办结上报成功" in response.content.decode()
    assert fresh(case).status == CaseStatus.RESULT_REVIEW


def test_dispatch_errors_are_shown(city, people):
    case = submitted_case(city, people)
    response = client_for(people.dispatcher).post(
        f"/cases/{case.pk}/act/dispatch/", {"version": case.version, "main_unit": ""}, follow=True
    )
    assert "请指定主办单位" in response.content.decode()
    stale = client_for(people.dispatcher).post(
        f"/cases/{case.pk}/act/dispatch/", {"version": 99, "main_unit": city.east.pk}, follow=True
    )
    assert "刷新后重试" in stale.content.decode()


def test_search_page_and_excel_export(city, people):
    case = submitted_case(city, people)
    client = client_for(people.dispatcher)
    page = client.get("/cases/search/", {"caller_phone": "13812345678"}).content.decode()
    assert case.number in page
    export = client.get("/cases/search/", {"export": "xlsx"})
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(BytesIO(export.content)).active.values)
    assert rows[0][0] == "工单编号" and rows[1][0] == case.number


def test_board_and_notices(city, people):
    dispatched_to(city, people, city.east)
    board = client_for(people.dispatcher).get("/cases/board/").content.decode()
    assert "东湖区" in board and "待签收" in board
    assert client_for(people.dispatcher).get("/partials/notices/").status_code == 200


def test_citizen_lookup_and_unit_picker(city, people):
    submitted_case(city, people)
    html = (
        client_for(people.agent).get("/partials/citizen/", {"citizen_phone": "13812345678"}).content.decode()
    )
    assert "老来电人" in html and "该来电人近期工单" in html
    options = client_for(people.dispatcher).get("/partials/units/", {"q": "lyjd"}).content.decode()
    assert "梨园街道" in options and "东湖区" not in options


def test_search_by_unit_and_typical_recording(city, people):
    involved = dispatched_to(city, people, city.east)
    other = dispatched_to(city, people, city.west, is_typical_recording=True)
    client = client_for(people.dispatcher)
    by_unit = client.get("/cases/search/", {"unit": city.east.pk}).content.decode()
    assert involved.number in by_unit and other.number not in by_unit
    recorded = client.get("/cases/search/", {"typical_recording": "true"}).content.decode()
    assert other.number in recorded and involved.number not in recorded
