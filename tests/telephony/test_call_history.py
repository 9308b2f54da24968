"""Calls in the citizen's contact history (CIT-3) and in the screen pop (CIT-5), through the telephony source
registered in `citizens.history`: merged with the cases newest first; hotline staff see every finished call of
the citizen's numbers, a unit only the calls linked to cases it may see."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hotline.citizens import history
from hotline.common import clock
from hotline.telephony import services
from hotline.telephony.models import Call, Number, Queue

from ..conftest import as_user, dispatched_to


def a_call(
    call_id: str, caller: str, *, minutes_ago: int, answered: bool = True, direction: str = "in"
) -> Call:
    call = services.call_arrive(
        call_id=call_id, leg_id=f"in-{call_id}", caller=caller, dialed="12345", node="n"
    )
    started = clock.now() - dt.timedelta(minutes=minutes_ago)
    Call.objects.filter(pk=call.pk).update(
        started_at=started,
        direction=direction,
        answered_at=started + dt.timedelta(seconds=20) if answered else None,
    )
    with clock.frozen_now(started + dt.timedelta(seconds=145)):
        return services.call_end(call=Call.objects.get(pk=call.pk))


def test_calls_join_the_contact_history_and_the_screen_pop_scoped(api: Any, city: Any, people: Any) -> None:
    Number.objects.create(
        number="12345", name="热线", queue=Queue.objects.create(code="general", name="综合")
    )
    missed = a_call("c-missed", "13812345678", minutes_ago=300, answered=False)
    registered = a_call("c-case", "13812345678", minutes_ago=200)
    case = dispatched_to(city, people, city.xingfu, citizen_phone="13812345678", origin={"call_id": "c-case"})
    called_back = a_call("c-out", "13812345678", minutes_ago=100, direction="out")
    a_call("c-other", "13900000000", minutes_ago=50)  # another caller
    services.call_arrive(call_id="c-live", leg_id="in-live", caller="13812345678", dialed="12345", node="n")

    entries = history.contact_history(user=people.agent, citizen=case.citizen, limit=50)
    assert [(e.source, e.ref) for e in entries] == [
        ("case", str(case.pk)),
        ("call", called_back.call_id),
        ("call", registered.call_id),
        ("call", missed.call_id),
    ]  # newest first; the call still ringing is not history yet
    by_ref = {e.ref: e for e in entries}
    assert by_ref["c-case"].link == f"/cases/{case.pk}/" and "通话 2分5秒" in by_ref["c-case"].title
    assert by_ref["c-missed"].status == "abandoned" and by_ref["c-missed"].status_display == "排队放弃"
    assert by_ref["c-out"].title.startswith("呼出")

    # A unit sees the call that registered its case, not the citizen's other calls.
    unit = history.contact_history(user=people.xingfu, citizen=case.citizen, limit=50)
    assert [e.ref for e in unit if e.source == "call"] == ["c-case"]

    pop = as_user(api, people.agent).get("/api/v1/citizens/screen-pop/", {"number": "13812345678"}).json()
    assert [h["ref"] for h in pop["history"] if h["source"] == "call"] == ["c-out", "c-case", "c-missed"]
    pop = as_user(api, people.xingfu).get("/api/v1/citizens/screen-pop/", {"number": "13812345678"}).json()
    assert [h["ref"] for h in pop["history"] if h["source"] == "call"] == ["c-case"]
    assert all(h["number"] == "138****5678" for h in pop["history"])  # masked for the unit


def test_an_unknown_callers_screen_pop_shows_the_calls_from_the_number(
    api: Any, city: Any, people: Any
) -> None:
    """No citizen record for the number (nobody registered a request from it): the screen pop still lists its
    earlier calls, newest first, for hotline staff; a unit sees none of them (no case of theirs is linked)."""
    from django.test import Client

    from hotline.citizens.models import Citizen

    Number.objects.create(
        number="12345", name="热线", queue=Queue.objects.create(code="general", name="综合")
    )
    a_call("u-missed", "13700000001", minutes_ago=90, answered=False)
    a_call("u-talked", "13700000001", minutes_ago=30)
    a_call("u-other", "13700000002", minutes_ago=20)
    assert not Citizen.objects.exists()

    pop = as_user(api, people.agent).get("/api/v1/citizens/screen-pop/", {"number": "13700000001"}).json()
    assert pop["known"] is False
    assert [(h["source"], h["ref"]) for h in pop["history"]] == [("call", "u-talked"), ("call", "u-missed")]
    assert pop["history"][1]["status"] == "abandoned"
    unit = as_user(api, people.xingfu).get("/api/v1/citizens/screen-pop/", {"number": "13700000001"}).json()
    assert unit["known"] is False and unit["history"] == []
    fresh = as_user(api, people.agent).get("/api/v1/citizens/screen-pop/", {"number": "13700000009"}).json()
    assert fresh["history"] == []

    # The intake form's caller card (the screen pop a ringing call opens, loaded by htmx) shows them too.
    client = Client()
    client.force_login(people.agent)
    card = client.get("/partials/citizen/", {"citizen_phone": "13700000001"}).content.decode()
    assert 'data-testid="citizen-new"' in card and 'data-testid="pop-history"' in card
    shown = card[card.index('data-testid="pop-history"') :]
    assert shown.count("<li>") == 2 and "人工接听" in shown and "排队放弃" in shown
