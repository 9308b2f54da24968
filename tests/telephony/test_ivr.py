"""IVR menus as data: what makes a graph publishable, service hours on the working-day calendar, versions
(published is immutable), TTS prompts cached by text, uploaded prompts, the editor page (hotline admin only,
problems per node, publish refused with 400)."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import wave
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from hotline.common.errors import NotAllowed, ServiceError
from hotline.orgs.models import User
from hotline.telephony import ivr, services, tts
from hotline.telephony.models import IvrFlow, IvrPrompt, IvrVersion, Queue

GOOD: dict[str, Any] = {
    "start": "hours",
    "nodes": [
        {"id": "hours", "type": "hours", "ranges": "08:30-12:00,13:30-17:30", "open": "menu", "closed": "vm"},
        {
            "id": "menu",
            "type": "menu",
            "prompt": "投诉请按1",
            "options": {"1": "q", "9": "menu_again"},
            "fallback": "q",
        },
        {"id": "menu_again", "type": "play", "prompt": "请重新选择", "next": "menu"},
        {"id": "q", "type": "queue", "queue": "general"},
        {"id": "vm", "type": "voicemail", "prompt": "请留言"},
    ],
}


def problems(graph: dict[str, Any]) -> set[tuple[str, str]]:
    return {(p.node, p.field) for p in ivr.validate(graph, queue_codes=["general"])}


def with_nodes(*nodes: dict[str, Any], start: str = "hours") -> dict[str, Any]:
    return {"start": start, "nodes": [dict(n) for n in nodes]}


def test_a_good_graph_has_no_problems() -> None:
    assert problems(GOOD) == set()


def test_unreachable_node_dead_end_and_unknown_target_are_refused() -> None:
    nodes = [dict(n) for n in GOOD["nodes"]]
    orphan = {"id": "orphan", "type": "hangup"}
    assert problems(with_nodes(*nodes, orphan)) == {("orphan", "id")}
    # A loop with no way out: play ↔ play reached from the menu.
    loop = [
        {**nodes[1], "options": {"1": "a"}, "fallback": "a"},
        {"id": "a", "type": "play", "prompt": "甲", "next": "b"},
        {"id": "b", "type": "play", "prompt": "乙", "next": "a"},
    ]
    found = problems(with_nodes(nodes[0], *loop, nodes[3], nodes[4]))
    assert {("a", "id"), ("b", "id"), ("menu", "id")} <= found and ("q", "id") in found  # q unreachable now
    assert ("menu", "fallback") in problems(
        with_nodes(nodes[0], {**nodes[1], "fallback": "nowhere"}, *nodes[2:])
    )
    assert ("", "start") in problems({**GOOD, "start": "nope"})


def test_menu_keys_queue_prompt_and_hours_are_checked() -> None:
    nodes = [dict(n) for n in GOOD["nodes"]]
    bad_menu = {**nodes[1], "digits": 2, "options": {"1": "q"}, "timeout": 0, "retries": 9}
    found = problems(with_nodes(nodes[0], bad_menu, *nodes[2:]))
    assert {("menu", "options"), ("menu", "timeout"), ("menu", "retries")} <= found
    assert ("q", "queue") in problems(with_nodes(*nodes[:3], {**nodes[3], "queue": "missing"}, nodes[4]))
    assert ("vm", "prompt") in problems(with_nodes(*nodes[:4], {"id": "vm", "type": "voicemail"}))
    assert ("hours", "ranges") in problems(with_nodes({**nodes[0], "ranges": "17:00-08:00"}, *nodes[1:]))
    assert ("hours", "ranges") in problems(with_nodes({**nodes[0], "ranges": "9-5"}, *nodes[1:]))
    assert problems({"nodes": "x"}) == {("", "nodes")}


def test_transfer_node_needs_a_number_and_a_fallback() -> None:
    nodes = [dict(n) for n in GOOD["nodes"]]
    duty = {"id": "duty", "type": "transfer", "number": "12-3", "fallback": ""}
    found = problems(with_nodes({**nodes[0], "closed": "duty"}, *nodes[1:], duty))
    assert {("duty", "number"), ("duty", "fallback")} <= found
    ok = {"id": "duty", "type": "transfer", "number": "110", "fallback": "vm"}
    assert problems(with_nodes({**nodes[0], "closed": "duty"}, *nodes[1:], ok)) == set()


def test_service_hours_follow_the_working_day_calendar() -> None:
    node = GOOD["nodes"][0]
    tz = dt.timezone(dt.timedelta(hours=8))
    weekday = dt.datetime(2026, 12, 8, 9, 0, tzinfo=tz)  # a Tuesday
    assert ivr.is_open(node, weekday, lambda d: True)
    assert not ivr.is_open(node, weekday.replace(hour=12, minute=30), lambda d: True)  # lunch
    assert not ivr.is_open(node, weekday, lambda d: False)  # a holiday
    assert ivr.is_open({**node, "days": "everyday"}, weekday, lambda d: False)


def test_menu_choice_timeout_and_invalid_key() -> None:
    menu = GOOD["nodes"][1]
    assert ivr.menu_choice(menu, "1", "max") == "q"
    assert ivr.menu_choice(menu, "", "timeout") is None
    assert ivr.menu_choice(menu, "5", "max") is None


@pytest.fixture
def admin(db: Any) -> User:
    return User.objects.create(username="ivr-admin", is_superuser=True)


@pytest.fixture
def general(db: Any) -> Queue:
    return Queue.objects.create(code="general", name="综合")


class FakeVoice:
    """Stands in for espeak-ng where it is absent (the cache and publishing rules are what is tested)."""

    key = "fake"
    rendered: list[str] = []

    def render(self, text: str, target: Path) -> None:
        self.rendered.append(text)
        with wave.open(str(target), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(b"\0\0" * 800)


@pytest.fixture
def voice(settings: Any, tmp_path: Path) -> type[FakeVoice]:
    settings.VAR_DIR = tmp_path
    if not tts.EspeakEngine.available():
        settings.HOTLINE_TTS_ENGINE = "tests.telephony.test_ivr.FakeVoice"
    FakeVoice.rendered = []
    return FakeVoice


def test_publish_renders_every_prompt_once_and_published_versions_stay_as_published(
    admin: User, general: Queue, voice: Any
) -> None:
    flow = services.ivr_flow_create(code="main", name="主菜单", actor=admin)
    _draft, found = services.ivr_draft_save(flow=flow, graph=GOOD, actor=admin)
    assert found == []
    v1 = services.ivr_publish(flow=flow, actor=admin)
    for text in ivr.prompt_texts(GOOD):
        path = tts.cached_path(text)
        assert path.exists() and path.parent == tts.cache_dir()
        with wave.open(str(path)) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
    before = sorted(p.stat().st_mtime_ns for p in tts.cache_dir().iterdir())
    # A new draft is a copy; saving it changes nothing published; publishing retires v1.
    v2 = services.ivr_draft_start(flow=flow, actor=admin)
    assert (v2.number, v2.status) == (2, "draft")
    changed = {**GOOD, "nodes": [*GOOD["nodes"][:4], {"id": "vm", "type": "voicemail", "prompt": "请留言"}]}
    services.ivr_draft_save(flow=flow, graph=changed, actor=admin)
    assert IvrVersion.objects.get(pk=v1.pk).graph == GOOD
    services.ivr_publish(flow=flow, actor=admin)
    assert IvrVersion.objects.get(pk=v1.pk).status == "retired"
    assert sorted(p.stat().st_mtime_ns for p in tts.cache_dir().iterdir()) == before  # same texts: not again
    with pytest.raises(ServiceError):
        services.ivr_publish(flow=flow, actor=admin)  # no draft


def test_a_flow_with_problems_cannot_be_published(admin: User, general: Queue, voice: Any) -> None:
    flow = services.ivr_flow_create(code="main", name="主菜单", actor=admin)
    broken = {**GOOD, "nodes": [*GOOD["nodes"], {"id": "orphan", "type": "hangup"}]}
    _draft, found = services.ivr_draft_save(flow=flow, graph=broken, actor=admin)
    assert [(p.node, p.field) for p in found] == [("orphan", "id")]
    with pytest.raises(ServiceError) as refused:
        services.ivr_publish(flow=flow, actor=admin)
    assert "orphan:id" in refused.value.field_errors
    assert not flow.versions.filter(status="published").exists()


def test_only_the_hotline_admin_edits_flows(people: Any, general: Queue) -> None:
    with pytest.raises(NotAllowed):
        services.ivr_flow_create(code="x", name="x", actor=people.agent)


def wav_bytes(rate: int = 16000, seconds: float = 0.5) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\1\0" * int(rate * seconds))
    return out.getvalue()


def test_uploaded_prompt_is_stored_as_8k_mono_and_bad_files_are_refused(
    admin: User, settings: Any, tmp_path: Path
) -> None:
    settings.VAR_DIR = tmp_path
    rate = 16000 if shutil.which("sox") else 8000
    prompt = services.ivr_prompt_upload(name="welcome", label="欢迎语", data=wav_bytes(rate), actor=admin)
    with wave.open(str(tmp_path / prompt.path)) as w:
        assert (w.getframerate(), w.getnchannels()) == (8000, 1)
    assert 400 <= prompt.duration_ms <= 600
    with pytest.raises(ServiceError) as bad:
        services.ivr_prompt_upload(name="other", data=b"not a wav at all", actor=admin)
    assert "audio" in bad.value.field_errors
    with pytest.raises(ServiceError) as dup:
        services.ivr_prompt_upload(name="welcome", data=wav_bytes(8000), actor=admin)
    assert "name" in dup.value.field_errors


def editor_post(graph: dict[str, Any], action: str) -> dict[str, str]:
    data = {"start": graph["start"], "action": action}
    for i, node in enumerate(graph["nodes"]):
        for key, value in node.items():
            data[f"n-{i}-{key}"] = (
                "; ".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else str(value)
            )
    return data


def test_editor_page_saves_shows_problems_and_publishes(
    admin: User, general: Queue, people: Any, voice: Any
) -> None:
    client = Client()
    client.force_login(admin)
    assert (
        client.post("/telephony/ivr/", {"form": "flow", "code": "main", "name": "主菜单"}).status_code == 302
    )
    assert client.post("/telephony/ivr/", {"form": "flow", "code": "main", "name": "x"}).status_code == 400
    page = client.get("/telephony/ivr/main/")
    assert page.status_code == 200 and 'data-testid="ivr-outline"' in page.content.decode()
    broken = {**GOOD, "nodes": [*GOOD["nodes"], {"id": "orphan", "type": "hangup"}]}
    saved = client.post("/telephony/ivr/main/", editor_post(broken, "save"))
    assert saved.status_code == 200 and "从起始节点无法到达" in saved.content.decode()
    refused = client.post("/telephony/ivr/main/", editor_post(broken, "publish"))
    assert refused.status_code == 400
    assert not IvrVersion.objects.filter(flow__code="main", status="published").exists()
    bad_option = editor_post(GOOD, "publish")
    bad_option["n-1-options"] = "1=q; nonsense"
    assert client.post("/telephony/ivr/main/", bad_option).status_code == 400
    assert client.post("/telephony/ivr/main/", editor_post(GOOD, "publish")).status_code == 302
    published = IvrVersion.objects.get(flow__code="main", status="published")
    assert published.graph["nodes"][1]["options"] == {"1": "q", "9": "menu_again"}
    assert ivr.validate(published.graph, queue_codes=["general"]) == []
    shown = client.get("/telephony/ivr/main/").content.decode()
    assert 'data-testid="ivr-new-draft"' in shown and 'data-testid="ivr-editor"' not in shown
    # Not the hotline admin: refused.
    other = Client()
    other.force_login(people.agent)
    assert other.get("/telephony/ivr/").status_code == 403
    assert other.post("/telephony/ivr/main/", editor_post(GOOD, "publish")).status_code == 403
    assert IvrFlow.objects.count() == 1 and IvrPrompt.objects.count() == 0
