"""Announcements built from clips (IVR-1 "numbers spoken from clips"): a sentence is a sequence of short clips —
words and the digits of a number read in Chinese (二十三 = 二 十 三) — each rendered once by the TTS engine (or
replaced by a recorded prompt of the same text under `HOTLINE_VAR_DIR/telephony/clips/<text>.wav`), and joined
into one WAV file cached by its clip list."""

from __future__ import annotations

import hashlib
import os
import tempfile
import wave
from pathlib import Path

from django.conf import settings

from . import tts

DIGITS = "零一二三四五六七八九"


def number_words(n: int) -> list[str]:
    """The clips reading `n` (0–9999) in Chinese: 0 零, 10 十, 15 十五, 20 二十, 105 一百零五, 2000 两千."""
    n = max(0, min(int(n), 9999))
    if n < 10:
        return [DIGITS[n]]
    if n < 20:
        return ["十"] + ([DIGITS[n - 10]] if n > 10 else [])
    words: list[str] = []
    units = ((1000, "千"), (100, "百"), (10, "十"))
    zero = False
    rest = n
    for size, name in units:
        digit, rest = divmod(rest, size)
        if digit:
            if zero and words:
                words.append("零")
            words += ["两" if digit == 2 and size >= 1000 else DIGITS[digit], name]
            zero = False
        elif words:
            zero = True
        if rest == 0:
            return words
    if zero and words:
        words.append("零")
    return words + [DIGITS[rest]]


def clip(text: str) -> Path:
    """A recorded clip of this exact text if one was uploaded, else the TTS rendering (cached)."""
    recorded = Path(settings.VAR_DIR) / "telephony" / "clips" / f"{text}.wav"
    return recorded if recorded.is_file() else tts.speak(text)


def join(parts: list[str]) -> Path:
    """One WAV saying the clips in order (8 kHz 16-bit mono, like every prompt), cached."""
    key = f"{tts.engine().key}\n" + "|".join(parts)
    target = tts.cache_dir() / f"say-{hashlib.sha256(key.encode()).hexdigest()[:32]}.wav"
    if target.exists():
        return target
    files = [clip(p) for p in parts]
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part.wav")
    os.close(fd)
    try:
        with wave.open(tmp, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(8000)
            for path in files:
                with wave.open(str(path)) as w:
                    out.writeframes(w.readframes(w.getnframes()))
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def queue_position(ahead: int, wait_seconds: int, callback_key: str = "") -> list[str]:
    """您前面还有 N 位，预计等待 M 分钟[，如不想等待请按 K 键挂机，轮到您时我们将回电]."""
    parts = ["您前面还有", *number_words(ahead), "位"]
    minutes = (wait_seconds + 59) // 60
    parts += ["预计等待", *number_words(minutes), "分钟"] if minutes > 1 else ["预计等待不到两分钟"]
    if callback_key:
        key = DIGITS[int(callback_key)] if callback_key.isdigit() else callback_key
        parts += ["如不想等待，请按", key, "键挂机，轮到您时我们将回电"]
    return parts


KEPT_PLACE = "已为您保留排队位置，轮到您时我们将回电，请挂机。"
