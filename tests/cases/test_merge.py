"""并单: merge a new request into an existing case, co-requesters, undo by the office."""

from __future__ import annotations

import pytest

from hotline.cases import merge
from hotline.cases.models import CaseStatus, CoRequester
from hotline.common.errors import Conflict, NotAllowed, ServiceError
from tests.conftest import as_user, dispatched_to, fresh, submitted_case


def test_merge_and_undo(city, people):
    target = dispatched_to(city, people, city.xingfu, citizen_phone="13812345678")
    new = submitted_case(city, people, citizen_phone="13912345678", citizen_name="赵先生")
    co = merge.case_merge(
        case=new, into=target, actor=people.agent, expected_version=new.version, opinion="同一事项"
    )
    new, target = fresh(new), fresh(target)
    assert new.status == CaseStatus.MERGED and target.status == CaseStatus.DISPATCHED
    assert co.case == target and co.phone == "13912345678" and co.citizen == new.citizen
    # The merge, then the SMS telling the co-requester (test_merge_notify.py).
    assert [e.action for e in new.events.all()][-2:] == ["merge", "sms_citizen"]
    assert new.events.get(action="merge").data["into"] == target.pk
    assert target.events.last().action == "merge_in" and target.events.last().data["merged"] == new.pk
    # Only the office undoes.
    with pytest.raises(NotAllowed):
        merge.case_unmerge(case=new, actor=people.agent, expected_version=None, reason="误并")
    with pytest.raises(ServiceError, match="撤销理由"):
        merge.case_unmerge(case=new, actor=people.dispatcher, expected_version=None, reason="")
    merge.case_unmerge(case=new, actor=people.dispatcher, expected_version=new.version, reason="并错了")
    new, target = fresh(new), fresh(target)
    assert new.status == CaseStatus.SUBMITTED
    assert new.events.last().action == "unmerge" and target.events.last().action == "unmerge_out"
    assert CoRequester.objects.get().undone_at is not None
    with pytest.raises(ServiceError, match="没有可撤销"):
        merge.case_unmerge(case=new, actor=people.dispatcher, expected_version=None, reason="再撤")


def test_merge_into_closed_case_reopens_nothing_and_needs_the_office(city, people):
    from hotline.cases import services

    target = submitted_case(city, people)
    services.case_close_directly(case=target, actor=people.dispatcher, expected_version=None, reason="已答复")
    new = submitted_case(city, people, citizen_phone="13912345678")
    with pytest.raises(NotAllowed, match="热线办"):
        merge.case_merge(case=new, into=fresh(target), actor=people.agent, expected_version=None)
    merge.case_merge(case=new, into=fresh(target), actor=people.dispatcher, expected_version=None)
    assert fresh(target).status == CaseStatus.CLOSED and fresh(new).status == CaseStatus.MERGED


def test_refusals(city, people):
    target = dispatched_to(city, people, city.xingfu)
    new = submitted_case(city, people)
    with pytest.raises(ServiceError, match="自身"):
        merge.case_merge(case=new, into=new, actor=people.agent, expected_version=None)
    with pytest.raises(NotAllowed):
        merge.case_merge(case=new, into=target, actor=people.xingfu, expected_version=None)
    with pytest.raises(Conflict):
        merge.case_merge(case=new, into=target, actor=people.agent, expected_version=new.version + 5)
    # A dispatched case cannot itself be merged away (units are at work on it).
    with pytest.raises(ServiceError, match="不能执行"):
        merge.case_merge(case=fresh(target), into=new, actor=people.agent, expected_version=None)
    merge.case_merge(case=new, into=target, actor=people.agent, expected_version=None)
    other = submitted_case(city, people)
    with pytest.raises(ServiceError, match="不能并入"):
        merge.case_merge(case=other, into=fresh(new), actor=people.agent, expected_version=None)


def test_api_merge_co_requesters_callback_and_undo(api, city, people):
    target = dispatched_to(city, people, city.xingfu, citizen_phone="13812345678")
    new = submitted_case(city, people, citizen_phone="13912345678", citizen_name="赵先生")
    r = as_user(api, people.agent).post(
        f"/api/v1/cases/{new.pk}/merge/",
        {"target": target.pk, "version": new.version, "opinion": "同一烧烤店"},
    )
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "merged"
    listed = as_user(api, people.agent).get(f"/api/v1/cases/{target.pk}/co-requesters/").json()
    assert listed[0]["phone"] == "13912345678" and listed[0]["merged_case"] == new.pk
    masked = as_user(api, people.xingfu).get(f"/api/v1/cases/{target.pk}/co-requesters/").json()
    assert masked[0]["phone"] == "139****5678"
    r = as_user(api, people.agent).post(
        f"/api/v1/co-requesters/{listed[0]['id']}/callback/", {"rating": "satisfied"}
    )
    assert r.json()["callback_rating"] == "satisfied" and r.json()["called_back_at"]
    assert as_user(api, people.west).get(f"/api/v1/cases/{target.pk}/co-requesters/").status_code == 404
    r = as_user(api, people.agent).post(f"/api/v1/cases/{new.pk}/unmerge/", {"reason": "误并"})
    assert r.status_code == 403
    r = as_user(api, people.dispatcher).post(f"/api/v1/cases/{new.pk}/unmerge/", {"reason": "误并"})
    assert r.status_code == 200 and r.json()["status"] == "submitted"
    timeline = as_user(api, people.dispatcher).get(f"/api/v1/cases/{target.pk}/timeline/").json()
    assert [e["action"] for e in timeline][-2:] == ["merge_in", "unmerge_out"]
