"""The citizen API (APP-1): phone + SMS code login, citizen tokens distinct from staff tokens, submit (idempotent by
request_id), my requests, detail, photos, rating; another citizen gets 404."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from hotline.cases.models import Callback, Case, CaseStatus, Channel
from hotline.intake.models import ChannelMessage
from hotline.notify.models import Outbox
from hotline.notify.services import delivery_text
from tests.intake.conftest import carry_to_callback
from tests.intake.test_mail_imap import PNG

pytestmark = pytest.mark.django_db
BASE = "/api/v1/citizen"
CONTENT = "幸福社区12栋门口的下水道堵了三天，污水漫到人行道上，气味很大，请尽快疏通。"


def login(phone: str) -> APIClient:
    client = APIClient()
    assert client.post(f"{BASE}/auth/code/", {"phone": phone}, format="json").status_code == 202
    body = delivery_text(Outbox.objects.filter(template="channel_login_code", address=phone).latest("id"))
    code = re.search(r"验证码(\d{6})", body).group(1)  # type: ignore[union-attr]
    response = client.post(f"{BASE}/auth/login/", {"phone": phone, "code": code}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["phone"] == phone[:3] + "****" + phone[-4:]
    client.credentials(HTTP_AUTHORIZATION=f"Citizen {response.json()['token']}")
    return client


def submit(client: APIClient, request_id: str | None = None, **fields: Any) -> Any:
    body = {"request_id": request_id or str(uuid.uuid4()), "type": "complaint", "content": CONTENT, **fields}
    return client.post(f"{BASE}/requests/", body, format="json")


def test_login_submit_retry_list_detail_and_another_citizen_gets_404(city, people, channel_templates):
    me = login("13700001111")
    request_id = str(uuid.uuid4())
    first = submit(me, request_id, title="下水道堵塞", location="幸福社区12栋")
    assert first.status_code == 201, first.content
    number = first.json()["number"]
    assert re.fullmatch(r"\d{8}", first.json()["query_password"])
    again = submit(me, request_id, title="下水道堵塞")  # the app retried after a timeout
    assert again.status_code == 200 and again.json() == {
        "number": number,
        "query_password": None,
        "created": False,
    }
    case = Case.objects.get(number=number)
    assert Case.objects.filter(channel=Channel.APP).count() == 1
    assert (
        case.status == CaseStatus.DRAFT and case.intake_by_id is None and case.citizen_phone == "13700001111"
    )
    assert case.origin["requester_channel"] == "app" and case.origin["reply_due_at"]
    assert ChannelMessage.objects.get(channel=Channel.APP).reply_due_at
    assert (
        Outbox.objects.filter(template="channel_received", address="13700001111").count() == 1
    )  # one receipt

    listing = me.get(f"{BASE}/requests/").json()
    assert listing["count"] == 1 and listing["results"][0]["number"] == number
    detail = me.get(f"{BASE}/requests/{number}/").json()
    assert detail["content"] == CONTENT and detail["stage"] == "受理登记" and detail["may_rate"] is False

    other = login("13700002222")
    assert other.get(f"{BASE}/requests/").json()["count"] == 0
    assert other.get(f"{BASE}/requests/{number}/").status_code == 404
    assert (
        other.post(f"{BASE}/requests/{number}/rating/", {"rating": "dissatisfied"}, format="json").status_code
        == 404
    )
    photo = SimpleUploadedFile("p.png", PNG, content_type="image/png")
    assert (
        other.post(f"{BASE}/requests/{number}/photos/", {"file": photo}, format="multipart").status_code
        == 404
    )
    assert "13700001111" not in other.get(f"{BASE}/requests/{number}/").content.decode()


def test_tokens_do_not_cross_between_citizens_and_staff(city, people, channel_templates):
    citizen = login("13700001111")
    assert citizen.get("/api/v1/cases/").status_code == 401  # a citizen token is no staff token
    staff = APIClient()
    staff.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=people.agent).key}")
    assert staff.get("/api/v1/cases/").status_code == 200
    assert staff.get(f"{BASE}/requests/").status_code == 401  # nor the other way round
    session = APIClient()
    session.force_login(people.agent)
    assert session.get(f"{BASE}/requests/").status_code == 401
    assert APIClient().get(f"{BASE}/requests/").status_code == 401
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Citizen not-a-token")
    assert bad.get(f"{BASE}/requests/").status_code == 401
    assert citizen.post(f"{BASE}/auth/logout/").status_code == 204
    assert citizen.get(f"{BASE}/requests/").status_code == 401


def test_codes_refuse_wrong_guesses_and_floods(city, channel_templates):
    client = APIClient()
    assert client.post(f"{BASE}/auth/code/", {"phone": "12345"}, format="json").status_code == 400
    assert client.post(f"{BASE}/auth/code/", {"phone": "13700003333"}, format="json").status_code == 202
    again = client.post(f"{BASE}/auth/code/", {"phone": "13700003333"}, format="json")
    assert again.status_code == 400 and again.json()["code"] == "throttled"  # one a minute per phone
    body = delivery_text(Outbox.objects.filter(template="channel_login_code").latest("id"))
    code = re.search(r"验证码(\d{6})", body).group(1)  # type: ignore[union-attr]
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        response = client.post(f"{BASE}/auth/login/", {"phone": "13700003333", "code": wrong}, format="json")
        assert response.status_code == 400 and "code" in response.json()["errors"]
    # Five wrong tries used the code up: even the right one is refused now.
    assert (
        client.post(f"{BASE}/auth/login/", {"phone": "13700003333", "code": code}, format="json").status_code
        == 400
    )
    assert (
        "******" in Outbox.objects.filter(template="channel_login_code").latest("id").body
    )  # staff never see it


def test_bad_input_photos_and_rating(city, people, channel_templates, django_capture_on_commit_callbacks):
    me = login("13700001111")
    bad = submit(me, content="太短", type="nonsense")
    assert bad.status_code == 400 and {"content", "type"} <= set(bad.json()["errors"])
    assert submit(me, request_id="not-a-uuid").status_code == 400
    assert Case.objects.count() == 0
    number = submit(me).json()["number"]
    photo = SimpleUploadedFile("门口.png", PNG, content_type="image/png")
    response = me.post(f"{BASE}/requests/{number}/photos/", {"file": photo}, format="multipart")
    assert response.status_code == 201 and response.json()["content_type"] == "image/png"
    script = SimpleUploadedFile("x.jpg", b"<html><script>alert(1)</script>", content_type="image/jpeg")
    refused = me.post(f"{BASE}/requests/{number}/photos/", {"file": script}, format="multipart")
    assert refused.status_code == 400 and "attachments" in refused.json()["errors"]
    pdf = SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%\n", content_type="application/pdf")
    assert me.post(f"{BASE}/requests/{number}/photos/", {"file": pdf}, format="multipart").status_code == 400
    assert Case.objects.get(number=number).attachments.count() == 1

    early = me.post(f"{BASE}/requests/{number}/rating/", {"rating": "very_satisfied"}, format="json")
    assert early.status_code == 400 and early.json()["code"] == "bad_status"
    with django_capture_on_commit_callbacks(execute=True):  # case_transitioned is sent after commit
        case = carry_to_callback(Case.objects.get(number=number), city, people)
    delivery = ChannelMessage.objects.get(case=case)
    assert delivery.received_at <= delivery.first_reply_at  # the agent took it: the reply clock stopped
    assert me.get(f"{BASE}/requests/{number}/").json()["may_rate"] is True
    assert me.post(f"{BASE}/requests/{number}/rating/", {"rating": "great"}, format="json").status_code == 400
    rated = me.post(
        f"{BASE}/requests/{number}/rating/", {"rating": "very_satisfied", "words": "很快"}, format="json"
    )
    assert rated.status_code == 200 and rated.json()["status"] == CaseStatus.CLOSED
    assert rated.json()["reply"] == "已安排清理完毕" and rated.json()["rating"] == "very_satisfied"
    callback = Callback.objects.get(case=case)
    assert callback.actor_id is None and callback.method == "web" and callback.citizen_words == "很快"
