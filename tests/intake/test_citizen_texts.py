"""Every citizen-facing text is a template staff edit on one screen (市民文案): shipped defaults, placeholder
checks, audit, restore; WeChat's conversation replies come from them."""

from __future__ import annotations

import pytest
from django.test import Client

from hotline.common.errors import NotAllowed, ServiceError
from hotline.common.models import AuditLog
from hotline.intake import texts
from hotline.notify.models import MessageTemplate
from tests.intake.test_wechat_channel import Follower
from tests.intake.test_wechat_channel import account as account  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def test_every_citizen_template_is_on_the_screen_with_its_row(db):
    citizen_codes = set(
        MessageTemplate.objects.filter(code__regex=r"^(channel_|chat_|wechat_|citizen_)").values_list(
            "code", flat=True
        )
    )
    assert citizen_codes <= set(texts.DEFAULTS)  # nothing sent to citizens is missing from the screen
    assert set(texts.DEFAULTS) <= set(MessageTemplate.objects.values_list("code", flat=True))  # all seeded
    for default in texts.DEFAULTS.values():
        assert not texts.validate(default.code, subject=default.subject, body=default.body), default.code
    groups = {key: [r.default.code for r in rows] for key, _label, rows in texts.rows()}
    assert "wechat_welcome" in groups["wechat"] and "channel_received" in groups["sms"]
    assert "chat_welcome" in groups["chat"] and "channel_mail_answer" in groups["email"]
    assert "query_password_code" in groups["phone"] and "sla_warning" not in texts.DEFAULTS


@pytest.mark.parametrize(
    ("subject", "body", "field", "words"),
    [
        (
            "您的诉求已收到",
            "您的诉求已收到，工单编号{number}，查询密码{password}，{name}您好",
            "body",
            "{name}",
        ),
        ("您的诉求已收到", "您的诉求已收到，查询密码{password}。", "body", "{number}"),
        ("密码{password}", "工单编号{number}，查询密码{password}。", "subject", "标题不能包含"),
        ("您的诉求已收到", "工单编号{number，查询密码{password}。", "body", "花括号"),
        ("您的诉求已收到", "工单编号{0}，查询密码{password}。", "body", "花括号"),
        ("", "工单编号{number}，查询密码{password}。", "subject", "不能为空"),
    ],
)
def test_bad_edits_are_refused_naming_the_problem(people, subject, body, field, words):
    before = MessageTemplate.objects.get(code="channel_received")
    with pytest.raises(ServiceError) as refused:
        texts.text_save(actor=people.monitor, code="channel_received", subject=subject, body=body)
    assert any(words in e for e in refused.value.field_errors[field])
    after = MessageTemplate.objects.get(code="channel_received")
    assert (after.subject, after.body) == (before.subject, before.body)
    assert not AuditLog.objects.filter(action="citizen_text").exists()


def test_an_edit_reaches_the_wechat_follower_and_restoring_brings_the_default_back(people, account):
    follower = Follower(safe=False)
    assert "欢迎关注12345" in follower.text_of(follower.post({"MsgType": "event", "Event": "subscribe"}))
    texts.text_save(
        actor=people.monitor, code="wechat_welcome", subject="12345热线", body="您好！江城12345为您服务。"
    )
    follower2 = Follower(safe=False, open_id="o-second-follower")
    assert (
        follower2.text_of(follower2.post({"MsgType": "event", "Event": "subscribe"}))
        == "您好！江城12345为您服务。"
    )
    audit = AuditLog.objects.get(action="citizen_text")
    assert audit.actor_id == people.monitor.pk and "body" in audit.changes
    texts.text_save(
        actor=people.monitor,
        code="wechat_type_chosen",
        subject="12345热线",
        body="好的，请描述您的“{type}”。",
    )
    chosen = follower.text_of(follower.post({"MsgType": "event", "Event": "CLICK", "EventKey": "REQ_HELP"}))
    assert chosen == "好的，请描述您的“求助”。"
    texts.text_reset(actor=people.monitor, code="wechat_welcome")
    assert MessageTemplate.objects.get(code="wechat_welcome").body == texts.DEFAULTS["wechat_welcome"].body
    # switched off: a conversation text falls back to its default (the follower always gets an answer)
    texts.text_save(
        actor=people.monitor, code="wechat_need_type", subject="12345热线", body="先选类型。", is_active=False
    )
    assert follower2.say("我家门口路灯坏了三天了，晚上很黑") == texts.DEFAULTS["wechat_need_type"].body
    with pytest.raises(NotAllowed):
        texts.text_save(actor=people.east, code="wechat_welcome", subject="x", body="y")


def test_the_screen_lists_saves_refuses_and_hides_from_others(people):
    client = Client()
    client.force_login(people.monitor)
    page = client.get("/intake/texts/")
    html = page.content.decode()
    assert page.status_code == 200
    for code in (
        "channel_received",
        "wechat_welcome",
        "chat_welcome",
        "channel_mail_answer",
        "citizen_received",
    ):
        assert f'data-testid="text-{code}"' in html
    bad = client.post(
        "/intake/texts/",
        {"code": "channel_appended", "subject": "12345热线", "body": "已收到。", "is_active": "on"},
    )
    assert bad.status_code == 400 and "{number}" in bad.content.decode()
    good = client.post(
        "/intake/texts/",
        {
            "code": "channel_appended",
            "subject": "12345热线",
            "body": "补充信息已并入工单{number}。",
            "is_active": "on",
        },
    )
    assert good.status_code == 302
    assert MessageTemplate.objects.get(code="channel_appended").body == "补充信息已并入工单{number}。"
    assert (
        client.post("/intake/texts/", {"code": "sla_warning", "subject": "x", "body": "y"}).status_code == 400
    )
    other = Client()
    other.force_login(people.east)
    assert other.get("/intake/texts/").status_code == 404
    assert other.post("/intake/texts/", {"code": "channel_appended", "action": "reset"}).status_code == 404


def test_an_edited_receipt_is_sent_from_the_next_request_on(people):
    """The receipt's template comes from the process's cache: an edit on the screen counts from the next request."""
    from hotline.cases import services as case_services
    from hotline.cases.models import Channel
    from hotline.common.models import DictItem, DictKind
    from hotline.intake import services
    from hotline.notify.models import Outbox
    from hotline.notify.services import delivery_text

    complaint, _ = DictItem.objects.get_or_create(
        kind=DictKind.CASE_TYPE, code="complaint", defaults={"name": "投诉", "is_active": True}
    )

    def submit(external_id: str, phone: str) -> str:
        result = services.channel_request_submit(
            delivery=services.Delivery(
                channel=Channel.WEB, account="portal", external_id=external_id, sender=phone, text="路灯坏了"
            ),
            data=case_services.CaseInput(case_type=complaint, content="路灯坏了", citizen_phone=phone),
            ack_sms=phone,
        )
        assert result.case is not None
        return delivery_text(Outbox.objects.get(address=phone, template="channel_received"))

    assert "旧文案" not in submit("t-1", "13911110001")  # the cache is filled with the shipped text
    texts.text_save(
        actor=people.monitor,
        code="channel_received",
        subject="您的诉求已收到",
        body="旧文案换新：工单编号{number}，查询密码{password}。",
    )
    assert "旧文案" not in delivery_text(Outbox.objects.get(address="13911110001"))  # sent: kept as it was
    assert "旧文案换新：工单编号" in submit("t-2", "13911110002")
