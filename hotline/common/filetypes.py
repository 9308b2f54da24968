"""What an uploaded file really is, from its first bytes, against an allow-list of types people attach to a case.

The browser's content type and the file name are chosen by the sender: an HTML page renamed `photo.jpg` would
run in the office's browser if it were served inline. A file is accepted only when its content is one of the
kinds below AND its name ends with an extension of that kind; HTML, SVG, executables, PHP and scripts are
refused whatever they are called.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from typing import IO

HEAD_BYTES = 4096


@dataclass(frozen=True)
class Kind:
    name: str
    content_type: str
    extensions: frozenset[str]


def _k(name: str, content_type: str, *extensions: str) -> Kind:
    return Kind(name, content_type, frozenset(extensions))


JPEG = _k("jpeg", "image/jpeg", "jpg", "jpeg")
PNG = _k("png", "image/png", "png")
GIF = _k("gif", "image/gif", "gif")
WEBP = _k("webp", "image/webp", "webp")
BMP = _k("bmp", "image/bmp", "bmp")
PDF = _k("pdf", "application/pdf", "pdf")
DOCX = _k("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx")
XLSX = _k("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
PPTX = _k("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx")
OLE = _k("ole", "application/octet-stream", "doc", "xls", "ppt", "wps", "et")
MP3 = _k("mp3", "audio/mpeg", "mp3")
WAV = _k("wav", "audio/wav", "wav")
AMR = _k("amr", "audio/amr", "amr")
M4A = _k("m4a", "audio/mp4", "m4a", "mp4", "aac")
OGG = _k("ogg", "audio/ogg", "ogg", "oga", "opus")
TEXT = _k("text", "text/plain; charset=utf-8", "txt", "csv")

ALLOWED_EXTENSIONS = frozenset().union(
    *(
        k.extensions
        for k in (JPEG, PNG, GIF, WEBP, BMP, PDF, DOCX, XLSX, PPTX, OLE, MP3, WAV, AMR, M4A, OGG, TEXT)
    )
)

# Text that a browser or a shell would run: refused even in a .txt.
_ACTIVE_TEXT = (
    b"<!doctype",
    b"<html",
    b"<script",
    b"<svg",
    b"<?php",
    b"<?xml",
    b"#!",
    b"<iframe",
    b"<body",
    b"<head",
)


def _ooxml(head: bytes, upload: IO[bytes]) -> Kind | None:
    """docx / xlsx / pptx: a zip holding [Content_Types].xml and the part folder of its kind."""
    if not head.startswith(b"PK\x03\x04"):
        return None
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:  # reads the central directory only
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    for prefix, kind in (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX)):
        if any(n.startswith(prefix) for n in names):
            return kind
    return None


def _text(head: bytes) -> Kind | None:
    if b"\x00" in head:
        return None
    for encoding in ("utf-8", "gb18030"):
        try:
            text = head.decode(encoding)
            break
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 4:  # a character cut at the end of the sample
                text = head[: exc.start].decode(encoding, errors="ignore")
                break
    else:
        return None
    lowered = text.lstrip("\ufeff \t\r\n").lower().encode()
    if lowered.startswith(_ACTIVE_TEXT) or any(
        tag in lowered for tag in (b"<script", b"<html", b"<?php", b"<svg")
    ):
        return None
    return TEXT


def sniff(upload: IO[bytes]) -> Kind | None:
    """The allowed kind of the file's content, or None. Leaves the file at its start."""
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    kind: Kind | None = None
    if head.startswith(b"\xff\xd8\xff"):
        kind = JPEG
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        kind = PNG
    elif head[:6] in (b"GIF87a", b"GIF89a"):
        kind = GIF
    elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        kind = WEBP
    elif head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        kind = WAV
    elif head.startswith(b"BM") and len(head) > 26 and head[6:10] == b"\x00\x00\x00\x00":
        kind = BMP
    elif head.startswith(b"%PDF-"):
        kind = PDF
    elif head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        kind = OLE
    elif head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        kind = MP3
    elif head.startswith(b"#!AMR"):
        kind = AMR
    elif head[4:8] == b"ftyp" and head[8:12] in (
        b"M4A ",
        b"mp42",
        b"isom",
        b"M4B ",
        b"mp41",
        b"3gp4",
        b"3gp5",
    ):
        kind = M4A
    elif head.startswith(b"OggS"):
        kind = OGG
    elif head.startswith(b"PK\x03\x04"):
        kind = _ooxml(head, upload)
    else:
        kind = _text(head)
    upload.seek(0)
    return kind


def extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def check(upload: IO[bytes], name: str) -> Kind | None:
    """The file's kind when its content is allowed and its name's extension belongs to that kind, else None."""
    kind = sniff(upload)
    if kind is None or extension(name) not in kind.extensions:
        return None
    return kind
