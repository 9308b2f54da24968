"""The workbench defects staff hit first (issue 11, items 9–14, 16–17): true counts and paging, the running
deadline, lower levels' reports and their own deadline, revealing a caller's number, the docked reminder's
scope, hot questions and typical cases, printing, English dates."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone, translation

from hotline.cases import selectors, services
from hotline.cases.models import Assignment, AssignmentRole, Case, CaseStatus, OverdueMark, Rating
from hotline.common import clock
from hotline.common.models import AuditLog
from hotline.common.templatetags.hotline import cn_short
from hotline.notify.models import Outbox
from hotline.orgs.models import Role
from hotline.orgs.services import user_create
from hotline.sla.models import Clock, Stage, TimeLimit
from tests.cases.test_closing import reported
from tests.conftest import as_user, dispatched_to, fresh, submitted_case


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def main_of(case: Case, unit) -> Assignment:
    return Assignment.objects.get(case=case, unit=unit, role=AssignmentRole.MAIN)


# --------------------------------------------------------------------------- 9: true counts and paging


def test_home_queue_shows_the_true_count_and_pages(city, people):
    for _ in range(24):
        submitted_case(city, people)
    dispatcher = client_for(people.dispatcher)
    first = dispatcher.get("/").content.decode()
    assert 'data-testid="count-submitted">24<' in first
    assert "第 1 / 2 页，共 24 件" in first
    second = dispatcher.get("/?p_submitted=2").content.decode()
    queue = second.split('data-testid="queue-submitted"')[1].split("</table>")[0]
    assert queue.count('href="/cases/') == 4


def test_unit_worklist_pages_keep_the_other_queue_page(city, people):
    for _ in range(22):
        dispatched_to(city, people, city.housing)
    page = client_for(people.housing).get("/?p_to_sign=2&p_handling=1").content.decode()
    assert 'data-testid="count-to_sign">22<' in page
    to_sign = page.split('data-testid="work-to_sign"')[1].split("</table>")[0]
    assert to_sign.count('data-testid="work-row"') == 2
    assert "p_handling=1&amp;p_to_sign=1" in page  # the previous-page link keeps the other queue's page


def test_search_pages_with_the_shared_pager(city, people):
    for _ in range(21):
        submitted_case(city, people)
    page = client_for(people.dispatcher).get("/cases/search/?status=submitted&page=2").content.decode()
    assert "第 2 / 2 页，共 21 件" in page and 'data-testid="pager-page"' in page


# --------------------------------------------------------------------------- 10: the running deadline


def test_worklist_shows_and_sorts_by_the_sign_for_deadline(city, people):
    case = dispatched_to(city, people, city.housing)
    sign_for = Clock.objects.get(case=case, stage=Stage.SIGN_FOR)
    row = selectors.worklist(user=people.housing, tab="to_sign").get()
    assert row.running_due == sign_for.due_at and row.running_stage == Stage.SIGN_FOR
    assert sign_for.due_at < row.due_at  # the reply deadline is later; the screen showed that one
    services.assignment_sign_for(
        assignment=main_of(case, city.housing), actor=people.housing, expected_version=None
    )
    row = selectors.worklist(user=people.housing, tab="handling").get()
    assert row.running_stage == Stage.REPLY and row.running_due == row.due_at
    html = client_for(people.housing).get("/").content.decode()
    assert "答复热线办" in html


def test_overdue_only_lists_cases_whose_running_deadline_has_passed(city, people):
    late_sign_for = dispatched_to(city, people, city.housing)
    services.assignment_sign_for(
        assignment=main_of(late_sign_for, city.housing), actor=people.housing, expected_version=None
    )
    # its sign-for yellow card marked it overdue once; its reply deadline is still days ahead
    OverdueMark.objects.create(case=late_sign_for, at=clock.now())
    late_reply = dispatched_to(city, people, city.tax)
    Clock.objects.filter(case=late_reply, stage=Stage.REPLY).update(
        due_at=clock.now() - dt.timedelta(hours=1)
    )
    page = client_for(people.dispatcher).get("/cases/search/?overdue=true").content.decode()
    assert late_reply.number in page
    assert late_sign_for.number not in page


def test_callback_queue_shows_and_sorts_by_the_callback_deadline(city, people):
    first, second = reported(city, people), reported(city, people)
    for case in (first, second):
        services.case_review_accept(case=fresh(case), actor=people.dispatcher, expected_version=None)
    # the second one waited longer for its callback
    Clock.objects.filter(case=second, stage=Stage.CALLBACK).update(due_at=clock.now() + dt.timedelta(hours=1))
    rows = list(selectors.office_queue(user=people.agent, statuses=[CaseStatus.CALLBACK], by_deadline=True))
    assert [c.pk for c in rows] == [second.pk, first.pk]
    assert rows[0].running_stage == Stage.CALLBACK
    page = client_for(people.agent).get("/").content.decode()
    queue = page.split('data-testid="queue-callback"')[1].split("</table>")[0]
    assert queue.index(second.number) < queue.index(first.number) and "回访" in queue


# --------------------------------------------------------------------------- 11: forwarded steps


def _forwarded(city, people):
    case = dispatched_to(city, people, city.east)
    east = main_of(case, city.east)
    services.assignment_sign_for(assignment=east, actor=people.east, expected_version=None)
    services.assignment_forward(
        assignment=east,
        actor=people.east,
        expected_version=None,
        targets=[services.Target(city.liyuan, AssignmentRole.MAIN)],
    )
    return case, Assignment.objects.get(pk=east.pk), main_of(case, city.liyuan)


def test_a_forwarded_step_gets_its_own_deadline_within_the_parents(city, people):
    case, east, liyuan = _forwarded(city, people)
    assert TimeLimit.objects.filter(stage=Stage.FORWARDED, is_active=True).exists()  # seeded, editable data
    assert liyuan.due_at is not None and liyuan.due_at < east.due_at
    page = client_for(people.liyuan).get("/").content.decode()
    assert 'data-testid="parent-due"' in page


def test_without_a_forwarded_rule_the_step_inherits_the_parents_deadline(city, people):
    for rule in TimeLimit.objects.filter(
        stage=Stage.FORWARDED
    ):  # as an admin edits it (signals refresh caches)
        rule.is_active = False
        rule.save()
    case, east, liyuan = _forwarded(city, people)
    assert liyuan.due_at == east.due_at


def test_the_parent_unit_sees_that_the_lower_level_reported(city, people):
    case, east, liyuan = _forwarded(city, people)
    services.assignment_sign_for(assignment=liyuan, actor=people.liyuan, expected_version=None)
    services.assignment_report(assignment=liyuan, actor=people.liyuan, expected_version=None, result="已清理")
    row = selectors.worklist(user=people.east, tab="handling").get()
    assert row.child_reported
    assert 'data-testid="child-reported"' in client_for(people.east).get("/").content.decode()


# --------------------------------------------------------------------------- 12: 查看号码


def test_a_unit_handler_reveals_the_number_and_each_reveal_is_audited(city, people):
    case = dispatched_to(city, people, city.housing)
    housing = client_for(people.housing)
    detail = housing.get(f"/cases/{case.pk}/").content.decode()
    assert "138****5678" in detail and 'data-testid="reveal-phone"' in detail
    for _ in range(2):
        answer = housing.post(f"/cases/{case.pk}/reveal-phone/")
        assert answer.status_code == 200 and "13812345678" in answer.content.decode()
    assert (
        AuditLog.objects.filter(action="reveal_phone", object_id=str(case.pk), actor=people.housing).count()
        == 2
    )
    # another unit cannot reach the case at all
    assert client_for(people.tax).post(f"/cases/{case.pk}/reveal-phone/").status_code == 404


def test_no_reveal_for_a_caller_who_asked_for_secrecy(city, people):
    from hotline.common.models import DictItem, DictKind

    secret = DictItem.objects.filter(kind=DictKind.SECRECY, rank__gte=1).first()
    case = dispatched_to(city, people, city.housing, secrecy=secret)
    housing = client_for(people.housing)
    assert 'data-testid="reveal-phone"' not in housing.get(f"/cases/{case.pk}/").content.decode()
    refused = housing.post(f"/cases/{case.pk}/reveal-phone/")
    assert refused.status_code == 403 and "13812345678" not in refused.content.decode()
    assert not AuditLog.objects.filter(action="reveal_phone").exists()


def test_reveal_phone_api(city, people, api):
    case = dispatched_to(city, people, city.housing)
    answer = as_user(api, people.housing).post(f"/api/v1/cases/{case.pk}/reveal-phone/")
    assert answer.status_code == 200 and answer.json()["phone"] == "13812345678"
    assert as_user(api, people.tax).post(f"/api/v1/cases/{case.pk}/reveal-phone/").status_code == 404
    kb = user_create(
        username="kb", password="pw-123456", full_name="知识库", unit=city.housing, roles=[Role.KB_EDITOR]
    )
    assert as_user(api, kb).post(f"/api/v1/cases/{case.pk}/reveal-phone/").status_code == 403


# --------------------------------------------------------------------------- 13: the reminder's scope, read on click


def test_the_reminder_concerns_case_roles_only(city, people):
    submitted = dispatched_to(city, people, city.housing)
    Clock.objects.filter(case=submitted).update(due_at=clock.now() - dt.timedelta(hours=1))
    kb = user_create(
        username="kbe", password="pw-123456", full_name="知识库", unit=city.office, roles=[Role.KB_EDITOR]
    )
    assert 'data-testid="notices"' not in client_for(kb).get("/partials/notices/").content.decode()
    assert 'data-testid="notices"' in client_for(people.dispatcher).get("/partials/notices/").content.decode()


def test_opening_a_notice_marks_it_read_and_follows_its_link(city, people):
    case = dispatched_to(city, people, city.housing)
    services.case_urge(case=case, actor=people.dispatcher, expected_version=None, message="请尽快办理")
    message = Outbox.objects.filter(recipient=people.housing, channel="in_app").latest("id")
    assert message.link == f"/cases/{case.pk}/"
    housing = client_for(people.housing)
    assert f"/notices/{message.pk}/open/" in housing.get("/partials/notices/").content.decode()
    answer = housing.get(f"/notices/{message.pk}/open/")
    assert answer.status_code == 302 and answer["Location"] == f"/cases/{case.pk}/"
    assert Outbox.objects.get(pk=message.pk).read_at is not None
    # Someone else's notice is neither read nor followed: 404, as for any object of another unit (ORG-2).
    second = services.case_urge(case=case, actor=people.dispatcher, expected_version=None, message="再次催办")
    other = Outbox.objects.filter(recipient=people.housing, channel="in_app").latest("id")
    assert second and other.pk != message.pk
    assert client_for(people.tax).get(f"/notices/{other.pk}/open/").status_code == 404
    assert client_for(people.tax).post(f"/notices/{other.pk}/open/").status_code == 404
    assert Outbox.objects.get(pk=other.pk).read_at is None


# --------------------------------------------------------------------------- 14: hot questions, typical cases


def _closed(city, people, **marks):
    case = reported(city, people)
    services.case_review_accept(case=fresh(case), actor=people.dispatcher, expected_version=None)
    services.case_callback(
        case=fresh(case),
        actor=people.agent,
        expected_version=None,
        rating=Rating.SATISFIED,
        method="phone",
        responded="yes",
        solution="solved",
    )
    services.case_set_close_marks(
        case=fresh(case),
        actor=people.dispatcher,
        expected_version=None,
        is_public=marks.get("is_public", False),
        push_hot=marks.get("push_hot", False),
        is_typical=marks.get("is_typical", False),
    )
    return fresh(case)


def test_hot_questions_list_public_cases_marked_hot(city, people, api):
    hot = _closed(city, people, is_public=True, push_hot=True)
    private_hot = _closed(city, people, is_public=False, push_hot=True)
    _closed(city, people, is_public=True)
    page = client_for(people.agent).get("/cases/hot-questions/").content.decode()
    assert 'data-testid="hot-count">1<' in page and f"/cases/{hot.pk}/" in page
    assert f"/cases/{private_hot.pk}/" not in page
    public = api.get("/api/v1/public/hot-questions/")
    assert public.status_code == 200
    rows = public.json()["results"]
    assert [r["number"] for r in rows] == [hot.number] and rows[0]["reply"] == "已处理完毕"
    assert "13812345678" not in public.content.decode() and "王女士" not in public.content.decode()


def test_search_filters_typical_cases(city, people):
    typical = _closed(city, people, is_typical=True)
    plain = _closed(city, people)
    page = client_for(people.dispatcher).get("/cases/search/?typical=true").content.decode()
    assert typical.number in page and plain.number not in page


# --------------------------------------------------------------------------- 16: printing


def test_the_assignment_sheet_prints_masked_as_on_screen(city, people):
    case = dispatched_to(city, people, city.housing)
    sheet = client_for(people.housing).get(f"/cases/{case.pk}/print/")
    html = sheet.content.decode()
    assert sheet.status_code == 200 and "交办单" in html and case.number in html and "市住建局" in html
    assert "138****5678" in html and "13812345678" not in html
    assert "@page" not in html and "print.css" in html  # A4 layout in the static print sheet
    assert client_for(people.tax).get(f"/cases/{case.pk}/print/").status_code == 404


def test_search_prints_every_matching_row(city, people):
    for _ in range(24):
        submitted_case(city, people)
    html = client_for(people.dispatcher).get("/cases/search/?status=submitted&print=1").content.decode()
    rows = html.split('data-testid="print-rows"')[1]
    assert rows.count("<tr><td>") == 24 and "共 24 件" in html


# --------------------------------------------------------------------------- 17: English mode


def test_dates_follow_the_language():
    moment = timezone.localtime().replace(month=3, day=5, hour=9, minute=7)
    with translation.override("en"):
        assert cn_short(moment) == "5 Mar 09:07"
    with translation.override("zh-hans"):
        assert "3月5日" in cn_short(moment)


@pytest.mark.parametrize("status", [403, 404])
def test_error_pages_in_the_house_style(city, people, settings, status):
    settings.DEBUG = False
    client = client_for(people.tax)
    url = "/no-such-page/" if status == 404 else "/supervision/"
    page = client.get(url)
    assert page.status_code == status
    html = page.content.decode()
    assert "12345" in html and "navbar-gov" in html and "favicon" in html


def test_the_500_page_needs_no_request_and_keeps_the_house_style(db):
    from django.template import loader
    from django.test import RequestFactory
    from django.views.defaults import server_error

    page = server_error(RequestFactory().get("/"))
    html = page.content.decode()
    assert page.status_code == 500 and "navbar-gov" in html and "favicon" in html and "系统繁忙" in html
    assert loader.get_template("500.html")


def test_favicon(client):
    answer = client.get("/favicon.ico")
    assert answer.status_code == 301 and answer["Location"].endswith("hotline/favicon.svg")
