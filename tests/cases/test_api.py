"""API contracts: the longest path through the loop with different users, errors, scoping."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from hotline.cases.models import Case, CaseStatus
from tests.conftest import CONTENT, as_user, dispatched_to, submitted_case


def post(
    client: APIClient, user: Any, url: str, data: dict[str, Any] | None = None, status: int = 200
) -> Any:
    response = as_user(client, user).post(url, data or {}, format="json")
    assert response.status_code == status, response.content.decode()
    return response.json()


def my_assignment(case: dict[str, Any], unit_id: int, role: str = "main") -> int:
    rows = [a for a in case["assignments"] if a["unit"] == unit_id and a["role"] == role]
    return rows[-1]["id"]


def test_longest_path_through_the_loop(api, city, people):
    intake = post(
        api,
        people.agent,
        "/api/v1/cases/",
        {
            "case_type": "complaint",
            "content": CONTENT,
            "citizen_name": "王女士",
            "citizen_phone": "13812345678",
            "location": "梨园街道幸福社区12栋",
            "location_unit": city.xingfu.pk,
            "bureau": city.housing.pk,
            "urgency": "normal",
            "action": "submit",
        },
        status=201,
    )
    cid = intake["id"]
    assert intake["status"] == "submitted" and intake["query_password"]
    assert intake["suggested_main_unit"]["unit"] == city.east.pk
    case = post(
        api,
        people.dispatcher,
        f"/api/v1/cases/{cid}/dispatch/",
        {
            "version": intake["version"],
            "opinion": "请东湖区办理",
            "targets": [{"unit": city.east.pk, "role": "main"}],
        },
    )
    assert case["status"] == "dispatched"
    district = my_assignment(case, city.east.pk)
    post(api, people.east, f"/api/v1/assignments/{district}/sign-for/")
    case = post(
        api,
        people.east,
        f"/api/v1/assignments/{district}/forward/",
        {"targets": [{"unit": city.liyuan.pk, "role": "main"}], "opinion": "请梨园街道办理"},
    )
    street = my_assignment(case, city.liyuan.pk)
    post(api, people.liyuan, f"/api/v1/assignments/{street}/sign-for/")
    case = post(
        api,
        people.liyuan,
        f"/api/v1/assignments/{street}/forward/",
        {"targets": [{"unit": city.xingfu.pk, "role": "main"}]},
    )
    community = my_assignment(case, city.xingfu.pk)
    post(api, people.xingfu, f"/api/v1/assignments/{community}/sign-for/")
    post(api, people.xingfu, f"/api/v1/assignments/{community}/send-back/", {"reason": "需街道执法队处理"})
    post(
        api,
        people.liyuan,
        f"/api/v1/assignments/{street}/handling-records/",
        {"cause": "夜间经营", "solution": "联合执法", "result": "已责令整改"},
    )
    post(
        api, people.liyuan, f"/api/v1/assignments/{street}/report/", {"result": "已责令整改，安装油烟净化器"}
    )
    case = post(api, people.east, f"/api/v1/assignments/{district}/report/", {"result": "街道已整改到位"})
    assert case["status"] == "result_review"
    post(api, people.dispatcher, f"/api/v1/cases/{cid}/review-reject/", {"opinion": "请核实营业时间"})
    case = post(api, people.east, f"/api/v1/assignments/{district}/report/", {"result": "已限定营业至22点"})
    post(api, people.dispatcher, f"/api/v1/cases/{cid}/review-accept/")
    case = post(
        api,
        people.agent,
        f"/api/v1/cases/{cid}/callback/",
        {
            "rating": "dissatisfied",
            "method": "phone",
            "responded": "yes",
            "solution": "unsolved",
            "citizen_words": "还是很吵",
        },
    )
    assert case["status"] == "redo"
    post(api, people.east, f"/api/v1/assignments/{district}/report/", {"result": "再次检查并处罚"})
    post(api, people.dispatcher, f"/api/v1/cases/{cid}/review-accept/")
    case = post(
        api,
        people.agent,
        f"/api/v1/cases/{cid}/callback/",
        {"rating": "very_dissatisfied", "responded": "no", "solution": "partly"},
    )
    assert case["status"] == "special_supervision"
    post(api, people.east, f"/api/v1/cases/{cid}/supervision-opinion/", {"opinion": "x"}, status=403)
    case = post(
        api, people.east_leader, f"/api/v1/cases/{cid}/supervision-opinion/", {"opinion": "区领导督办"}
    )
    assert case["status"] == "redo"
    case = post(
        api, people.dispatcher, f"/api/v1/cases/{cid}/office-close/", {"reason": "已依法处理，诉求超出范围"}
    )
    assert case["status"] == "closed" and case["close_kind"] == "office"

    timeline = as_user(api, people.dispatcher).get(f"/api/v1/cases/{cid}/timeline/").json()
    actions = [e["action"] for e in timeline]
    assert actions[:3] == ["create", "submit", "dispatch"]
    assert {"forward", "send_back", "report", "review_reject", "callback", "supervision_opinion"} <= set(
        actions
    )
    assert actions[-1] == "office_close" and timeline[-1]["to_status_display"] == "已办结"
    assert {e["actor"] for e in timeline} >= {
        "agent",
        "dispatcher",
        "east",
        "liyuan",
        "xingfu",
        "east_leader",
    }


def test_intake_field_errors_are_400_in_chinese(api, city, people):
    response = as_user(api, people.agent).post(
        "/api/v1/cases/",
        {
            "case_type": "complaint",
            "content": "太短",
            "citizen_phone": "12345678901",
            "citizen_id_card": "110105194912310021",
        },
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body["errors"]) >= {"content", "citizen_phone", "citizen_id_card"}
    assert "不少于50个字" in body["errors"]["content"][0]
    assert Case.objects.count() == 0


def test_unknown_dictionary_code_is_a_field_error(api, city, people):
    response = as_user(api, people.agent).post(
        "/api/v1/cases/", {"case_type": "nonsense", "content": CONTENT}, format="json"
    )
    assert response.status_code == 400 and "case_type" in response.json()["errors"]


def test_stale_version_is_409(api, city, people):
    case = submitted_case(city, people)
    post(
        api,
        people.dispatcher,
        f"/api/v1/cases/{case.pk}/ask-leader/",
        {"version": case.version, "opinion": "请示"},
    )
    body = post(
        api,
        people.dispatcher,
        f"/api/v1/cases/{case.pk}/dispatch/",
        {"version": case.version, "targets": [{"unit": city.east.pk, "role": "main"}]},
        status=409,
    )
    assert body["code"] == "conflict" and "刷新" in body["detail"]


def test_two_main_units_via_api(api, city, people):
    case = submitted_case(city, people)
    body = post(
        api,
        people.dispatcher,
        f"/api/v1/cases/{case.pk}/dispatch/",
        {"targets": [{"unit": city.east.pk, "role": "main"}, {"unit": city.west.pk, "role": "main"}]},
        status=400,
    )
    assert "只能指定一个主办单位" in body["errors"]["targets"][0]


def test_wrong_role_is_403_and_bad_status_is_400(api, city, people):
    case = submitted_case(city, people)
    post(
        api,
        people.agent,
        f"/api/v1/cases/{case.pk}/dispatch/",
        {"targets": [{"unit": city.east.pk, "role": "main"}]},
        status=403,
    )
    body = post(api, people.dispatcher, f"/api/v1/cases/{case.pk}/review-accept/", status=400)
    assert "待派单" in body["detail"]


@pytest.fixture
def east_case(city, people):
    case = dispatched_to(city, people, city.liyuan)
    return case


def test_another_district_gets_404_everywhere(api, city, people, east_case):
    client = as_user(api, people.west)
    assert client.get(f"/api/v1/cases/{east_case.pk}/").status_code == 404
    assert client.get(f"/api/v1/cases/{east_case.pk}/timeline/").status_code == 404
    assignment = east_case.assignments.get(unit=city.liyuan)
    assert client.post(f"/api/v1/assignments/{assignment.pk}/sign-for/", {}, format="json").status_code == 404
    assert (
        client.post(
            f"/api/v1/cases/{east_case.pk}/callback/", {"rating": "satisfied"}, format="json"
        ).status_code
        == 404
    )
    assert client.get("/api/v1/cases/").json()["count"] == 0
    assert client.get("/api/v1/cases/", {"caller_phone": "13812345678"}).json()["count"] == 0
    assert client.get("/api/v1/worklist/").json()["count"] == 0


def test_involved_units_and_leaders_see_the_case(api, city, people, east_case):
    for user in (people.liyuan, people.east, people.dispatcher, people.agent, people.leader):  # east is cc'd
        assert as_user(api, user).get(f"/api/v1/cases/{east_case.pk}/").status_code == 200, user
    # a community of the street sees nothing until work reaches it; the street's leader sees its subtree
    assert as_user(api, people.xingfu).get(f"/api/v1/cases/{east_case.pk}/").status_code == 404
    assert as_user(api, people.guanshan).get(f"/api/v1/cases/{east_case.pk}/").status_code == 404


def test_unit_leader_sees_subordinate_units_cases(api, city, people):
    case = dispatched_to(city, people, city.xingfu)  # cc goes to the street, not the district
    assert as_user(api, people.east_leader).get(f"/api/v1/cases/{case.pk}/").status_code == 200
    assert as_user(api, people.east_cg).get(f"/api/v1/cases/{case.pk}/").status_code == 404


def test_search_filters_and_default_ordering(api, city, people):
    first = submitted_case(city, people)
    second = submitted_case(city, people, citizen_phone="13900001111", keywords="噪音")
    client = as_user(api, people.dispatcher)
    rows = client.get("/api/v1/cases/").json()["results"]
    assert [r["id"] for r in rows] == [second.pk, first.pk]
    assert [
        r["id"] for r in client.get("/api/v1/cases/", {"caller_phone": "139 0000 1111"}).json()["results"]
    ] == [second.pk]
    assert client.get("/api/v1/cases/", {"number": first.number}).json()["count"] == 1
    assert client.get("/api/v1/cases/", {"status": "submitted,closed"}).json()["count"] == 2
    assert client.get("/api/v1/cases/", {"processing": "done"}).json()["count"] == 0
    assert client.get("/api/v1/cases/", {"active": "true"}).json()["count"] == 2
    assert client.get("/api/v1/cases/", {"keywords": "烧烤 油烟"}).json()["count"] == 2
    assert client.get("/api/v1/cases/", {"keywords": "烧烤 地铁"}).json()["count"] == 0
    assert client.get("/api/v1/cases/", {"district": city.east.pk}).json()["count"] == 2
    assert client.get("/api/v1/cases/", {"supervision": "normal"}).json()["count"] == 2
    assert client.get("/api/v1/cases/", {"ordering": "created_at"}).json()["results"][0]["id"] == first.pk
    assert client.get("/api/v1/cases/", {"status": "bogus"}).status_code == 400
    assert (
        client.get(
            "/api/v1/cases/",
            {"created_from": "2000-01-01T00:00:00+08:00", "created_to": "2000-02-01T00:00:00+08:00"},
        ).json()["count"]
        == 0
    )


def test_worklist_shows_what_to_sign_first(api, city, people):
    case = dispatched_to(city, people, city.east)
    rows = as_user(api, people.east).get("/api/v1/worklist/", {"tab": "to_sign"}).json()["results"]
    assert [r["case"]["id"] for r in rows] == [case.pk]


def test_detail_view_is_audited(api, city, people):
    from hotline.common.models import AuditLog

    case = submitted_case(city, people)
    as_user(api, people.dispatcher).get(f"/api/v1/cases/{case.pk}/", REMOTE_ADDR="127.0.0.9")
    row = AuditLog.objects.filter(action="view", object_id=str(case.pk)).get()
    assert row.actor == people.dispatcher and row.ip_address == "127.0.0.9"


def test_secret_caller_is_hidden_from_units(api, city, people):
    from hotline.common.models import DictKind
    from tests.conftest import dict_item

    case = dispatched_to(city, people, city.east, secrecy=dict_item(DictKind.SECRECY, "citizen"))
    body = as_user(api, people.east).get(f"/api/v1/cases/{case.pk}/").json()
    assert body["citizen_name"] == "（保密）" and body["citizen_phone"] == "（保密）"
    assert (
        as_user(api, people.dispatcher).get(f"/api/v1/cases/{case.pk}/").json()["citizen_phone"]
        == "13812345678"
    )


def test_public_lookup_needs_the_password(api, city, people):
    response = as_user(api, people.agent).post(
        "/api/v1/cases/",
        {
            "case_type": "consult",
            "content": CONTENT,
            "citizen_phone": "13812345678",
            "action": "submit",
        },
        format="json",
    )
    number, password = response.json()["number"], response.json()["query_password"]
    anonymous = APIClient()
    assert (
        anonymous.post(
            "/api/v1/public/case-status/",
            {"number": number, "password": "000000" if password != "000000" else "111111"},
            format="json",
        ).status_code
        == 404
    )
    body = anonymous.post(
        "/api/v1/public/case-status/", {"number": number, "password": password}, format="json"
    )
    assert body.status_code == 200 and body.json()["status"] == CaseStatus.SUBMITTED
    assert "citizen_phone" not in body.json()


def test_unauthenticated_api_is_refused(api):
    assert api.get("/api/v1/cases/").status_code in (401, 403)


def test_openapi_schema_is_served(api, people):
    response = as_user(api, people.agent).get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/cases/{id}/dispatch/" in paths and "/api/v1/assignments/{id}/report/" in paths


def test_token_auth(api, people):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=people.dispatcher)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/v1/me/").json()["roles"] == ["dispatcher"]


def test_units_picker_by_pinyin(api, city, people):
    rows = as_user(api, people.dispatcher).get("/api/v1/units/", {"q": "lyjd"}).json()["results"]
    assert [r["name"] for r in rows] == ["梨园街道"]


def test_draft_edit_via_patch(api, city, people):
    body = post(
        api,
        people.agent,
        "/api/v1/cases/",
        {"case_type": "consult", "content": "草稿", "action": "save_draft"},
        status=201,
    )
    response = as_user(api, people.agent).patch(
        f"/api/v1/cases/{body['id']}/",
        {"version": body["version"], "content": CONTENT, "citizen_phone": "13812345678"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["content"] == CONTENT and response.json()["case_type"] == "咨询"
    submitted = post(
        api, people.agent, f"/api/v1/cases/{body['id']}/submit/", {"version": response.json()["version"]}
    )
    assert submitted["status"] == "submitted"


def test_swagger_ui_is_served_without_a_cdn(api, people):
    html = as_user(api, people.agent).get("/api/v1/docs/").content.decode()
    assert "swagger-ui" in html and "cdn.jsdelivr.net" not in html


def test_units_see_the_caller_number_masked(api, city, people):
    case = dispatched_to(city, people, city.east)
    assert as_user(api, people.east).get(f"/api/v1/cases/{case.pk}/").json()["citizen_phone"] == "138****5678"
    assert (
        as_user(api, people.agent).get(f"/api/v1/cases/{case.pk}/").json()["citizen_phone"] == "13812345678"
    )
    page = client_for_html(people.east).get(f"/cases/{case.pk}/").content.decode()
    assert "138****5678" in page and "13812345678" not in page


def client_for_html(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client
