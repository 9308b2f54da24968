"""Automated rating call (CLS-5) end to end (see `e2e.py`): once the office accepts a case's result, the
controller calls the citizen (a SIPp UAS registered at Kamailio as the citizen's mobile number). The first try
finds the line busy and is retried; the second is answered, the question is read by TTS and the citizen keys 4
(dissatisfied) in RFC 2833: recorded through the cases' callback service, so the case goes back for redoing."""

from __future__ import annotations

import socket
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from hotline.cases import services as case_services
from hotline.cases.models import Assignment, AssignmentRole, Callback, CaseStatus
from hotline.telephony import services
from hotline.telephony.models import Call, CallCase, RatingCall, Recording
from tests.conftest import dispatched_to, fresh

from .e2e import BASE, pump
from .sip_tools import HERE, dtmf_pcap

CITIZEN = "13900000501"
UAS_PORT, UAS_MEDIA = BASE + 70, BASE + 2240
NODE_DTMF_PT = 120


def register(number: str, contact_port: int) -> None:
    """REGISTER `number` at Kamailio with its contact on the SIPp UAS's port (a raw UDP request)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    port = sock.getsockname()[1]
    message = (
        f"REGISTER sip:127.0.0.1:{BASE} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{uuid.uuid4().hex[:12]};rport\r\n"
        f"From: <sip:{number}@127.0.0.1:{BASE}>;tag={uuid.uuid4().hex[:8]}\r\n"
        f"To: <sip:{number}@127.0.0.1:{BASE}>\r\n"
        f"Call-ID: {uuid.uuid4().hex}@127.0.0.1\r\n"
        "CSeq: 1 REGISTER\r\n"
        f"Contact: <sip:{number}@127.0.0.1:{contact_port}>\r\n"
        "Expires: 300\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    )
    try:
        sock.sendto(message.encode(), ("127.0.0.1", BASE))
        reply = sock.recv(4096).decode(errors="replace")
    finally:
        sock.close()
    assert reply.startswith("SIP/2.0 200"), reply[:80]


def sipp_uas(work: Path, script: str, *, keys: str = "", keys_after_ms: int = 0) -> subprocess.Popen[bytes]:
    for pcap in Path("/usr/share/sip-tester").glob("*.pcap"):
        if not (work / pcap.name).exists():
            (work / pcap.name).write_bytes(pcap.read_bytes())
    # The media node offers telephone-event as payload type 120 (SIPp's pcaps carry 101): the presses are
    # rewritten to what was offered (the scenario answers with the offered type).
    presses = "\n".join(
        f'  <nop><action><exec play_pcap_audio="{dtmf_pcap(work, k, i, payload_type=NODE_DTMF_PT)}"/></action></nop>'
        '<pause milliseconds="400"/>'
        for i, k in enumerate(keys)
    )
    text = (HERE / "sipp" / script).read_text()
    text = text.replace("DTMF_DELAY_MS", str(keys_after_ms)).replace("DTMF_ACTIONS", presses)
    scenario = f"uas-{uuid.uuid4().hex[:6]}.xml"
    (work / scenario).write_text(text)
    return subprocess.Popen(
        ["sipp", "-sf", scenario, "-i", "127.0.0.1", "-p", str(UAS_PORT), "-mi", "127.0.0.1",
         "-mp", str(UAS_MEDIA), "-m", "1", "-nostdin", "-timeout", "120", "-trace_err"],
        cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_rating_call_busy_then_answered_and_keyed_dissatisfied(
    sip_env: dict[str, Any], controller: Any, city: Any, people: Any, settings: Any
):
    settings.HOTLINE_RATING_CALLS = True
    settings.HOTLINE_RATING_CALL_RETRY_SECONDS = 0
    case = dispatched_to(city, people, city.east, citizen_phone=CITIZEN)
    main = Assignment.objects.get(case=case, unit=city.east, role=AssignmentRole.MAIN)
    case_services.assignment_sign_for(assignment=main, actor=people.east, expected_version=None)
    case_services.assignment_report(
        assignment=main, actor=people.east, expected_version=None, result="已处理完毕"
    )
    register(CITIZEN, UAS_PORT)
    work, phones = sip_env["work"], sip_env["phones"]
    busy = sipp_uas(work, "citizen_busy.xml")
    answers = None
    try:
        case_services.case_review_accept(case=fresh(case), actor=people.dispatcher, expected_version=None)
        entry = RatingCall.objects.get(case=case)
        pump(
            controller, phones, lambda u: "accept",
            lambda: RatingCall.objects.filter(pk=entry.pk, attempts=1, status="pending").exists(), 30,
        )  # fmt: skip
        assert busy.wait(timeout=30) == 0
        answers = sipp_uas(work, "citizen_answers_keys.xml", keys="4", keys_after_ms=4000)

        def rated_and_ended() -> bool:
            done = RatingCall.objects.filter(pk=entry.pk, status="rated").exists()
            calls = Call.objects.filter(caller=CITIZEN)
            open_recordings = Recording.objects.filter(call__in=calls, ended_at__isnull=True).exists()
            return done and not calls.exclude(status="ended").exists() and not open_recordings

        pump(controller, phones, lambda u: "accept", rated_and_ended, 60)
        assert answers.wait(timeout=30) == 0  # hung up on after the thanks
    finally:
        for proc in (busy, answers):
            if proc is not None and proc.poll() is None:
                proc.kill()
    entry = RatingCall.objects.get(pk=entry.pk)
    assert (entry.attempts, entry.rating) == (2, "dissatisfied")
    calls = list(Call.objects.filter(caller=CITIZEN).order_by("started_at"))
    assert [(c.direction, c.disposition) for c in calls] == [("out", "not_reached"), ("out", "answered")]
    assert all(CallCase.objects.filter(call=c, case=case).exists() for c in calls)
    assert Recording.objects.filter(call=calls[1], size_bytes__gt=8000).exists()
    case = fresh(case)
    assert (case.status, case.last_rating) == (CaseStatus.REDO, "dissatisfied")
    callback = Callback.objects.get(case=case)
    assert (callback.method, callback.rating, callback.actor_id) == ("phone", "dissatisfied", None)


@pytest.mark.django_db
def test_rating_calls_off_by_default_and_left_to_an_agent_after_the_last_try(
    city: Any, people: Any, settings: Any
):
    case = dispatched_to(city, people, city.east, citizen_phone=CITIZEN)
    main = Assignment.objects.get(case=case, unit=city.east, role=AssignmentRole.MAIN)
    case_services.assignment_sign_for(assignment=main, actor=people.east, expected_version=None)
    case_services.assignment_report(
        assignment=main, actor=people.east, expected_version=None, result="已处理"
    )
    settings.HOTLINE_RATING_CALLS = False
    case_services.case_review_accept(case=fresh(case), actor=people.dispatcher, expected_version=None)
    assert not RatingCall.objects.exists()
    settings.HOTLINE_RATING_CALLS = True
    settings.HOTLINE_RATING_CALL_ATTEMPTS = 2
    entry = services.rating_call_plan(case=fresh(case))
    assert entry is not None
    outcomes = []
    for i in range(2):
        call = services.rating_call_start(rating_call_pk=entry.pk, leg_id=f"rate-{i}")
        assert call is not None
        services.rating_call_not_rated(call=call)
        RatingCall.objects.filter(pk=entry.pk).update(next_try_at=fresh(case).created_at)
        outcomes.append(RatingCall.objects.get(pk=entry.pk).status)
    assert outcomes == ["pending", "to_agent"]
    assert fresh(case).status == CaseStatus.CALLBACK  # still on the agents' callback list
    assert services.rating_call_start(rating_call_pk=entry.pk, leg_id="rate-x") is None
    assert not services.rating_call_record(call=Call.objects.filter(caller=CITIZEN).first(), key="1")
