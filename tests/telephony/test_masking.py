"""ORG-4 in telephony: the caller's number on the call bar, in the SSE push and in the callback list follows the
same rule as every screen (full for hotline staff who work with citizens, masked for anyone else bound to a
seat), and every unmasked view is audited (the offer once per call, the callback list per view, the admin)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hotline.common.models import AuditLog
from hotline.orgs.models import Role, User
from hotline.telephony import push, services
from hotline.telephony.models import Agent, MissedCall, Number, Queue
from tests import factories

from .test_callbar import client_for, ring


@pytest.fixture(autouse=True)
def telephony_on(settings: Any) -> None:
    settings.HOTLINE_TELEPHONY = "on"


@pytest.fixture
def seat(people: Any) -> Agent:
    """The hotline agent's seat (as in test_callbar.py)."""
    queue, _ = Queue.objects.get_or_create(code="general", defaults={"name": "综合"})
    Number.objects.create(number="12345", name="热线", queue=queue)
    return services.agent_create(
        agent_id="1001", password="secret1", extension="1001", skills=[queue], user=people.agent, actor=None
    )


@pytest.fixture
def kb_seat(city: Any, people: Any) -> Agent:
    """A seat bound to a knowledge-base editor: a role that sees numbers masked everywhere else."""
    Queue.objects.get_or_create(code="general", defaults={"name": "综合"})
    editor = factories.user("kbeditor", city.office, Role.KB_EDITOR)
    return services.agent_create(
        agent_id="2001",
        password="secret2",
        extension="2001",
        skills=[Queue.objects.get(code="general")],
        user=editor,
        actor=None,
    )


def _offer_audits(user: User) -> Any:
    return AuditLog.objects.filter(actor=user, action="view", object_type="telephony.call")


def test_an_agent_sees_the_full_number_and_the_offer_is_audited(
    people: Any, seat: Agent, django_capture_on_commit_callbacks: Any
) -> None:
    listener = push.broker().listen(push.agent_channel(seat.pk), timeout=0.01)
    with django_capture_on_commit_callbacks(execute=True):
        ring(seat)
    page = client_for(people.agent).get("/telephony/callbar/").content.decode()
    assert "13812345678" in page and "citizen_phone=13812345678" in page
    messages = [json.loads(m) for m in iter(lambda: next(listener), None)]
    assert {"type": "ringing", "caller": "13812345678"}.items() <= messages[-1].items()
    assert _offer_audits(people.agent).count() == 1


def test_a_seat_user_who_sees_masks_gets_a_masked_number_everywhere(
    people: Any, kb_seat: Agent, django_capture_on_commit_callbacks: Any
) -> None:
    listener = push.broker().listen(push.agent_channel(kb_seat.pk), timeout=0.01)
    with django_capture_on_commit_callbacks(execute=True):
        ring(kb_seat)
    page = client_for(kb_seat.user).get("/telephony/callbar/").content.decode()
    assert "13812345678" not in page and "138****5678" in page
    assert "call_id=c0ffee01" in page  # intake still opens for the call, without the number
    pushed = [m for m in iter(lambda: next(listener), None)]
    assert pushed and all("13812345678" not in m for m in pushed)
    assert "138****5678" in pushed[-1]
    assert not _offer_audits(kb_seat.user).exists()  # nothing unmasked shown


def test_the_callback_list_is_audited(people: Any, seat: Agent) -> None:
    factories.missed_call()
    assert MissedCall.objects.count() == 1
    page = client_for(people.dispatcher).get("/telephony/missed/")
    assert page.status_code == 200 and "13700001234" in page.content.decode()
    row = AuditLog.objects.get(actor=people.dispatcher, object_type="telephony.missedcall")
    assert row.changes["rows"] == 1


def test_call_records_in_the_admin_are_audited(city: Any, people: Any, seat: Agent) -> None:
    call = ring(seat)
    root = User.objects.create_superuser(username="root", password="x", full_name="root", unit=city.office)
    client = client_for(root)
    assert "13812345678" in client.get("/admin/telephony/call/").content.decode()
    assert client.get(f"/admin/telephony/call/{call.pk}/change/").status_code == 200
    audited = AuditLog.objects.filter(actor=root, object_type="telephony.call")
    assert (
        audited.filter(summary__contains="列表").exists() and audited.filter(object_id=str(call.pk)).exists()
    )
