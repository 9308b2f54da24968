"""Call records and recordings fetched by partner systems (API-3, REC-1): a bureau system gets the calls of its
unit's cases with the caller masked as its account sees them, the WAV of their recordings (audited as played),
and 404 for anything else; without the scope, 403."""

from __future__ import annotations

import datetime as dt
import wave
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from hotline.cases import services as case_services
from hotline.cases.models import AssignmentRole
from hotline.common import clock
from hotline.common.models import AuditLog
from hotline.integrations import signing
from hotline.integrations.models import Partner
from hotline.integrations.services import partner_create
from hotline.telephony.models import Call, CallCase, Recording
from tests.conftest import submitted_case

pytestmark = pytest.mark.django_db


def _get(client, partner, secret, path):
    headers = signing.signed_headers(partner=partner.code, secret=secret.encode(), method="GET", path=path)
    return client.get(path, **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()})


def _call_with_recording(case, name):
    now = clock.now()
    call = Call.objects.create(
        call_id=f"c-{name}", caller="13812345678", dialed="12345", started_at=now - dt.timedelta(minutes=5),
        answered_at=now - dt.timedelta(minutes=4), ended_at=now, status="ended", disposition="answered",
    )  # fmt: skip
    CallCase.objects.create(call=call, case=case, linked_at=now)
    relative = f"telephony/recordings/test-{name}.wav"
    path = Path(settings.VAR_DIR) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * 800)
    recording = Recording.objects.create(
        call=call, path=relative, started_at=call.answered_at, ended_at=now, size_bytes=path.stat().st_size,
        duration_ms=100,
    )  # fmt: skip
    return call, recording, path


def test_a_bureau_system_fetches_its_cases_calls_and_recordings_only(client, city, people, admin_user):
    mine = submitted_case(city, people)
    case_services.case_dispatch(
        case=mine, actor=people.dispatcher, expected_version=mine.version,
        targets=[case_services.Target(city.tax, AssignmentRole.MAIN)],
    )  # fmt: skip
    other = submitted_case(city, people)
    _call, recording, path = _call_with_recording(mine, "mine")
    _other_call, other_recording, other_path = _call_with_recording(other, "other")
    try:
        partner, creds = partner_create(
            actor=admin_user, code="tax-system", name="税务系统", kind="bureau", unit=city.tax,
            scopes=[Partner.Scope.CALLS_READ],
        )  # fmt: skip
        answer = _get(client, partner, creds.secret, reverse("partner-case-calls", args=[mine.number]))
        assert answer.status_code == 200, answer.content
        [row] = answer.json()
        assert row["call_id"] == "c-mine" and row["caller"] == "138****5678"
        audio = _get(client, partner, creds.secret, row["recordings"][0]["audio"])
        assert audio.status_code == 200 and audio["Content-Type"] == "audio/wav"
        assert b"".join(audio.streaming_content)[:4] == b"RIFF"
        assert AuditLog.objects.filter(
            object_id=str(recording.pk), summary__startswith="recording_play"
        ).exists()

        assert (
            _get(
                client, partner, creds.secret, reverse("partner-case-calls", args=[other.number])
            ).status_code
            == 404
        )
        other_audio = reverse("partner-recording-audio", args=[other_recording.pk])
        assert _get(client, partner, creds.secret, other_audio).status_code == 404
        assert (
            _get(client, partner, creds.secret, reverse("partner-case-calls", args=["NOPE"])).status_code
            == 404
        )

        plain, plain_creds = partner_create(
            actor=admin_user, code="hous", name="住建", kind="bureau", unit=city.tax, scopes=["ping"]
        )
        refused = _get(client, plain, plain_creds.secret, reverse("partner-case-calls", args=[mine.number]))
        assert refused.status_code == 403 and refused.json()["reason"] == "scope"
    finally:
        path.unlink(missing_ok=True)
        other_path.unlink(missing_ok=True)
