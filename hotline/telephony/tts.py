"""Prompts spoken from text (IVR-1): an interface for text-to-speech engines and the offline default, espeak-ng
in Mandarin resampled by sox to what the media node plays (8 kHz, 16-bit, mono WAV).

Rendered audio is cached under `HOTLINE_VAR_DIR/telephony/tts/<sha256 of engine + text>.wav`, so a text is
spoken once (when its flow version is published) and every call plays the file. A better engine (a cloud or
neural Mandarin voice) implements `TtsEngine` and is named by `HOTLINE_TTS_ENGINE` (dotted path); its `key`
goes into the hash so switching engines renders again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class TtsError(Exception):
    pass


class TtsEngine(Protocol):
    key: str  # what identifies the voice (engine, voice, speed): part of the cache key

    def render(self, text: str, target: Path) -> None:
        """Write `text` spoken as an 8 kHz 16-bit mono WAV file at `target`."""


class EspeakEngine:
    key = "espeak-ng:cmn:170"

    def __init__(self, voice: str = "cmn", speed: int = 170) -> None:
        self.voice, self.speed = voice, speed
        self.key = f"espeak-ng:{voice}:{speed}"

    @staticmethod
    def available() -> bool:
        return bool(shutil.which("espeak-ng") and shutil.which("sox"))

    def render(self, text: str, target: Path) -> None:
        if not self.available():
            raise TtsError("espeak-ng and sox are needed to speak prompts")
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / "raw.wav"
            try:
                subprocess.run(
                    ["espeak-ng", "-v", self.voice, "-s", str(self.speed), "-w", str(raw), "--", text],
                    check=True,
                    capture_output=True,
                    timeout=60,
                )
                subprocess.run(
                    ["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(target), "gain", "-3"],
                    check=True,
                    capture_output=True,
                    timeout=60,
                )
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
                raise TtsError(str(exc)) from exc


def engine() -> TtsEngine:
    dotted = getattr(settings, "HOTLINE_TTS_ENGINE", "")
    return import_string(dotted)() if dotted else EspeakEngine()


def cache_dir() -> Path:
    return Path(settings.VAR_DIR) / "telephony" / "tts"


def cached_path(text: str, tts: TtsEngine | None = None) -> Path:
    tts = tts or engine()
    digest = hashlib.sha256(f"{tts.key}\n{text.strip()}".encode()).hexdigest()[:40]
    return cache_dir() / f"{digest}.wav"


def speak(text: str, tts: TtsEngine | None = None) -> Path:
    """The WAV file saying `text`, rendered now if it is not in the cache yet."""
    tts = tts or engine()
    target = cached_path(text, tts)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part.wav")
    os.close(fd)
    try:
        tts.render(text.strip(), Path(tmp))
        os.replace(tmp, target)  # atomic: a concurrent reader never sees half a file
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target
