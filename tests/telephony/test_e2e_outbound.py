"""Click-to-call end to end (see `e2e.py`): from a case page's phone number and from the callback list, through
the agent's phone (it rings first), then the citizen (a baresip phone registered as the citizen's mobile number,
tone 500 Hz). The browser names the object, never the number; the CDR has both outbound legs, the call is
recorded and linked to the case; an unanswered callback leaves the entry open, an answered one closes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from hotline.common.errors import NotFound, ServiceError
from hotline.common.models import AuditLog
from hotline.telephony import services
from hotline.telephony.models import Agent, Call, CallCase, CallLeg, MissedCall, Recording
from hotline.telephony.states import AgentEvent, AgentState

from ..conftest import submitted_case
from .e2e import BASE, PROXY, heard, pump, run_for, setup_hotline, stop_tap, tap
from .sip_tools import Baresip

CITIZEN = "13900000201"


@pytest.fixture
def citizen_phone(sip_env: dict[str, Any]) -> Any:
    import time

    phone = Baresip(
        user=CITIZEN,
        work=sip_env["work"],
        registrar=PROXY,
        sip_port=BASE + 60,
        ctrl_port=BASE + 62,
        rtp=BASE + 2940,
        freq=500.0,
    )
    deadline = time.monotonic() + 30
    while not phone.registered():
        assert time.monotonic() < deadline, "the citizen's phone did not register"
        time.sleep(0.2)
    yield phone
    phone.stop()


def ended(call_id: str) -> Any:
    def check() -> bool:
        call = Call.objects.filter(call_id=call_id).first()
        return bool(
            call and call.status == "ended" and not call.recordings.filter(ended_at__isnull=True).exists()
        )

    return check


@pytest.mark.django_db(transaction=True)
def test_click_to_call_from_a_case_and_from_the_callback_list(
    sip_env: dict[str, Any],
    controller: Any,
    citizen_phone: Any,
    city: Any,
    people: Any,
    tmp_path: Path,
    settings: Any,
):
    settings.HOTLINE_TELEPHONY = "on"
    queue, (seat,) = setup_hotline("1001")
    Agent.objects.filter(pk=seat.pk).update(user=people.agent)
    seat = services.agent_event(agent_pk=seat.pk, event=AgentEvent.NOT_READY, reason="other")
    case = submitted_case(city, people, citizen_phone=CITIZEN)
    phones = {**sip_env["phones"], "citizen": citizen_phone}

    # The case page's button names the case, not the number.
    client = Client()
    client.force_login(people.agent)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    at = html.index('hx-post="/telephony/dial/"')
    button = html[html.rindex("<button", 0, at) : html.index("</button>", at)]
    assert f'"source": "case", "pk": "{case.pk}"' in button and CITIZEN not in button
    # Someone else's seat, another unit's case, a bad source: refused.
    with pytest.raises(NotFound):
        services.click_to_call(agent=seat, source="case", pk=case.pk, actor=people.tax)
    with pytest.raises(ServiceError):
        services.click_to_call(agent=seat, source="planet", pk=1, actor=people.agent)
    assert client.post("/telephony/dial/", {"source": "case", "pk": "x"}).status_code == 400

    response = client.post("/telephony/dial/", {"source": "case", "pk": str(case.pk)})
    assert response.status_code == 200
    call = Call.objects.get(direction="out")
    pump(controller, phones, lambda u: "accept", lambda: Call.objects.get(pk=call.pk).status == "talking", 20)
    citizen_leg = CallLeg.objects.get(call=call, role="citizen").leg_id
    tap(controller, citizen_leg, tmp_path / "citizen.wav")
    run_for(controller, phones, 3)
    heard_by_citizen = stop_tap(controller, phones, tmp_path / "citizen.wav")
    services.agent_call_action(agent=Agent.objects.get(pk=seat.pk), action="hangup", actor=people.agent)
    pump(controller, phones, lambda u: "accept", ended(call.call_id), 20)

    assert heard(heard_by_citizen, 700.0) > 0.2  # the citizen hears the agent
    call = Call.objects.get(pk=call.pk)
    assert (call.direction, call.disposition, call.caller) == ("out", "answered", CITIZEN)
    legs = list(
        CallLeg.objects.filter(call=call).order_by("started_at").values_list("role", "purpose", "direction")
    )
    assert legs == [("agent", "outbound", "out"), ("citizen", "outbound", "out")]
    assert all(CallLeg.objects.filter(call=call).values_list("answered_at", flat=True))
    assert all(CallLeg.objects.filter(call=call).values_list("ended_at", flat=True))
    assert CallCase.objects.filter(call=call, case=case).exists()
    recording = Recording.objects.get(call=call)
    assert recording.size_bytes > 8000
    assert Agent.objects.get(pk=seat.pk).state == AgentState.WRAP_UP
    audit = AuditLog.objects.get(actor=people.agent, summary__startswith="click_to_call")
    assert CITIZEN not in audit.summary

    # The callback list: the citizen does not answer (rejects) → not reached, the entry stays open; the next
    # try is answered → the entry is done, by this agent, with the call that reached the citizen.
    inbound = services.call_arrive(
        call_id="missed-1", leg_id="in-m", caller=CITIZEN, dialed="12345", node="n"
    )
    services.call_enqueue(call=inbound, queue=queue)
    services.call_end(call=inbound)
    missed = MissedCall.objects.get(call=inbound)
    services.click_to_call(agent=seat, source="missed", pk=missed.pk, actor=people.agent)
    first = Call.objects.filter(direction="out").order_by("-started_at").first()
    assert first is not None
    pump(controller, phones, lambda u: "hangup" if u == "citizen" else "accept", ended(first.call_id), 30)
    assert Call.objects.get(pk=first.pk).disposition == "not_reached"
    assert MissedCall.objects.get(pk=missed.pk).status == "open"
    assert not Recording.objects.filter(call=first).exists()
    assert Agent.objects.get(pk=seat.pk).state == AgentState.WRAP_UP
    services.click_to_call(agent=seat, source="missed", pk=missed.pk, actor=people.agent)
    second = Call.objects.filter(direction="out").order_by("-started_at").first()
    assert second is not None and second.pk != first.pk
    pump(
        controller, phones, lambda u: "accept", lambda: Call.objects.get(pk=second.pk).status == "talking", 20
    )
    citizen_phone.cmd("hangup")  # the citizen ends the call
    pump(controller, phones, lambda u: "accept", ended(second.call_id), 20)
    missed = MissedCall.objects.get(pk=missed.pk)
    assert (missed.status, missed.callback_call_id, missed.done_by_id) == ("done", second.pk, people.agent.pk)
