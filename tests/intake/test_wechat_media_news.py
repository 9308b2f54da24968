"""WX-1: photos with requests (image messages fetched through the media API), news replies (announcements and
knowledge), and progress notices to the follower when their case changes stage — against the loopback stand-in
of WeChat's API, in plain and safe mode."""

from __future__ import annotations

import base64
import datetime as dt
import xml.etree.ElementTree as ET  # noqa: S405 (parses our own replies)
from collections.abc import Iterator
from typing import Any

import pytest

from hotline.bulletins.models import Bulletin, BulletinKind, BulletinStatus
from hotline.cases import services as case_services
from hotline.cases.lifecycle import Action
from hotline.cases.models import Assignment, AssignmentRole, Case, CaseStatus, Channel
from hotline.common import clock
from hotline.intake.models import WeChatFollower
from hotline.intake.wechat.protocol import parse_xml
from tests.conftest import fresh
from tests.intake.test_wechat_channel import APP_ID, OPENID, Follower
from tests.intake.test_wechat_channel import account as account  # noqa: F401 (fixture)
from tests.intake.wechat_standin import StandIn, wechat_api
from tests.knowledge.conftest import kb as kb  # noqa: F401 (fixture)
from tests.knowledge.conftest import publish

SECRET = "d4624c36b6795d1d99dcf0547af5443d"
# A 1×1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@pytest.fixture
def api(account: Any) -> Iterator[StandIn]:
    with wechat_api(APP_ID, SECRET) as standin:
        account.api_base_url = standin.url
        account.set_app_secret(SECRET)
        account.save()
        standin.media = {"MEDIA-1": (PNG, "image/png"), "MEDIA-2": (PNG, "image/png")}
        standin.media["SCRIPT"] = (b"<script>alert(1)</script>", "image/jpeg")  # not an image inside
        yield standin


def _bound(follower: Follower) -> None:
    follower.post({"MsgType": "event", "Event": "subscribe"})
    WeChatFollower.objects.filter(open_id=follower.open_id).update(phone="13800138001")


def _image(follower: Follower, media_id: str, msg_id: int | None = None) -> Any:
    return follower.post(
        {"MsgType": "image", "PicUrl": "http://mmbiz.qpic.cn/x", "MediaId": media_id}, msg_id=msg_id
    )


@pytest.mark.parametrize("safe", [False, True], ids=["plain", "safe"])
def test_photos_sent_while_composing_are_attached_to_the_new_case(
    city, api, safe, django_capture_on_commit_callbacks
):
    follower = Follower(safe=safe)
    _bound(follower)
    follower.text_of(follower.post({"MsgType": "event", "Event": "CLICK", "EventKey": "REQ_COMPLAINT"}))
    assert "第1张" in follower.text_of(_image(follower, "MEDIA-1", msg_id=77001))
    assert "第1张" in follower.text_of(_image(follower, "MEDIA-1", msg_id=77001))  # WeChat's retry: once
    assert "第2张" in follower.text_of(_image(follower, "MEDIA-2"))
    assert api.media_fetched == []  # nothing fetched before the request exists
    with django_capture_on_commit_callbacks(execute=True):
        reply = follower.say("江城区幸福路12号门口的路灯坏了三天了，晚上很黑，请尽快修复。")
    case = Case.objects.get(channel=Channel.WECHAT)
    assert case.number in reply
    assert api.media_fetched == ["MEDIA-1", "MEDIA-2"]
    photos = list(case.attachments.order_by("id"))
    assert len(photos) == 2 and all(p.content_type == "image/png" for p in photos)
    assert WeChatFollower.objects.get(open_id=OPENID).pending_media == []


def test_a_photo_later_goes_to_the_open_case_and_bad_media_is_not_attached(
    city, api, django_capture_on_commit_callbacks
):
    follower = Follower(safe=False)
    assert "选择诉求类型" in follower.text_of(_image(follower, "MEDIA-1"))  # no request yet
    _bound(follower)
    follower.text_of(follower.post({"MsgType": "event", "Event": "CLICK", "EventKey": "REQ_HELP"}))
    follower.say("江城区幸福路12号楼道灯坏了，老人晚上出行不便，请帮忙联系物业。")
    case = Case.objects.get(channel=Channel.WECHAT)
    with django_capture_on_commit_callbacks(execute=True):
        assert case.number in follower.text_of(_image(follower, "MEDIA-2"))
    with django_capture_on_commit_callbacks(execute=True):
        follower.text_of(_image(follower, "EXPIRED"))  # WeChat answers 40007
    with django_capture_on_commit_callbacks(execute=True):
        follower.text_of(_image(follower, "SCRIPT"))  # refused by the content check
    assert case.attachments.count() == 1
    assert api.media_fetched == ["MEDIA-2", "EXPIRED", "SCRIPT"]


def _articles(follower: Follower, response: Any) -> list[dict[str, str]]:
    """The articles of a news reply (decrypted in safe mode)."""
    assert response.status_code == 200, response.content
    raw = response.content
    if follower.safe:
        envelope = parse_xml(raw)
        raw = follower.crypto.decrypt(
            encrypt=envelope["Encrypt"],
            msg_signature=envelope["MsgSignature"],
            timestamp=envelope["TimeStamp"],
            nonce=envelope["Nonce"],
        )
    root = ET.fromstring(raw)  # noqa: S314 (our own reply)
    assert root.findtext("MsgType") == "news" and root.findtext("ToUserName") == follower.open_id
    items = root.findall("Articles/item")
    assert int(root.findtext("ArticleCount") or 0) == len(items)
    return [{"title": i.findtext("Title") or "", "url": i.findtext("Url") or ""} for i in items]


@pytest.mark.parametrize("safe", [False, True], ids=["plain", "safe"])
def test_announcements_and_knowledge_come_back_as_news(
    city, people, account, kb, safe, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setenv("HOTLINE_PORTAL_URL", "https://12345.example.gov.cn")
    follower = Follower(safe=safe)
    assert "没有公告" in follower.say("公告")
    now = clock.now()
    kind = BulletinKind.objects.get_or_create(name="通知公告")[0]
    shown = Bulletin.objects.create(
        kind=kind, subject="春节期间12345热线正常服务", body="热线24小时服务。", sender=people.monitor,
        status=BulletinStatus.PUBLISHED, created_at=now, is_public=True, public_from=now - dt.timedelta(hours=1),
    )  # fmt: skip
    Bulletin.objects.create(
        kind=kind, subject="内部值班表", body="仅内部。", sender=people.monitor, status=BulletinStatus.PUBLISHED,
        created_at=now, is_public=False,
    )  # fmt: skip
    articles = _articles(follower, follower.post({"MsgType": "text", "Content": "公告"}))
    assert articles == [
        {"title": shown.subject, "url": f"https://12345.example.gov.cn/portal/notices/{shown.pk}/"}
    ]
    menu = _articles(follower, follower.post({"MsgType": "event", "Event": "CLICK", "EventKey": "NEWS"}))
    assert menu == articles

    with django_capture_on_commit_callbacks(execute=True):  # indexed after commit
        item = publish(
            kb, kb.card, "社保卡丢失如何补办", "携带身份证到社保服务大厅办理社保卡补办手续。", is_public=True
        )
    found = _articles(follower, follower.post({"MsgType": "text", "Content": "知识 社保卡补办"}))
    assert found and found[0]["url"].endswith(f"/portal/kb/items/{item.pk}/")
    assert "社保卡" in found[0]["title"]
    assert "没有找到" in follower.say("知识 火星移民政策")


def test_the_follower_hears_of_each_new_stage(city, people, api, django_capture_on_commit_callbacks):
    follower = Follower(safe=True)
    _bound(follower)
    follower.text_of(follower.post({"MsgType": "event", "Event": "CLICK", "EventKey": "REQ_COMPLAINT"}))
    follower.say("江城区幸福路12号门口的路灯坏了三天了，晚上很黑，请尽快修复。")
    case = Case.objects.get(channel=Channel.WECHAT)
    with django_capture_on_commit_callbacks(execute=True):
        case_services.case_take_intake_action(
            case=fresh(case), actor=people.agent, action=Action.SUBMIT, expected_version=None
        )
    with django_capture_on_commit_callbacks(execute=True):
        case_services.case_dispatch(
            case=fresh(case),
            actor=people.dispatcher,
            expected_version=None,
            targets=[case_services.Target(city.east, AssignmentRole.MAIN)],
        )
    texts = [m["text"]["content"] for m in api.sent if m["touser"] == OPENID]
    assert texts == [
        f"您的诉求（工单{case.number}）办理进度：审核派单。",
        f"您的诉求（工单{case.number}）办理进度：单位签收。",
    ]
    api.down = True  # WeChat unreachable: the case moves on, the notice is only logged
    main = Assignment.objects.get(case=case, role=AssignmentRole.MAIN)
    with django_capture_on_commit_callbacks(execute=True):
        case_services.assignment_sign_for(assignment=main, actor=people.east, expected_version=None)
    assert fresh(case).status == CaseStatus.HANDLING and len(api.sent) == 2


def test_other_channels_get_no_wechat_notice(city, people, api, django_capture_on_commit_callbacks):
    from tests.conftest import submitted_case

    with django_capture_on_commit_callbacks(execute=True):
        submitted_case(city, people)
    assert api.sent == [] and api.tokens_issued == 0
