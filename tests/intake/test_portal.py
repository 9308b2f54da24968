"""The citizen portal (WEB-1) through Django's test client: submit with an SMS code and photos, idempotent by the
form's submission id, throttled; look up with the query password and rate (CLS-2 on the web); "my requests" by a
proven phone; another citizen gets 404; the agents' online queue shows the reply clock, overdue first."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from hotline.cases.models import Callback, Case, CaseStatus, Channel
from hotline.common.clock import frozen_now
from hotline.intake.models import ChannelMessage
from hotline.notify.models import Outbox
from hotline.notify.services import delivery_text
from tests.intake.conftest import carry_to_callback
from tests.intake.test_mail_imap import PNG

pytestmark = pytest.mark.django_db
CONTENT = "梨园街道幸福社区3栋门口的路灯坏了一个多月，晚上很黑，老人出行不便，请尽快维修。"


def code_for(client: Client, phone: str) -> str:
    response = client.post("/portal/code/", {"phone": phone})
    assert response.status_code == 200 and "验证码已发送" in response.content.decode()
    body = delivery_text(Outbox.objects.filter(template="channel_login_code", address=phone).latest("id"))
    return re.search(r"验证码(\d{6})", body).group(1)  # type: ignore[union-attr]


def form_values(client: Client, phone: str = "13600001111", **overrides: Any) -> dict[str, Any]:
    page = client.get("/portal/submit/").content.decode()
    submission_id = re.search(r'name="submission_id" value="([0-9a-f-]{36})"', page).group(1)  # type: ignore[union-attr]
    values = {
        "submission_id": submission_id,
        "case_type": "complaint",
        "title": "路灯坏了",
        "content": CONTENT,
        "location": "幸福社区3栋",
        "phone": phone,
        "code": code_for(client, phone),
    }
    values.update(overrides)
    return values


def test_submit_with_code_and_photo_then_retry_shows_the_same_case(city, channel_templates):
    client = Client()
    values = form_values(client)
    photo = SimpleUploadedFile("路灯.png", PNG, content_type="image/png")
    response = client.post("/portal/submit/", {**values, "photos": [photo]})
    assert response.status_code == 302 and response["Location"] == "/portal/submit/done/"
    done = client.get("/portal/submit/done/").content.decode()
    case = Case.objects.get(channel=Channel.WEB)
    assert case.number in done and re.search(r'data-testid="query-password">(\d{8})<', done)
    assert (
        case.status == CaseStatus.DRAFT and case.intake_by_id is None and case.citizen_phone == "13600001111"
    )
    assert [a.name for a in case.attachments.all()] == [
        "路灯.png"
    ] and case.attachments.get().uploaded_by_id is None
    assert case.origin["requester_channel"] == "web" and case.location == "幸福社区3栋"
    assert client.get("/portal/submit/done/").status_code == 302  # the password is shown once

    again = client.post("/portal/submit/", {**values, "photos": [SimpleUploadedFile("路灯.png", PNG)]})
    assert again.status_code == 302
    page = client.get("/portal/submit/done/").content.decode()
    assert "已提交过" in page and case.number in page and "query-password" not in page
    assert Case.objects.count() == 1 and ChannelMessage.objects.filter(channel=Channel.WEB).count() == 1
    assert Outbox.objects.filter(template="channel_received").count() == 1


def test_bad_input_leaves_nothing_behind(city, channel_templates):
    client = Client()
    values = form_values(client)
    wrong = client.post(
        "/portal/submit/", {**values, "code": "000000" if values["code"] != "000000" else "111111"}
    )
    assert wrong.status_code == 400 and 'data-testid="error-code"' in wrong.content.decode()
    script = SimpleUploadedFile("x.jpg", b"<html><script>alert(1)</script></html>", content_type="image/jpeg")
    refused = client.post("/portal/submit/", {**values, "photos": [script]})
    assert refused.status_code == 400 and "类型不允许" in refused.content.decode()
    short = client.post("/portal/submit/", {**values, "content": "太短", "phone": "123"})
    assert short.status_code == 400
    assert Case.objects.count() == 0 and ChannelMessage.objects.count() == 0
    # The code was not used up by the refused photo: the corrected form goes through.
    assert client.post("/portal/submit/", values).status_code == 302 and Case.objects.count() == 1


def test_a_flood_of_submissions_from_one_address_is_throttled(city, channel_templates):
    client = Client()
    statuses = [
        client.post("/portal/submit/", {"submission_id": str(uuid.uuid4())}).status_code for _ in range(11)
    ]
    assert statuses[:10] == [400] * 10 and statuses[10] == 429
    codes = [client.post("/portal/code/", {"phone": f"1360000{i:04d}"}).status_code for i in range(11)]
    assert codes[10] == 429


def test_lookup_rate_and_another_citizen_gets_404(city, people, channel_templates):
    client = Client()
    values = form_values(client)
    client.post("/portal/submit/", values)
    password = re.search(
        r'data-testid="query-password">(\d{8})<', client.get("/portal/submit/done/").content.decode()
    )
    case = Case.objects.get(channel=Channel.WEB)

    visitor = Client()  # the citizen on another device: number + query password
    assert visitor.get(f"/portal/case/{case.number}/").status_code == 404
    wrong = visitor.post("/portal/case/", {"number": case.number, "password": "12345678"})
    assert wrong.status_code == 200 and "不正确" in wrong.content.decode()
    ok = visitor.post("/portal/case/", {"number": case.number, "password": password.group(1)})  # type: ignore[union-attr]
    assert ok.status_code == 302
    page = visitor.get(f"/portal/case/{case.number}/").content.decode()
    assert (
        "受理登记" in page
        and CONTENT in page
        and "13600001111" not in page
        and "portal-rating-form" not in page
    )

    carry_to_callback(case, city, people)
    page = visitor.get(f"/portal/case/{case.number}/").content.decode()
    assert "portal-rating-form" in page and "已安排清理完毕" in page
    assert visitor.post(f"/portal/case/{case.number}/", {"rating": "very_bad"}).status_code == 200
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CALLBACK
    visitor.post(f"/portal/case/{case.number}/", {"rating": "dissatisfied", "words": "路灯还是不亮"})
    case.refresh_from_db()
    assert case.status == CaseStatus.REDO and case.last_rating == "dissatisfied"
    assert Callback.objects.get(case=case).method == "web"

    other = Client()  # another citizen with a proven phone of their own
    other.post("/portal/mine/", {"phone": "13600002222", "code": code_for(other, "13600002222")})
    mine = other.get("/portal/mine/").content.decode()
    assert "暂无诉求" in mine and case.number not in mine
    assert other.get(f"/portal/case/{case.number}/").status_code == 404
    assert other.post(f"/portal/case/{case.number}/", {"rating": "very_satisfied"}).status_code == 404

    cache.clear()  # a minute has passed: the per-phone code limit lets the owner ask again
    owner = Client()
    owner.post("/portal/mine/", {"phone": "13600001111", "code": code_for(owner, "13600001111")})
    assert case.number in owner.get("/portal/mine/").content.decode()
    assert owner.get(f"/portal/case/{case.number}/").status_code == 200


def test_public_case_opens_without_password_but_cannot_be_rated_by_a_stranger(
    city, people, channel_templates
):
    client = Client()
    client.post("/portal/submit/", form_values(client, is_public="on"))
    case = Case.objects.get(channel=Channel.WEB)
    assert case.is_public and not case.query_password
    carry_to_callback(case, city, people)
    stranger = Client()
    assert stranger.post("/portal/case/", {"number": case.number}).status_code == 302
    page = stranger.get(f"/portal/case/{case.number}/").content.decode()
    assert (
        "portal-rating-form" not in page and 'data-testid="case-content"' not in page and CONTENT not in page
    )
    stranger.post(f"/portal/case/{case.number}/", {"rating": "very_dissatisfied"})
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CALLBACK


def test_agents_queue_shows_the_reply_clock_overdue_first(city, people, channel_templates):
    now = timezone.now()
    with frozen_now(now - dt.timedelta(minutes=2)):
        late = Client()
        late.post("/portal/submit/", form_values(late, "13600003333", title="较早的网上诉求"))
    fresh_client = Client()
    fresh_client.post("/portal/submit/", form_values(fresh_client, "13600004444", title="刚提交的网上诉求"))
    with frozen_now(now - dt.timedelta(hours=30)):  # an e-mail from yesterday: 24 h clock, not yet… overdue
        from hotline.cases import services as case_services
        from hotline.intake import services

        services.channel_request_submit(
            delivery=services.Delivery(
                channel=Channel.EMAIL, account="box", external_id="<m1@x>", sender="a@b.cn"
            ),
            data=case_services.CaseInput(
                case_type=services.case_type("consult"),  # type: ignore[arg-type]
                content="邮件诉求内容，请问社保卡补办需要什么材料？",
                citizen_email="a@b.cn",
                title="邮件诉求",
            ),
        )
    agent = Client()
    agent.force_login(people.agent)
    with frozen_now(now + dt.timedelta(minutes=2)):
        page = agent.get("/").content.decode()
    queue = page[page.index('data-testid="queue-online"') :]
    titles = re.findall(r"(邮件诉求|较早的网上诉求|刚提交的网上诉求)", queue)[:3]
    assert titles == ["邮件诉求", "较早的网上诉求", "刚提交的网上诉求"]  # by reply deadline: overdue first
    assert (
        queue.count('data-testid="reply-due"') == 3
        and queue[: queue.index("刚提交的网上诉求")].count("已超期") >= 1
    )
