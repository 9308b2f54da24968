"""The callback's two answers beside the rating (issue 15, the "three rates"): whether the unit contacted the
citizen and whether the problem was solved — required on a staff callback, validated, on the timeline event (the
audit of a case action) and in the API; a citizen's own rating leaves them unasked."""

from __future__ import annotations

import pytest

from hotline.cases import services
from hotline.cases.models import Callback, CaseEvent, CaseStatus
from hotline.common.errors import ServiceError
from hotline.common.models import AuditLog
from tests.cases.test_api import post
from tests.cases.test_closing import reported
from tests.conftest import as_user, fresh


def waiting_for_callback(city, people):
    case = reported(city, people)
    services.case_review_accept(case=case, actor=people.dispatcher, expected_version=None)
    return fresh(case)


@pytest.mark.parametrize(
    ("responded", "solution", "bad"),
    [
        ("", "solved", {"responded"}),
        ("yes", "", {"solution"}),
        ("maybe", "mostly", {"responded", "solution"}),
    ],
)
def test_the_service_requires_both_answers(city, people, responded, solution, bad):
    case = waiting_for_callback(city, people)
    with pytest.raises(ServiceError) as err:
        services.case_callback(
            case=case,
            actor=people.agent,
            expected_version=None,
            rating="satisfied",
            method="phone",
            responded=responded,
            solution=solution,
        )
    assert set(err.value.field_errors) == bad
    assert fresh(case).status == CaseStatus.CALLBACK and not Callback.objects.exists()


def test_the_answers_are_recorded_on_the_callback_and_its_timeline_event(city, people):
    case = waiting_for_callback(city, people)
    services.case_callback(
        case=case,
        actor=people.agent,
        expected_version=None,
        rating="dissatisfied",
        method="phone",
        responded="no",
        solution="unsolved",
    )
    callback = Callback.objects.get()
    assert (callback.responded, callback.solution) == ("no", "unsolved")
    assert (callback.get_responded_display(), callback.get_solution_display()) == ("未联系", "未解决")
    event = CaseEvent.objects.get(case=case, action="callback")
    assert event.data["responded"] == "no" and event.data["solution"] == "unsolved"
    assert AuditLog.objects.filter(object_id=str(case.pk), summary__contains="回访").exists()


def test_the_api_refuses_a_callback_without_the_answers_with_field_errors(api, city, people):
    case = waiting_for_callback(city, people)
    url = f"/api/v1/cases/{case.pk}/callback/"
    client = as_user(api, people.agent)
    missing = client.post(url, {"rating": "satisfied"}, format="json")
    assert missing.status_code == 400
    body = missing.json()
    errors = body.get("field_errors") or body.get("errors") or body
    assert "responded" in str(errors) and "solution" in str(errors), body
    bad = client.post(url, {"rating": "satisfied", "responded": "maybe", "solution": "solved"}, format="json")
    assert bad.status_code == 400 and "responded" in bad.content.decode()
    assert not Callback.objects.exists()
    out = post(api, people.agent, url, {"rating": "satisfied", "responded": "yes", "solution": "partly"})
    assert out["status"] == "closed"
    (callback,) = out["callbacks"]
    assert (callback["responded"], callback["responded_display"]) == ("yes", "已联系")
    assert (callback["solution"], callback["solution_display"]) == ("partly", "部分解决")


def test_a_citizens_own_rating_leaves_the_answers_unasked(city, people):
    case = waiting_for_callback(city, people)
    requester = services.Requester(channel="sms", account="", external_id=case.citizen_phone)
    services.case_citizen_rating(case=case, requester=requester, rating="satisfied", method="sms")
    callback = Callback.objects.get()
    assert (callback.responded, callback.solution) == ("", "")


def test_the_bench_fill_gives_old_staff_callbacks_plausible_answers(city, people):
    """bench/fill_callback_answers.py (databases loaded before the fields): staff callbacks get answers with about
    the generator's shares; a citizen's own rating stays unasked."""
    from bench.fill_callback_answers import fill
    from hotline.common import clock

    case = reported(city, people)
    now = clock.now()
    Callback.objects.bulk_create(
        [
            Callback(case=case, actor=people.agent, method="phone", rating=rating, created_at=now)
            for rating in ["satisfied"] * 400 + ["dissatisfied"] * 200
        ]
        + [Callback(case=case, method="sms", rating="satisfied", created_at=now)]
    )
    assert fill() == 600
    good = Callback.objects.filter(rating="satisfied", actor__isnull=False)
    bad = Callback.objects.filter(rating="dissatisfied")
    assert 0.9 < good.filter(responded="yes").count() / 400 <= 1
    assert 0.75 < good.filter(solution="solved").count() / 400 < 0.95
    assert 0.55 < bad.filter(responded="yes").count() / 200 < 0.87
    assert bad.filter(solution="unsolved").count() > bad.filter(solution="solved").count()
    assert set(Callback.objects.filter(actor__isnull=True).values_list("responded", "solution")) == {("", "")}
    assert fill() == 0  # already filled
