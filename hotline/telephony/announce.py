"""Announcements built from clips (IVR-1 "numbers, dates and amounts spoken from clips"): a sentence is a
sequence of short clips — words and the digits of a number read in Chinese (二十三 = 二 十 三) — each rendered once
by the TTS engine (or replaced by a recorded prompt of the same text under
`HOTLINE_VAR_DIR/telephony/clips/<text>.wav`), and joined into one WAV file cached by its clip list.

`compose(text)` turns a sentence into that sequence: dates (2026年12月7日, 2026-12-07) → 二零二六 年 十二 月 七 日;
amounts (1234.50元) → 一千 二百 三十 四 元 五 角; codes of six or more digits (case numbers, phone numbers) → digit
by digit; other numbers → read as numbers; the words between → phrase clips, or (`free_text=True`, for text that
may carry personal data, e.g. a case's result) `Free` parts spoken by TTS into the one answer and never cached.
A recorded clip that cannot be read falls back to TTS of its text."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from . import tts

log = logging.getLogger(__name__)

DIGITS = "零一二三四五六七八九"
PAUSE = "<pause>"  # 250 ms of silence (where the sentence had a comma or a full stop)
PAUSE_FRAMES = 2000


@dataclass(frozen=True)
class Free:
    """Text spoken by TTS as it is, into this one answer only (not cached)."""

    text: str


Part = str | Free


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


def integer_words(n: int) -> list[str]:
    """Any whole number up to 9999 9999 9999 in clips, in groups of four (万, 亿): 20000 两万, 10005 一万零五."""
    n = max(0, int(n))
    if n < 10000:
        return number_words(n)
    if n >= 10**12:
        return digit_words(str(n))
    words: list[str] = []
    groups = [(n // 10**8, "亿"), (n // 10**4 % 10**4, "万"), (n % 10**4, "")]
    zero = False
    for value, unit in groups:
        if value == 0:
            zero = bool(words)
            continue
        if words and (zero or value < 1000):
            words.append("零")
        group = number_words(value)
        if group == ["二"] and unit:
            group = ["两"]
        words += group + ([unit] if unit else [])
        zero = False
    return words


def digit_words(text: str) -> list[str]:
    """Read one character at a time: 2026 → 二 零 二 六 (letters as they are, e.g. a case number's prefix)."""
    return [DIGITS[int(ch)] if ch.isdigit() else ch.upper() for ch in text if ch.isalnum()]


def date_words(year: int, month: int, day: int) -> list[str]:
    return [*digit_words(str(year)), "年", *number_words(month), "月", *number_words(day), "日"]


def amount_words(yuan: int, fraction: str = "") -> list[str]:
    """1234.50 → 一千二百三十四元五角; 1234.05 → …元零五分; 1234 → …元整; 0.5 → 五角."""
    jiao, fen = (int(ch) for ch in (fraction + "00")[:2])
    words = [*integer_words(yuan), "元"] if yuan or not (jiao or fen) else []
    if not jiao and not fen:
        return words + ["整"]
    if jiao:
        words += [DIGITS[jiao], "角"]
    elif words:
        words.append("零")
    if fen:
        words += [DIGITS[fen], "分"]
    return words


TOKEN_RE = re.compile(
    r"(?P<date>(?P<y>\d{4})(?:年|-|/)(?P<m>\d{1,2})(?:月|-|/)(?P<d>\d{1,2})日?)"
    r"|(?P<amount>(?P<yuan>\d+)(?:\.(?P<frac>\d{1,2}))?\s*元)"
    r"|(?P<code>[A-Za-z]*\d{6,}[A-Za-z0-9]*)"
    r"|(?P<num>\d+(?:\.\d+)?)"
)
PUNCT_RE = re.compile(r"[，,。．.；;：:！!？?、\s（）()“”\"'《》]+")


def _phrases(text: str, free_text: bool) -> list[Part]:
    out: list[Part] = []
    for i, phrase in enumerate(PUNCT_RE.split(text)):
        if i:
            out.append(PAUSE)
        phrase = phrase.strip()
        if phrase:
            out.append(Free(phrase) if free_text else phrase[:40])
    return out


def compose(text: str, *, free_text: bool = False) -> list[Part]:
    """The clip sequence saying `text` (see the module's docstring)."""
    parts: list[Part] = []
    pos = 0
    for m in TOKEN_RE.finditer(text):
        parts += _phrases(text[pos : m.start()], free_text)
        pos = m.end()
        if m["date"] and 1 <= int(m["m"]) <= 12 and 1 <= int(m["d"]) <= 31:
            parts += date_words(int(m["y"]), int(m["m"]), int(m["d"]))
        elif m["date"]:
            parts += digit_words(m["date"])
        elif m["amount"]:
            parts += amount_words(int(m["yuan"]), m["frac"] or "")
        elif m["code"]:
            parts += digit_words(m["code"])
        else:
            whole, _dot, decimals = m["num"].partition(".")
            parts += integer_words(int(whole)) + (["点", *digit_words(decimals)] if decimals else [])
    parts += _phrases(text[pos:], free_text)
    out: list[Part] = []
    for part in parts:  # one pause at a time, none at either end
        if part != PAUSE or (out and out[-1] != PAUSE):
            out.append(part)
    while out and out[-1] == PAUSE:
        out.pop()
    return out


def clip(text: str) -> Path:
    """A recorded clip of this exact text if one was uploaded, else the TTS rendering (cached)."""
    recorded = Path(settings.VAR_DIR) / "telephony" / "clips" / f"{text}.wav"
    return recorded if recorded.is_file() else tts.speak(text)


def _frames(part: Part, tmp_dir: str) -> bytes:
    """The audio of one part (8 kHz 16-bit mono): a pause, free text spoken now, or a clip (TTS if a recorded
    clip cannot be read)."""
    if part == PAUSE:
        return b"\0\0" * PAUSE_FRAMES
    if isinstance(part, Free):
        path = Path(tmp_dir) / f"free-{hashlib.sha256(part.text.encode()).hexdigest()[:12]}.wav"
        tts.engine().render(part.text, path)
    else:
        path = clip(part)
    try:
        with wave.open(str(path)) as w:
            if (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2):
                return w.readframes(w.getnframes())
    except (wave.Error, EOFError, OSError):
        pass
    log.warning("clip %r could not be read, spoken by TTS instead", part)
    with wave.open(str(tts.speak(str(part)))) as w:
        return w.readframes(w.getnframes())


def render(parts: list[Part], target: Path) -> Path:
    """Write the parts as one WAV file at `target` (written whole, then moved into place)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part.wav")
    os.close(fd)
    try:
        with tempfile.TemporaryDirectory() as work, wave.open(tmp, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(8000)
            for part in parts:
                out.writeframes(_frames(part, work))
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def join(parts: list[str]) -> Path:
    """One WAV saying the clips in order (8 kHz 16-bit mono, like every prompt), cached by its clip list."""
    key = f"{tts.engine().key}\n" + "|".join(parts)
    target = tts.cache_dir() / f"say-{hashlib.sha256(key.encode()).hexdigest()[:32]}.wav"
    if target.exists():
        return target
    return render(list(parts), target)


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
