"""Editing a draft or returned case in the intake form and taking the agent's action at once (case_rework), and
the phone system's call id kept with the case and searchable."""

from __future__ import annotations

import dataclasses

import pytest

from hotline.cases import services
from hotline.cases.models import CaseEvent, CaseStatus
from hotline.common.errors import Conflict, ServiceError
from hotline.common.models import DictKind
from tests.conftest import as_user, case_input, dict_item, fresh, submitted_case

pytestmark = pytest.mark.django_db


def _returned(city, people):
    case = submitted_case(city, people)
    return services.case_return_to_agent(
        case=case, actor=people.dispatcher, expected_version=case.version, opinion="请补充营业时间"
    )


def test_rework_saves_and_resubmits_a_returned_case(city, people):
    case = _returned(city, people)
    data = case_input(city, title="烧烤店夜间噪音", urgency=dict_item(DictKind.URGENCY, "urgent"))
    services.case_rework(
        case=case, actor=people.agent, expected_version=case.version, data=data, action="submit"
    )
    case = fresh(case)
    assert case.status == CaseStatus.SUBMITTED and case.title == "烧烤店夜间噪音"
    assert case.urgency.code == "urgent"
    assert list(case.events.order_by("id").values_list("action", flat=True))[-2:] == ["save_draft", "submit"]


def test_a_refused_submit_saves_nothing(city, people):
    case = _returned(city, people)
    events = CaseEvent.objects.filter(case=case).count()
    data = case_input(city, title="新标题", content="太短")  # phone intake needs 50 characters to submit
    with pytest.raises(ServiceError) as refused:
        services.case_rework(
            case=case, actor=people.agent, expected_version=case.version, data=data, action="submit"
        )
    assert "content" in refused.value.field_errors
    case = fresh(case)
    assert case.status == CaseStatus.RETURNED and case.title != "新标题"
    assert CaseEvent.objects.filter(case=case).count() == events


def test_a_stale_form_is_a_conflict(city, people):
    case = _returned(city, people)
    stale = case.version
    services.case_rework(
        case=case, actor=people.agent, expected_version=stale, data=case_input(city, title="先")
    )
    with pytest.raises(Conflict):
        services.case_rework(
            case=fresh(case), actor=people.agent, expected_version=stale, data=case_input(city, title="后")
        )
    assert fresh(case).title == "先"


def test_call_id_is_searchable_within_the_users_scope(city, people, api):
    data = dataclasses.replace(case_input(city), origin={"call_id": "CALL-9"})
    case = services.case_intake(actor=people.agent, data=data).case
    submitted_case(city, people)  # another call
    found = as_user(api, people.dispatcher).get("/api/v1/cases/", {"call_id": "CALL-9"}).json()
    rows = found["results"] if isinstance(found, dict) else found
    assert [r["number"] for r in rows] == [case.number]
    other = as_user(api, people.tax).get("/api/v1/cases/", {"call_id": "CALL-9"}).json()
    assert (other["results"] if isinstance(other, dict) else other) == []


def test_intake_page_keeps_the_call_id(client, city, people):
    client.force_login(people.agent)
    page = client.get("/cases/new/?citizen_phone=13812345678&call_id=C-1").content.decode()
    assert 'value="13812345678"' in page and 'name="call_id" value="C-1"' in page
    page = client.get("/cases/new/?call_id=<script>").content.decode()
    assert 'name="call_id"' not in page  # not a call id: dropped


def test_intake_opened_by_the_phone_system_links_the_call(client, city, people):
    from hotline.telephony.models import CallCase
    from hotline.telephony.services import call_arrive

    call = call_arrive(call_id="SIP-4711", leg_id="leg-1", caller="13812345678", dialed="12345", node="n1")
    client.force_login(people.agent)
    form = {
        "citizen_phone": "13812345678",
        "call_id": "SIP-4711",
        "channel": "phone",
        "case_type": "complaint",
        "content": case_input(city).content,
        "action": "submit",
    }
    response = client.post("/cases/new/?citizen_phone=13812345678&call_id=SIP-4711", form)
    assert response.status_code == 302
    link = CallCase.objects.get(call=call)
    assert link.case.origin == {"call_id": "SIP-4711"} and link.case.status == CaseStatus.SUBMITTED
