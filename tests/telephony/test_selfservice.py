"""IVR self-service case progress, the lookup side: the web lookup's guards (per-case lockout after wrong
passwords, a per-caller throttle) apply to keyed queries; the answer names the status and never the password."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.cases import services as case_services
from hotline.telephony import announce, ivr, services
from tests.conftest import case_input


@pytest.fixture
def keyed_case(city: Any, people: Any) -> tuple[Any, str]:
    result = case_services.case_intake(actor=people.agent, data=case_input(city))
    assert result.query_password
    return result.case, result.query_password


def test_right_number_and_password_say_the_status(keyed_case: tuple[Any, str], settings: Any) -> None:
    case, password = keyed_case
    outcome, text = services.ivr_case_progress(caller="13800000009", number=case.number, password=password)
    assert outcome == "found"
    assert case.get_status_display() in text and password not in text
    assert text.startswith(f"工单{case.number}，受理日期")
    parts = announce.compose(text, free_text=True)
    # The number read digit by digit from clips, the date from clips, the status spoken for this answer only.
    digits = announce.digit_words(case.number)
    assert parts[1 : 1 + len(digits)] == digits and "年" in parts and "日" in parts
    assert announce.Free(case.get_status_display()) in parts


def test_wrong_passwords_lock_the_case_like_the_web_lookup(
    keyed_case: tuple[Any, str], settings: Any
) -> None:
    case, password = keyed_case
    settings.HOTLINE_LOOKUP_FAILURE_LIMIT = 3
    outcomes = [
        services.ivr_case_progress(caller=f"1380000001{i}", number=case.number, password="00000000")[0]
        for i in range(3)
    ]
    assert outcomes == ["not_found", "not_found", "refused"]
    # Locked: even the right password is refused now (from any number).
    outcome, text = services.ivr_case_progress(caller="13800000020", number=case.number, password=password)
    assert outcome == "refused" and "锁定" in text


def test_one_caller_is_throttled(keyed_case: tuple[Any, str], settings: Any) -> None:
    case, password = keyed_case
    settings.HOTLINE_LOOKUP_RATE = "2/min"
    got = [services.ivr_case_progress(caller="13800000030", number="1", password="2")[0] for _ in range(3)]
    assert got == ["not_found", "not_found", "refused"]
    assert (
        services.ivr_case_progress(caller="13800000031", number=case.number, password=password)[0] == "found"
    )


def test_a_case_progress_node_is_validated() -> None:
    graph = {
        "start": "q",
        "nodes": [{"id": "q", "type": "case_progress", "next": "bye"}, {"id": "bye", "type": "hangup"}],
    }
    assert ivr.validate(graph) == []
    graph["nodes"][0]["next"] = "nowhere"
    assert [p.field for p in ivr.validate(graph)] == ["next"]
