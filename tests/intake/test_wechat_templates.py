"""WX-1 progress notices as WeChat template messages (模板消息), against the loopback stand-in of WeChat's API
speaking its protocol: the office sets the template id and the field mapping (validated, audited); a WeChat
request's new stage goes out through /cgi-bin/message/template/send with the fields filled; a token the stand-in
no longer accepts (40001) is refreshed and the call retried once; an unsubscribed follower (43004) is recorded
and not retried; a bad template id (40037) is recorded as failed; without a template the notice stays a text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from hotline.cases import services as case_services
from hotline.cases.lifecycle import Action
from hotline.cases.models import AssignmentRole, Case, Channel
from hotline.common.errors import NotAllowed, ServiceError
from hotline.common.models import AuditLog
from hotline.intake.models import WeChatFollower, WeChatNoticeTemplate, WeChatTemplateSend
from hotline.intake.wechat import notice_templates
from hotline.intake.wechat.client import WeChatApiError, send_template
from tests.conftest import fresh
from tests.intake.test_wechat_channel import APP_ID, OPENID, Follower
from tests.intake.test_wechat_channel import account as account  # noqa: F401 (fixture)
from tests.intake.wechat_standin import StandIn, wechat_api

pytestmark = pytest.mark.django_db

SECRET = "d4624c36b6795d1d99dcf0547af5443d"
TEMPLATE_ID = "ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY"
FIELDS = "first=您的诉求有新进展\nkeyword1={number}\nkeyword2={stage}\nthing3={title}\nremark={reply}"


@pytest.fixture
def api(account: Any) -> Iterator[StandIn]:
    with wechat_api(APP_ID, SECRET) as standin:
        account.api_base_url = standin.url
        account.set_app_secret(SECRET)
        account.save()
        standin.templates = {TEMPLATE_ID: {"first", "keyword1", "keyword2", "thing3", "remark"}}
        cache.clear()  # no token left from another test
        yield standin


def _wechat_case(follower: Follower) -> Case:
    follower.post({"MsgType": "event", "Event": "subscribe"})
    WeChatFollower.objects.filter(open_id=follower.open_id).update(phone="13800138001")
    follower.post({"MsgType": "event", "Event": "CLICK", "EventKey": "REQ_COMPLAINT"})
    follower.say("江城区幸福路12号门口的路灯坏了三天了，晚上很黑，请尽快修复。")
    return Case.objects.get(channel=Channel.WECHAT)


def test_the_office_sets_a_template_validated_and_audited(city, people):
    with pytest.raises(NotAllowed):
        notice_templates.notice_template_save(
            actor=people.east, code="wechat_progress", template_id=TEMPLATE_ID, fields=FIELDS
        )
    bad = {
        "fields": "keyword1={password}",  # not a placeholder of this notice
        "template_id": "bad id!",
    }
    with pytest.raises(ServiceError) as wrong:
        notice_templates.notice_template_save(actor=people.monitor, code="wechat_progress", **bad)
    assert "template_id" in wrong.value.field_errors and "{password}" in wrong.value.field_errors["fields"][0]
    for fields in ("keyword1", "1key={number}", "keyword1={number}\nkeyword1={stage}", "k={number"):
        with pytest.raises(ServiceError):
            notice_templates.notice_template_save(
                actor=people.monitor, code="wechat_progress", template_id=TEMPLATE_ID, fields=fields
            )
    with pytest.raises(ServiceError):
        notice_templates.notice_template_save(
            actor=people.monitor,
            code="wechat_progress",
            template_id=TEMPLATE_ID,
            fields=FIELDS,
            url="javascript:x",
        )
    assert not WeChatNoticeTemplate.objects.exists()
    row = notice_templates.notice_template_save(
        actor=people.monitor, code="wechat_progress", template_id=TEMPLATE_ID, fields=FIELDS
    )
    assert row.fields[1] == ["keyword1", "{number}"] and row.is_active
    assert AuditLog.objects.filter(action="wechat_template", actor=people.monitor).count() == 1


def test_progress_goes_as_a_template_message_and_a_stale_token_is_refreshed_once(
    city, people, api, django_capture_on_commit_callbacks
):
    notice_templates.notice_template_save(
        actor=people.monitor, code="wechat_progress", template_id=TEMPLATE_ID, fields=FIELDS
    )
    case = _wechat_case(Follower(safe=True))
    with django_capture_on_commit_callbacks(execute=True):
        case_services.case_take_intake_action(
            case=fresh(case), actor=people.agent, action=Action.SUBMIT, expected_version=None
        )
    assert api.sent == []  # no customer-service text: the template message instead
    (message,) = api.templates_sent
    assert message["touser"] == OPENID and message["template_id"] == TEMPLATE_ID
    data = message["data"]
    assert data["keyword1"] == {"value": case.number} and data["keyword2"] == {"value": "审核派单"}
    assert data["thing3"]["value"] == case.title[:20] and len(data["thing3"]["value"]) <= 20  # WeChat's limit
    sent = WeChatTemplateSend.objects.get()
    assert (sent.status, sent.attempts, sent.case_id) == ("sent", 1, case.pk) and sent.msg_id
    assert api.tokens_issued == 1

    api.rotate_token()  # the cached token stops working: 40001, a fresh token, the call once more
    with django_capture_on_commit_callbacks(execute=True):
        case_services.case_dispatch(
            case=fresh(case),
            actor=people.dispatcher,
            expected_version=None,
            targets=[case_services.Target(city.east, AssignmentRole.MAIN)],
        )
    assert [m["data"]["keyword2"]["value"] for m in api.templates_sent] == ["审核派单", "单位签收"]
    latest = WeChatTemplateSend.objects.latest("id")
    assert (latest.status, latest.attempts) == ("sent", 2) and api.tokens_issued == 3


def test_a_token_refused_twice_is_not_retried_a_third_time(city, people, api, account):
    row = notice_templates.notice_template_save(
        actor=people.monitor, code="wechat_progress", template_id=TEMPLATE_ID, fields=FIELDS
    )
    api.refuse_tokens = True  # every token is refused
    record = notice_templates.send(account=account, row=row, open_id=OPENID, context={"number": "1"})
    assert (record.status, record.errcode, record.attempts) == ("failed", 40001, 2)
    assert api.template_calls == 2 and api.tokens_issued == 2  # the cached one, then one fresh


def test_an_unsubscribed_follower_is_recorded_and_not_retried(city, people, api, account):
    row = notice_templates.notice_template_save(
        actor=people.monitor, code="wechat_progress", template_id=TEMPLATE_ID, fields=FIELDS
    )
    api.unsubscribed.add(OPENID)
    record = notice_templates.send(account=account, row=row, open_id=OPENID, context={"number": "20260001"})
    assert (record.status, record.errcode, record.attempts) == ("unsubscribed", 43004, 1)
    assert api.template_calls == 1 and api.templates_sent == []
    with pytest.raises(WeChatApiError) as refused:  # the client itself: raised at once, one call
        send_template(account, open_id=OPENID, template_id=TEMPLATE_ID, data={})
    assert refused.value.code == 43004 and refused.value.attempts == 1 and api.template_calls == 2
    # a template id WeChat does not know: recorded as failed
    row.template_id = "unknown-template"
    row.save()
    failed = notice_templates.send(account=account, row=row, open_id="o-other", context={"number": "1"})
    assert (failed.status, failed.errcode) == ("failed", 40037)


def test_without_an_active_template_the_notice_stays_a_text(
    city, people, api, channel_templates, django_capture_on_commit_callbacks
):
    notice_templates.notice_template_save(
        actor=people.monitor, code="wechat_progress", template_id=TEMPLATE_ID, fields=FIELDS, is_active=False
    )
    case = _wechat_case(Follower(safe=False))
    with django_capture_on_commit_callbacks(execute=True):
        case_services.case_take_intake_action(
            case=fresh(case), actor=people.agent, action=Action.SUBMIT, expected_version=None
        )
    assert api.templates_sent == [] and not WeChatTemplateSend.objects.exists()
    assert [m["text"]["content"] for m in api.sent] == [f"您的诉求（工单{case.number}）办理进度：审核派单。"]


def test_the_texts_screen_sets_the_template_and_lists_the_sends(city, people):
    client = Client()
    client.force_login(people.monitor)
    page = client.get("/intake/texts/").content.decode()
    assert 'data-testid="wechat-template-wechat_progress"' in page
    bad = client.post(
        "/intake/texts/",
        {
            "action": "wechat-template",
            "code": "wechat_progress",
            "template_id": TEMPLATE_ID,
            "fields": "x={code}",
        },
    )
    assert bad.status_code == 400 and "error-fields" in bad.content.decode()
    ok = client.post(
        "/intake/texts/",
        {
            "action": "wechat-template",
            "code": "wechat_progress",
            "template_id": TEMPLATE_ID,
            "fields": FIELDS,
            "is_active": "on",
        },
    )
    assert ok.status_code == 302
    assert WeChatNoticeTemplate.objects.get().template_id == TEMPLATE_ID
    assert "template-active" in client.get("/intake/texts/").content.decode()
    outsider = Client()
    outsider.force_login(people.east)
    assert (
        outsider.post(
            "/intake/texts/",
            {"action": "wechat-template", "code": "wechat_progress", "template_id": "x", "fields": FIELDS},
        ).status_code
        == 404
    )


def test_api_sets_the_template_and_lists_the_sends(city, people, api, account):
    from rest_framework.test import APIClient

    office = APIClient()
    office.force_authenticate(people.monitor)
    listed = office.get("/api/v1/wechat/notice-templates/").json()
    assert (
        listed[0]["code"] == "wechat_progress"
        and not listed[0]["is_active"]
        and "stage" in listed[0]["placeholders"]
    )
    bad = office.put(
        "/api/v1/wechat/notice-templates/wechat_progress/",
        {"template_id": TEMPLATE_ID, "fields": "keyword1={code}"},
        format="json",
    )
    assert bad.status_code == 400 and "fields" in bad.json()["errors"]
    ok = office.put(
        "/api/v1/wechat/notice-templates/wechat_progress/",
        {"template_id": TEMPLATE_ID, "fields": FIELDS},
        format="json",
    )
    assert ok.status_code == 200 and ok.json()["fields"][0] == ["first", "您的诉求有新进展"]
    assert (
        office.put(
            "/api/v1/wechat/notice-templates/unknown/", {"template_id": "x", "fields": "a=b"}, format="json"
        ).status_code
        == 404
    )
    api.unsubscribed.add(OPENID)
    notice_templates.send(
        account=account, row=WeChatNoticeTemplate.objects.get(), open_id=OPENID, context={"number": "1"}
    )
    sends = office.get("/api/v1/wechat/template-sends/").json()
    assert [(s["status"], s["errcode"], s["attempts"]) for s in sends] == [("unsubscribed", 43004, 1)]
    unit = APIClient()
    unit.force_authenticate(people.east)
    assert unit.get("/api/v1/wechat/notice-templates/").status_code == 404
    assert unit.get("/api/v1/wechat/template-sends/").status_code == 404
    assert (
        unit.put(
            "/api/v1/wechat/notice-templates/wechat_progress/",
            {"template_id": "x", "fields": "keyword1={number}"},
            format="json",
        ).status_code
        == 404
    )
    assert WeChatNoticeTemplate.objects.get().template_id == TEMPLATE_ID


def _job_finish(follower: Follower, msg_id: str, status: str, created: int) -> Any:
    """WeChat's TEMPLATESENDJOBFINISH push as its servers send it (MsgID as a bare number), signed (and in safe
    mode encrypted) by the follower's protocol helper."""
    return follower.post(
        {"MsgType": "event", "Event": "TEMPLATESENDJOBFINISH", "MsgID": int(msg_id), "Status": status},
        timestamp=created,
    )


@pytest.mark.parametrize("safe", [True, False])
def test_template_send_job_finish_is_recorded_on_the_send_once(city, people, api, account, safe):
    import time

    from hotline.intake.models import ChannelMessage

    row = notice_templates.notice_template_save(
        actor=people.monitor, code="wechat_progress", template_id=TEMPLATE_ID, fields=FIELDS
    )
    first = notice_templates.send(account=account, row=row, open_id=OPENID, context={"number": "20260001"})
    second = notice_templates.send(account=account, row=row, open_id=OPENID, context={"number": "20260002"})
    third = notice_templates.send(account=account, row=row, open_id=OPENID, context={"number": "20260003"})
    other = notice_templates.send(account=account, row=row, open_id="o-someone-else", context={"number": "9"})
    assert first.msg_id and len({first.msg_id, second.msg_id, third.msg_id, other.msg_id}) == 4
    follower = Follower(safe=safe)
    now = int(time.time())

    answer = _job_finish(follower, first.msg_id, "success", now)
    assert answer.status_code == 200 and answer.content == b"success"  # no reply expected by WeChat
    first.refresh_from_db()
    assert (first.delivery, first.delivery_status) == ("delivered", "success") and first.delivery_reported_at
    reported = first.delivery_reported_at
    # WeChat's retry of the same push (same CreateTime): one delivery row, nothing changed
    assert _job_finish(follower, first.msg_id, "success", now).content == b"success"
    # a later, contradicting report for the same msgid: the first report counts
    assert _job_finish(follower, first.msg_id, "failed: system failed", now + 1).status_code == 200
    first.refresh_from_db()
    assert (first.delivery, first.delivery_reported_at) == ("delivered", reported)
    assert ChannelMessage.objects.filter(kind="templatesendjobfinish").count() == 2

    _job_finish(follower, second.msg_id, "failed:user block", now + 2)
    _job_finish(follower, third.msg_id, "failed: system failed", now + 3)
    second.refresh_from_db()
    third.refresh_from_db()
    assert (second.delivery, second.delivery_status) == ("blocked", "failed:user block")
    assert (third.delivery, third.delivery_status) == ("failed", "failed: system failed")
    # a report naming another follower's msgid, and an unknown msgid: answered, nothing recorded
    assert _job_finish(follower, other.msg_id, "success", now + 4).content == b"success"
    assert _job_finish(follower, "999999999", "success", now + 5).content == b"success"
    other.refresh_from_db()
    assert other.delivery == "" and other.delivery_reported_at is None
    # a forged push (bad signature) is refused and changes nothing
    forged = Client().post(
        f"/intake/wechat/{APP_ID}/?timestamp={now}&nonce=1&signature=bad",
        f"<xml><ToUserName>gh</ToUserName><FromUserName>o-someone-else</FromUserName><CreateTime>{now}</CreateTime>"
        f"<MsgType>event</MsgType><Event>TEMPLATESENDJOBFINISH</Event><MsgID>{other.msg_id}</MsgID>"
        "<Status>success</Status></xml>",
        content_type="text/xml",
    )
    assert forged.status_code == 401
    other.refresh_from_db()
    assert other.delivery == ""
    # the texts screen lists the result beside the send
    client = Client()
    client.force_login(people.monitor)
    assert "已送达（success）" in client.get("/intake/texts/").content.decode()
