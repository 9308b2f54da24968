"""IVR self-service end to end (see `e2e.py`): a SIPp citizen keys a case number and its query password in
RFC 2833 DTMF (each ended by #); the progress is read out by TTS, then the flow says goodbye and hangs up. The
IVR log has the number keyed, never the password; the spoken answer is not kept after the call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from hotline.cases import services as case_services
from hotline.telephony import services
from hotline.telephony.models import Call, Flow, IvrStep, Number, Queue
from tests.conftest import case_input

from .e2e import BASE, MEDIA_BASE, PROXY, controller_var_dir, finished, pump
from .sip_tools import sipp_citizen


@pytest.mark.django_db(transaction=True)
def test_caller_hears_the_case_progress_after_keying_number_and_password(
    sip_env: dict[str, Any], controller: Any, city: Any, people: Any
):
    result = case_services.case_intake(actor=people.agent, data=case_input(city))
    case, password = result.case, result.query_password
    assert password
    admin = get_user_model().objects.create(username="ivradmin2", is_superuser=True)
    queue = Queue.objects.create(code="general", name="综合")
    flow = services.ivr_flow_create(code="self", name="自助查询", actor=admin)
    graph = {
        "start": "progress",
        "nodes": [
            {"id": "progress", "type": "case_progress", "timeout": 8, "retries": 1, "next": "bye"},
            {"id": "bye", "type": "hangup", "prompt": "感谢您的来电，再见。"},
        ],
    }
    assert services.ivr_draft_save(flow=flow, graph=graph, actor=admin)[1] == []
    services.ivr_publish(flow=flow, actor=admin)
    Number.objects.create(number="12345", name="热线", queue=queue, flow=Flow.IVR, ivr_flow=flow)
    sipp = sipp_citizen(
        work=sip_env["work"],
        proxy=PROXY,
        number="12345",
        caller="13800000041",
        sip_port=BASE + 39,
        media_port=MEDIA_BASE + 40,
        script="citizen_keys_hung_up_on.xml",
        keys=f"{case.number}#{password}#",
        keys_after_ms=1500,
        timeout_s=120,
    )
    try:
        pump(controller, sip_env["phones"], lambda u: "accept", finished({"caller": "13800000041"}), 60)
        assert sipp.wait(timeout=60) == 0  # hung up on by the flow's last node
    finally:
        if sipp.poll() is None:
            sipp.kill()
    call = Call.objects.get(caller="13800000041")
    steps = list(
        IvrStep.objects.filter(call=call).order_by("at", "id").values_list("node", "event", "digits")
    )
    assert steps == [
        ("progress", "enter", ""),
        ("progress", "keys", case.number),
        ("progress", "found", ""),
        ("bye", "enter", ""),
    ]
    assert not IvrStep.objects.filter(digits__contains=password).exists()
    found_at = IvrStep.objects.get(call=call, event="found").at
    bye_at = IvrStep.objects.get(call=call, node="bye").at
    assert (bye_at - found_at).total_seconds() > 2  # the answer was played to its end before goodbye
    assert call.disposition == "ivr_end"
    assert not list(Path(controller_var_dir()).glob("telephony/selfservice/*.wav"))  # not kept
