"""APP-1 public functions in the citizen API: public cases by type with replies (personal data removed), hot
questions, knowledge search, and query-password recovery through the contact given (rate-limited; the code is
sealed in the outbox, never shown to staff)."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from hotline.cases.models import Case, CaseStatus
from hotline.notify.models import Outbox
from hotline.notify.services import delivery_text
from tests.conftest import submitted_case
from tests.knowledge.conftest import kb as kb  # noqa: F401 (fixture)
from tests.knowledge.conftest import publish

pytestmark = pytest.mark.django_db
BASE = "/api/v1/citizen"


def _public(city, people, **fields) -> Case:
    case = submitted_case(city, people, **fields)
    Case.objects.filter(pk=case.pk).update(
        status=CaseStatus.CLOSED,
        is_public=True,
        push_hot=True,
        answer="已联系王女士，13812345678 的问题已处理，幸福社区12栋路灯已修复。",
        closed_at=case.created_at,
    )
    return Case.objects.get(pk=case.pk)


def test_public_cases_by_type_without_personal_data(city, people):
    shown = _public(
        city,
        people,
        content="王女士反映幸福社区12栋门口路灯不亮，联系电话13812345678，请尽快修复，谢谢。" * 2,
    )
    hidden = submitted_case(city, people)  # not public
    api = APIClient()
    listing = api.get(f"{BASE}/public-cases/", {"type": "complaint"})
    assert listing.status_code == 200
    numbers = [r["number"] for r in listing.json()["results"]]
    assert numbers == [shown.number] and hidden.number not in numbers
    assert api.get(f"{BASE}/public-cases/", {"type": "consult"}).json()["results"] == []
    detail = api.get(f"{BASE}/public-cases/{shown.number}/").json()
    text = str(detail)
    assert "13812345678" not in text and "王女士" not in text and "12栋" not in text
    assert "路灯已修复" in detail["reply"] and detail["content"]
    assert api.get(f"{BASE}/public-cases/{hidden.number}/").status_code == 404
    hot = api.get(f"{BASE}/hot/").json()
    assert [r["number"] for r in hot["pushed"]] == [shown.number]
    assert "13812345678" not in str(hot) and hot["week"][0]["count"] >= 1


def test_knowledge_search_returns_public_items_only(city, people, kb, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        item = publish(
            kb, kb.card, "社保卡丢失如何补办", "携带身份证到社保服务大厅办理补办。", is_public=True
        )
        publish(kb, kb.card, "社保卡内部口径", "内部掌握的社保卡办理口径。", is_public=False)
    api = APIClient()
    found = api.get(f"{BASE}/kb/search/", {"q": "社保卡"}).json()
    assert [r["id"] for r in found["results"]] == [item.pk]
    assert (
        found["results"][0]["url"] == f"/portal/kb/items/{item.pk}/"
        and "<" not in found["results"][0]["title"]
    )
    assert api.get(f"{BASE}/kb/search/").status_code == 400
    assert api.get(f"{BASE}/kb/search/", {"q": "社保", "page": "0"}).status_code == 400


def test_password_recovery_through_the_contact_given(city, people):
    case = submitted_case(city, people)
    api = APIClient()
    wrong = api.post(
        f"{BASE}/password/code/", {"number": case.number, "contact": "13900000000"}, format="json"
    )
    right = api.post(
        f"{BASE}/password/code/", {"number": case.number, "contact": "13812345678"}, format="json"
    )
    assert wrong.status_code == right.status_code == 202 and wrong.json() == right.json()  # tells nothing
    sms = Outbox.objects.get(template="query_password_code")
    assert sms.address == "13812345678" and "******" in sms.body  # what staff can read
    code = re.search(r"验证码(\d{6})", delivery_text(sms)).group(1)
    again = api.post(
        f"{BASE}/password/code/", {"number": case.number, "contact": "13812345678"}, format="json"
    )
    assert again.status_code == 202 and Outbox.objects.filter(template="query_password_code").count() == 1
    bad = api.post(f"{BASE}/password/reset/", {"number": case.number, "code": "12ab"}, format="json")
    assert bad.status_code == 400 and "code" in bad.json()
    reset = api.post(f"{BASE}/password/reset/", {"number": case.number, "code": code}, format="json")
    assert reset.status_code == 200 and len(reset.json()["query_password"]) >= 6
    reused = api.post(f"{BASE}/password/reset/", {"number": case.number, "code": code}, format="json")
    assert reused.status_code == 400
