"""REC-1 playback: the case page's recordings panel and the audio itself, only for users who may see a case
linked to the call (and supervisors), every play audited; another unit's user gets 404."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

from django.test import Client

from hotline.common.models import AuditLog
from hotline.telephony import services
from hotline.telephony.models import Number, Queue

from ..conftest import as_user, submitted_case


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def recorded_call(city: Any, people: Any, var: Path) -> tuple[Any, Any]:
    queue = Queue.objects.create(code="general", name="综合")
    Number.objects.create(number="12345", name="热线", queue=queue)
    call = services.call_arrive(
        call_id="rec01", leg_id="in-r", caller="13812345678", dialed="12345", node="n"
    )
    relative = "telephony/recordings/2026/12/07/rec01.wav"
    (var / relative).parent.mkdir(parents=True)
    with wave.open(str(var / relative), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\1\0" * 8000)
    recording = services.recording_start(call=call, path=relative)
    services.recording_finish(recording=recording, size_bytes=(var / relative).stat().st_size)
    case = submitted_case(city, people, origin={"call_id": call.call_id})
    return case, recording


def test_recording_plays_on_the_case_page_for_those_who_see_the_case_audited(
    city: Any, people: Any, settings: Any, tmp_path: Path
) -> None:
    settings.VAR_DIR = tmp_path
    case, recording = recorded_call(city, people, tmp_path)
    agent = client_for(people.agent)
    assert f"/telephony/case/{case.pk}/recordings/".encode() in agent.get(f"/cases/{case.pk}/").content
    panel = agent.get(f"/telephony/case/{case.pk}/recordings/")
    assert (
        panel.status_code == 200 and f"/telephony/recordings/{recording.pk}/audio/" in panel.content.decode()
    )
    audio = agent.get(f"/telephony/recordings/{recording.pk}/audio/")
    assert audio.status_code == 200 and audio["Content-Type"] == "audio/wav"
    assert b"".join(audio.streaming_content)[:4] == b"RIFF"
    played = AuditLog.objects.filter(actor=people.agent, summary__startswith="recording_play")
    assert played.count() == 1 and f"cases {case.pk}" in played.get().summary
    # A unit that never had the case: neither the panel nor the audio, and nothing audited.
    outsider = client_for(people.liyuan)
    assert outsider.get(f"/telephony/case/{case.pk}/recordings/").status_code == 404
    assert outsider.get(f"/telephony/recordings/{recording.pk}/audio/").status_code == 404
    assert not AuditLog.objects.filter(actor=people.liyuan, summary__startswith="recording_play").exists()
    # Supervisors (quality checks) may play any recording.
    assert client_for(people.monitor).get(f"/telephony/recordings/{recording.pk}/audio/").status_code == 200


def test_other_systems_fetch_recordings_through_the_api_scoped_and_audited(
    city: Any, people: Any, settings: Any, tmp_path: Path, api: Any
) -> None:
    settings.VAR_DIR = tmp_path
    case, recording = recorded_call(city, people, tmp_path)
    as_user(api, people.liyuan)
    assert api.get(f"/api/v1/telephony/recordings/{recording.pk}/audio/").status_code == 404
    as_user(api, people.agent)
    fetched = api.get(f"/api/v1/telephony/recordings/{recording.pk}/audio/")
    assert fetched.status_code == 200 and b"".join(fetched.streaming_content)[:4] == b"RIFF"
    assert AuditLog.objects.filter(actor=people.agent, summary__startswith="recording_play").count() == 1


def test_retention_deletes_expired_files_per_kind_marks_rows_and_keeps_open_voicemails(
    city: Any, people: Any, settings: Any, tmp_path: Path
) -> None:
    """REC-1 retention as configuration: days per kind; expired files go, their rows stay marked; a voicemail
    still on the open callback list is kept; 0 keeps a kind for ever; the page no longer offers a deleted file."""
    import datetime as dt

    from hotline.common import clock
    from hotline.telephony.models import Call, MissedCall, Recording

    settings.VAR_DIR = tmp_path
    case, answered = recorded_call(city, people, tmp_path)

    def recording(call_id: str, **call_fields: Any) -> Recording:
        call = services.call_arrive(
            call_id=call_id, leg_id=f"in-{call_id}", caller="13812345679", dialed="12345", node="n"
        )
        Call.objects.filter(pk=call.pk).update(**call_fields)
        relative = f"telephony/recordings/2026/12/07/{call_id}.wav"
        (tmp_path / relative).write_bytes(b"RIFF")
        row = services.recording_start(call=call, path=relative)
        return services.recording_finish(recording=row, size_bytes=4)

    kept_message = recording("vm-open", disposition="voicemail")
    MissedCall.objects.create(
        call=kept_message.call, number="13812345679", reason="voicemail", recording=kept_message,
        due_at=clock.now(), created_at=clock.now(),
    )  # fmt: skip
    old_message = recording("vm-done", disposition="voicemail")
    outbound = recording("out-1", direction="out", disposition="answered")
    settings.HOTLINE_RECORDING_RETENTION_DAYS = {"inbound": 30, "outbound": 0, "voicemail": 10}
    later = clock.now() + dt.timedelta(days=11)
    with clock.frozen_now(later):
        assert services.recordings_expire() == 1  # the closed voicemail only: inbound calls keep 30 days
    assert not (tmp_path / old_message.path).exists() and (tmp_path / kept_message.path).exists()
    with clock.frozen_now(later + dt.timedelta(days=20)):
        assert services.recordings_expire() == 1  # now the answered inbound call; outbound kept (0)
        assert services.recordings_expire() == 0  # nothing twice
    rows = dict(Recording.objects.values_list("call__call_id", "deleted_at"))
    assert rows["rec01"] is not None and rows["vm-done"] is not None
    assert rows["vm-open"] is None and rows["out-1"] is None and (tmp_path / outbound.path).exists()
    assert not (tmp_path / answered.path).exists()
    agent = client_for(people.agent)
    panel = agent.get(f"/telephony/case/{case.pk}/recordings/").content.decode()
    assert "已按保存期限删除" in panel and f"/telephony/recordings/{answered.pk}/audio/" not in panel
    assert agent.get(f"/telephony/recordings/{answered.pk}/audio/").status_code == 404
