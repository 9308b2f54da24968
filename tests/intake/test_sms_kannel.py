"""SMS in through a real Kannel: fakesmsc (the citizen's phone) → bearerbox → smsbox sms-service get-url → our
endpoint → a request and its acknowledgement back through the outbox and Kannel to fakesmsc; a reply of 1–5 to the
callback SMS records the rating. All processes on 127.0.0.1 (the Kannel class of tests/notify/test_kannel.py)."""

from __future__ import annotations

import re
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import OperationalError

from hotline.cases import services
from hotline.cases.lifecycle import Action
from hotline.cases.models import Callback, Case, CaseEvent, CaseStatus, Channel, Rating
from hotline.cases.services import default_main_unit
from hotline.intake.models import CallbackInvite, ChannelMessage
from hotline.intake.sms import outbound
from hotline.intake.sms.mo import mo_secret
from hotline.notify import services as notify
from hotline.notify.models import Outbox
from tests.conftest import fresh
from tests.intake.conftest import carry_to_callback
from tests.notify.test_kannel import FAKESMSC, Kannel, free_port, gateway_for, wait_port
from tests.notify.test_kannel import wait_for as _wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not Path(FAKESMSC).exists(), reason="Kannel is not installed (scripts/setup.sh --test)"
    ),
]
PHONE = "13911112222"


class KannelMO(Kannel):
    """Kannel with an sms-service whose get-url is our endpoint; fakesmsc in interactive mode (stdin = MO)."""

    def __init__(self, workdir: Path, endpoint: str) -> None:
        super().__init__(workdir)
        conf = self.conf.read_text().replace("group = smsbox\n", "group = smsbox\nmo-recode = true\n")
        conf += f"""
group = sms-service
keyword = default
catch-all = true
omit-empty = true
max-messages = 0
get-url = "{endpoint}?key={mo_secret()}&id=%I&from=%p&to=%P&charset=%C&coding=%c&text=%a"
"""
        self.conf.write_text(conf)

    def start_all(self) -> None:
        self.start("bearerbox", "/usr/sbin/bearerbox", str(self.conf))
        wait_port(self.smsc)
        out = open(self.fake_log, "ab")  # noqa: SIM115 - closed with the process
        self.processes["fakesmsc"] = subprocess.Popen(
            [FAKESMSC, "-H", "127.0.0.1", "-r", str(self.smsc)],
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=self.dir,
        )
        self.start_smsbox()

    def citizen_sends(self, sender: str, text: str, to: str = "12345") -> None:
        """One MO message in UCS-2 (as a Chinese handset sends it), to the service number or one with a unit's
        extension appended."""
        data = urllib.parse.quote_from_bytes(text.encode("utf-16-be"))
        stdin = self.processes["fakesmsc"].stdin
        assert stdin is not None
        stdin.write(f"{sender} {to} ucs2 {data}\n".encode())
        stdin.flush()

    def received_from(self) -> list[tuple[str, str]]:
        """(sender number, text) of each message the phone got: the number shows which extension it came from."""
        lines = self.fake_log.read_text(errors="replace") if self.fake_log.exists() else ""
        found = re.findall(r"Got message \d+: <(\S+) (\S+) ucs-2 (\S+)>", lines)
        return [(sender, urllib.parse.unquote_to_bytes(t).decode("utf-16-be")) for sender, _, t in found]


def wait_for(predicate, timeout: float = 15) -> bool:
    """Polls the in-memory SQLite database the live server writes to: a poll that meets its write lock retries."""

    def tolerant() -> bool:
        try:
            return bool(predicate())
        except OperationalError:
            return False

    return _wait_for(tolerant, timeout)


@pytest.fixture
def kannel_mo(tmp_path: Path, live_server) -> Iterator[KannelMO]:
    gateway = KannelMO(tmp_path, f"{live_server.url}/intake/sms/kannel/")
    gateway.start_all()
    yield gateway
    gateway.stop_all()


def test_sms_request_acknowledged_and_rated_by_reply(
    kannel_mo, live_server, city, people, channel_templates, monkeypatch
):
    monkeypatch.setenv("HOTLINE_SMS_QUIET_HOURS", "")
    # Delivery reports are tested in tests/notify; here they would write to the shared in-memory database at
    # the same moment as the test thread, so Kannel sends them to a port where nothing listens.
    gateway = gateway_for(kannel_mo, live_server)
    gateway.dlr_url = f"http://127.0.0.1:{free_port()}/notify/kannel/dlr/"
    text = "投诉：幸福社区12栋楼下烧烤店油烟很大，每天营业到凌晨两点，请处理"
    kannel_mo.citizen_sends(PHONE, text)
    assert wait_for(lambda: Case.objects.filter(channel=Channel.SMS).exists(), timeout=20), (
        kannel_mo.dir / "smsbox.log"
    ).read_text()[-2000:]
    case = Case.objects.get(channel=Channel.SMS)
    assert case.content == text and case.citizen_phone == PHONE and case.case_type.code == "complaint"
    assert case.status == CaseStatus.DRAFT and case.intake_by_id is None
    assert case.origin["requester_id"] == PHONE and case.origin["reply_due_at"]
    message = ChannelMessage.objects.get(channel=Channel.SMS)
    assert re.fullmatch(r"[0-9a-f-]{36}", message.external_id)  # Kannel's message id (%I)
    assert (message.reply_due_at - message.received_at).total_seconds() == 180

    # The acknowledgement with the case number reaches the phone through the outbox and Kannel.
    assert deliver(gateway) == 1
    assert wait_for(lambda: any(case.number in t for t in kannel_mo.received()))
    ack = next(t for t in kannel_mo.received() if case.number in t)
    assert re.search(r"查询密码\d{8}", ack)  # the citizen gets the password; the stored body shows ******
    assert "******" in Outbox.objects.get(template="channel_received").body

    # Smsbox delivering the same message again (same %I) makes no second case.
    before = Case.objects.count()
    response = kannel_mo_retry(live_server, message)
    assert response == 200 and Case.objects.count() == before

    # Handled; the callback SMS goes out; the citizen replies 4 (满意) and the case closes.
    case = carry_to_callback(case, city, people)
    assert case.status == CaseStatus.CALLBACK
    invite = CallbackInvite.objects.get(case=case)
    deliver(gateway)
    assert wait_for(lambda: any("请回复数字评价" in t for t in kannel_mo.received()))
    kannel_mo.citizen_sends(PHONE, "4")
    assert wait_for(lambda: fresh(case).status == CaseStatus.CLOSED, timeout=20)
    callback = Callback.objects.get(case=case)
    assert callback.rating == Rating.SATISFIED and callback.method == "sms" and callback.actor_id is None
    invite.refresh_from_db()
    assert invite.answered_at and invite.rating == Rating.SATISFIED
    deliver(gateway)
    assert wait_for(lambda: any("感谢您的支持" in t for t in kannel_mo.received()))


def test_sms_to_a_units_extension_goes_to_the_unit_and_is_answered_from_it(
    kannel_mo, live_server, city, people, channel_templates, monkeypatch
):
    """SMS-1 extension numbers through the real Kannel: a citizen texts 12345 + the district's extension 07; the
    request lands advised to that district, the receipt comes back from 1234507; once dispatched there, the
    district's SMS about the case and the citizen's answer to it travel the same way and join the case."""
    monkeypatch.setenv("HOTLINE_SMS_QUIET_HOURS", "")
    monkeypatch.setenv("HOTLINE_SMS_SENDER", "12345")
    gateway = gateway_for(kannel_mo, live_server)
    gateway.dlr_url = f"http://127.0.0.1:{free_port()}/notify/kannel/dlr/"
    outbound.sms_extension_set(actor=people.monitor, unit=city.east, code="07")
    text = "投诉：东区建设路128号路灯不亮已经一周了，晚上行人很不安全"
    kannel_mo.citizen_sends(PHONE, text, to="1234507")
    assert wait_for(lambda: Case.objects.filter(channel=Channel.SMS).exists(), timeout=20), (
        kannel_mo.dir / "smsbox.log"
    ).read_text()[-2000:]
    case = Case.objects.get(channel=Channel.SMS)
    assert case.content == text and case.citizen_phone == PHONE and case.status == CaseStatus.DRAFT
    message = ChannelMessage.objects.get(channel=Channel.SMS)
    assert message.account == "1234507" and message.case_id == case.pk
    assert case.origin["sms_extension"] == "07" and case.origin["sms_unit"] == city.east.pk
    unit, reason = default_main_unit(case)  # what the dispatcher is offered
    assert unit == city.east and "1234507" in reason

    # The receipt with the case number reaches the phone through Kannel, sent from the extension number.
    assert deliver(gateway) == 1
    assert wait_for(lambda: any(case.number in t for _, t in kannel_mo.received_from()))
    sender, ack = next((f, t) for f, t in kannel_mo.received_from() if case.number in t)
    assert sender == "1234507" and re.search(r"查询密码\d{8}", ack)

    # Dispatched to the district as advised; its handler asks for a detail; the answer comes back to the case.
    services.case_take_intake_action(
        case=fresh(case), actor=people.agent, action=Action.SUBMIT, expected_version=None
    )
    services.case_dispatch(
        case=fresh(case),
        actor=people.dispatcher,
        expected_version=None,
        targets=[services.Target(unit, "main")],
    )
    outbound.sms_send(actor=people.east, phones=PHONE, text="请问是建设路哪一侧？", case_number=case.number)
    deliver(gateway)
    assert wait_for(lambda: ("1234507", "请问是建设路哪一侧？") in kannel_mo.received_from())
    kannel_mo.citizen_sends(PHONE, "东侧，靠近公交站", to="1234507")
    assert wait_for(
        lambda: CaseEvent.objects.filter(
            case=case, action=Action.CITIZEN_MESSAGE, opinion="东侧，靠近公交站"
        ).exists(),
        timeout=20,
    )
    assert Case.objects.count() == 1
    deliver(gateway)
    assert wait_for(
        lambda: sum(1 for f, t in kannel_mo.received_from() if f == "1234507" and case.number in t) == 2
    )


def deliver(gateway) -> int:
    """The outbox's delivery run in the test thread; the in-memory SQLite database the live server shares refuses
    a write while the server thread writes (no busy wait in shared-cache mode), so a refused run is retried."""
    for _ in range(20):
        try:
            return notify.deliver_due(gateway=gateway)
        except OperationalError:
            time.sleep(0.2)
    raise AssertionError("the outbox stayed locked")


def kannel_mo_retry(live_server, message: ChannelMessage) -> int:
    import urllib.request

    query = urllib.parse.urlencode(
        {
            "key": mo_secret(),
            "id": message.external_id,
            "from": message.sender,
            "to": "12345",
            "text": message.text,
        }
    )
    with urllib.request.urlopen(f"{live_server.url}/intake/sms/kannel/?{query}", timeout=5) as response:  # noqa: S310
        return response.status
