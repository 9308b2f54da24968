"""Numbers, dates and amounts spoken from clips (IVR-1): the composer's clip sequences, free text kept out of the
cache, recorded clips used when uploaded and TTS when a clip cannot be read."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

import pytest

from hotline.telephony import announce
from hotline.telephony.announce import PAUSE, Free

from .test_ivr import FakeVoice


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "零"),
        (15, "十五"),
        (105, "一百零五"),
        (2000, "两千"),
        (10005, "一万零五"),
        (20000, "两万"),
        (123456, "十二万三千四百五十六"),
        (100100, "十万零一百"),
        (300000007, "三亿零七"),
    ],
)
def test_whole_numbers(n: int, words: str) -> None:
    assert "".join(announce.integer_words(n)) == words


def test_dates_amounts_and_codes_become_clip_sequences() -> None:
    assert announce.compose("2026年12月7日") == ["二", "零", "二", "六", "年", "十", "二", "月", "七", "日"]
    assert announce.compose("2026-12-07") == announce.compose("2026年12月7日")
    assert "".join(announce.compose("1234.50元")) == "一千二百三十四元五角"
    assert "".join(announce.compose("1234.05元")) == "一千二百三十四元零五分"
    assert "".join(announce.compose("80元")) == "八十元整"
    assert "".join(announce.compose("0.5元")) == "五角"
    assert announce.compose("工单20261207000123") == ["工单", *"二零二六一二零七零零零一二三"]
    assert announce.compose("共3.5小时") == ["共", "三", "点", "五", "小时"]


def test_words_between_are_phrase_clips_or_free_text_with_pauses() -> None:
    parts = announce.compose("已退还押金1234.50元，请于2026年12月7日前领取。")
    assert parts[:2] == ["已退还押金", "一"] and PAUSE in parts and parts[-1] == "前领取"
    free = announce.compose("已退还押金1234.50元，请于2026年12月7日前领取。", free_text=True)
    assert free[0] == Free("已退还押金") and free[-1] == Free("前领取")
    assert [p for p in free if isinstance(p, str) and p != PAUSE] == [
        p for p in parts[1:-1] if p not in ("请于", PAUSE)
    ]


@pytest.fixture
def voice(settings: Any, tmp_path: Path) -> type[FakeVoice]:
    settings.VAR_DIR = tmp_path
    settings.HOTLINE_TTS_ENGINE = "tests.telephony.test_ivr.FakeVoice"
    FakeVoice.rendered = []
    return FakeVoice


def frames(path: Path) -> int:
    with wave.open(str(path)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        return w.getnframes()


def test_render_joins_clips_records_free_text_once_and_never_caches_it(voice: Any, tmp_path: Path) -> None:
    clips = tmp_path / "telephony" / "clips"
    clips.mkdir(parents=True)
    with wave.open(str(clips / "元.wav"), "wb") as w:  # a recorded clip replaces TTS for its text
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\1\0" * 4000)
    (clips / "角.wav").write_bytes(b"not a wav")  # unreadable: TTS speaks it instead
    out = announce.render(announce.compose("退款5.50元", free_text=True), tmp_path / "answer.wav")
    # FakeVoice renders 800 frames per text: 退款 (free), 五, 五, 角 (fallback) + the recorded 元 (4000).
    assert frames(out) == 4 * 800 + 4000
    assert voice.rendered.count("退款") == 1 and "元" not in voice.rendered and "角" in voice.rendered
    cached = {p.name for p in (tmp_path / "telephony" / "tts").iterdir()}
    assert len(cached) == 2  # 五 and 角: the free text is not in the cache
    assert announce.join(["五", "角"]).exists()
