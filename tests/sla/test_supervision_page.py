"""The supervision page (issue 11, item 15): a section at a time, each figure links to its cases (the same
definition, the same period), and the figures export to Excel."""

from __future__ import annotations

import datetime as dt
import html
import io
import re

from django.test import Client
from openpyxl import load_workbook

from hotline.cases import services
from hotline.cases.models import Assignment, AssignmentRole
from hotline.common import clock
from hotline.sla.models import Alert, AlertKind, Clock, Stage
from tests.conftest import dispatched_to


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _yellow(case, unit) -> None:
    assignment = Assignment.objects.get(case=case, unit=unit, role=AssignmentRole.MAIN)
    sign_for = Clock.objects.get(assignment=assignment, stage=Stage.SIGN_FOR)
    Alert.objects.create(
        clock=sign_for, kind=AlertKind.YELLOW, case=case, unit=unit, raised_at=clock.now(), run_id="t"
    )


def test_each_figure_links_to_its_cases(city, people):
    carded = [dispatched_to(city, people, city.housing) for _ in range(2)]
    other = dispatched_to(city, people, city.tax)  # a yellow card of another unit
    quiet = dispatched_to(city, people, city.housing)  # no card
    for case in carded:
        _yellow(case, city.housing)
    _yellow(other, city.tax)
    dispatcher = client_for(people.dispatcher)
    page = dispatcher.get("/supervision/").content.decode()
    assert 'data-testid="supervision-tabs"' in page
    row = page.split("市住建局")[1].split("</tr>")[0]
    links = re.findall(r'href="([^"]+)" data-testid="figure-link">(\d+)<', row)
    yellow = next(href for href, n in links if "alert=yellow" in href)
    assert dict((n, href) for href, n in links)["2"] == yellow
    results = dispatcher.get(html.unescape(yellow)).content.decode()
    assert 'data-testid="result-count">2<' in results
    assert all(c.number in results for c in carded)
    assert other.number not in results and quiet.number not in results


def test_sections_are_tabs_and_late_sign_for_links(city, people):
    case = dispatched_to(city, people, city.housing)
    Clock.objects.filter(case=case, stage=Stage.SIGN_FOR).update(due_at=clock.now() - dt.timedelta(hours=2))
    services.assignment_sign_for(
        assignment=Assignment.objects.get(case=case, role=AssignmentRole.MAIN),
        actor=people.housing,
        expected_version=None,
    )
    dispatcher = client_for(people.dispatcher)
    ledger = dispatcher.get("/supervision/").content.decode()
    assert 'data-testid="card-ledger"' in ledger and 'data-testid="time-limits"' not in ledger
    limits = dispatcher.get("/supervision/?tab=limits").content.decode()
    row = limits.split("市住建局")[1].split("</tr>")[0]
    late = html.unescape(re.findall(r'href="([^"]*late_stage=sign_for[^"]*)"', row)[0])
    assert case.number in dispatcher.get(late).content.decode()


def test_supervision_exports_to_excel(city, people):
    case = dispatched_to(city, people, city.housing)
    _yellow(case, city.housing)
    answer = client_for(people.dispatcher).get("/supervision/?export=xlsx")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames[:3] == ["红黄牌台账", "时限督办", "结果督办"]
    ledger = list(book["红黄牌台账"].values)
    assert ledger[1][0] == "市住建局" and ledger[1][2] == 1
    assert client_for(people.east).get("/supervision/?export=xlsx").status_code == 403
