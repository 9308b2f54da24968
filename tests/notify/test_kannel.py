"""SMS through a real Kannel (bearerbox + smsbox) talking to Kannel's own fake SMSC, all on 127.0.0.1."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline.notify import services
from hotline.notify.gateways import KannelGateway
from hotline.notify.models import DeliveryLog, Outbox, OutboxStatus
from tests import ports

BEARERBOX, SMSBOX, FAKESMSC = "/usr/sbin/bearerbox", "/usr/sbin/smsbox", "/usr/lib/kannel/test/fakesmsc"
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not Path(BEARERBOX).exists() and not os.environ.get("CI"),
        reason="Kannel is not installed (scripts/setup.sh --test installs it)",
    ),
]


def free_port() -> int:
    return ports.free_port()


def wait_port(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


class Kannel:
    def __init__(self, workdir: Path) -> None:
        self.dir = workdir
        self.admin, self.box, self.smsc, self.sendsms = (free_port() for _ in range(4))
        self.conf = workdir / "kannel.conf"
        self.conf.write_text(f"""group = core
admin-port = {self.admin}
admin-password = admin-secret
admin-allow-ip = "127.0.0.1"
smsbox-port = {self.box}
box-allow-ip = "127.0.0.1"
log-level = 1
log-file = "{workdir}/bearerbox.log"
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = fake
port = {self.smsc}
connect-allow-ip = "127.0.0.1"

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {self.box}
sendsms-port = {self.sendsms}
sendsms-interface = 127.0.0.1
log-level = 1
log-file = "{workdir}/smsbox.log"

group = sendsms-user
username = hotline
password = kannel-secret
max-messages = 10
concatenation = true
""")
        self.fake_log = workdir / "fakesmsc.log"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *args: str, log: Path | None = None) -> None:
        out = open(log or self.dir / f"{name}.out", "ab")  # noqa: SIM115 - closed with the process
        self.processes[name] = subprocess.Popen([*args], stdout=out, stderr=subprocess.STDOUT, cwd=self.dir)

    def start_all(self) -> None:
        self.start("bearerbox", BEARERBOX, str(self.conf))
        wait_port(self.smsc)
        self.start(
            "fakesmsc",
            FAKESMSC,
            "-H",
            "127.0.0.1",
            "-r",
            str(self.smsc),
            "-m",
            "0",
            "1 2 text x",
            log=self.fake_log,
        )
        self.start_smsbox()

    def start_smsbox(self) -> None:
        self.start("smsbox", SMSBOX, str(self.conf))
        wait_port(self.sendsms)

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()

    def stop_all(self) -> None:
        for name in ("smsbox", "fakesmsc", "bearerbox"):
            self.stop(name)

    def received(self) -> list[str]:
        """Texts the fake SMSC got, decoded from UCS-2."""
        lines = self.fake_log.read_text(errors="replace") if self.fake_log.exists() else ""
        found = re.findall(r"Got message \d+: <(\S+) (\S+) ucs-2 (\S+)>", lines)
        return [urllib.parse.unquote_to_bytes(text).decode("utf-16-be") for _, _, text in found]


@pytest.fixture
def kannel(tmp_path: Path) -> Iterator[Kannel]:
    gateway = Kannel(tmp_path)
    gateway.start_all()
    yield gateway
    gateway.stop_all()


def gateway_for(kannel: Kannel, live_server) -> KannelGateway:
    return KannelGateway(
        url=f"http://127.0.0.1:{kannel.sendsms}/cgi-bin/sendsms",
        username="hotline",
        password="kannel-secret",
        sender="12345",
        dlr_url=f"{live_server.url}/notify/kannel/dlr/",
        timeout=5,
    )


def wait_for(predicate, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def queue_sms(people, text_marker: str) -> Outbox:
    people.east.phone = "13800001111"
    people.east.save()
    (message,) = services.notify_users(
        users=[people.east],
        template="case_urged",
        channels=["sms"],
        context={"number": "20261125000001", "title": "噪音", "message": text_marker},
    )
    return message


def test_chinese_sms_round_trip_with_delivery_report(kannel, live_server, people, monkeypatch):
    monkeypatch.setenv("HOTLINE_SMS_QUIET_HOURS", "")
    message = queue_sms(people, "请今天回复")
    assert services.deliver_due(gateway=gateway_for(kannel, live_server)) == 1
    assert wait_for(lambda: kannel.received())
    assert kannel.received() == [message.body]  # Chinese text arrives intact as UCS-2
    assert wait_for(lambda: Outbox.objects.get(pk=message.pk).status == OutboxStatus.DELIVERED)
    events = list(DeliveryLog.objects.filter(message=message).values_list("event", flat=True))
    assert {"sent", "dlr-1"} <= set(events)  # either may be written first: the report can beat the sender


def test_kannel_down_then_back_loses_nothing_and_doubles_nothing(kannel, live_server, people, monkeypatch):
    monkeypatch.setenv("HOTLINE_SMS_QUIET_HOURS", "")
    gateway = gateway_for(kannel, live_server)
    kannel.stop("smsbox")
    message = queue_sms(people, "网关故障期间的消息")
    services.deliver_due(gateway=gateway)
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING and message.attempts == 1 and "Kannel" in message.last_error
    kannel.start_smsbox()
    Outbox.objects.filter(pk=message.pk).update(next_attempt_at=message.created_at)  # the backoff has passed
    services.deliver_due(gateway=gateway)
    services.deliver_due(gateway=gateway)
    assert wait_for(lambda: kannel.received())
    time.sleep(1)
    assert kannel.received() == [message.body]
    message.refresh_from_db()
    assert message.status in (OutboxStatus.SENT, OutboxStatus.DELIVERED) and message.attempts == 2
