"""The staff UI is Chinese by default and English on request; the English catalogue is complete and compiled."""

from __future__ import annotations

import ast
import gettext
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from hotline.cases.models import Assignment
from tests.conftest import dispatched_to, submitted_case

PO = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


@pytest.fixture(autouse=True)
def _restore_language() -> Iterator[None]:
    """A request in English leaves English active in this thread; later tests expect Chinese."""
    before = translation.get_language()
    yield
    translation.activate(before or settings.LANGUAGE_CODE)


def client_for(user, language: str | None = None) -> Client:
    client = Client()
    client.force_login(user)
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def test_pages_are_chinese_by_default(city, people):
    case = submitted_case(city, people)
    client = client_for(people.dispatcher)
    home = client.get("/").content.decode()
    assert "工作台" in home and "待派单（含领导已批示）" in home
    assert "Workbench" not in home
    assert 'data-testid="language-switcher"' in home and "中文" in home and "English" in home
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert '<html lang="zh-hans">' in page
    assert "诉求信息" in page and "流转时间线" in page and "派单意见" in page
    assert ">待派单</span>" in page  # the case status badge
    assert "Request information" not in page


def test_pages_are_english_with_the_language_cookie(city, people):
    case = submitted_case(city, people)
    client = client_for(people.dispatcher, "en")
    home = client.get("/").content.decode()
    assert '<html lang="en">' in home
    assert "Workbench" in home and "Awaiting dispatch (incl. leader-instructed)" in home
    assert "工作台" not in home
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Request information" in page and "Timeline" in page and "Dispatch instructions" in page
    assert ">Awaiting dispatch</span>" in page  # the case status badge, a model TextChoices label
    assert "Review &amp; dispatch" in page  # a stage of the progress bar
    for chinese in ("诉求信息", "流转时间线", "派单意见", ">待派单<"):
        assert chinese not in page


def test_english_form_labels_and_flash_messages(city, people):
    client = client_for(people.agent, "en")
    intake = client.get("/cases/new/").content.decode()
    assert "Contact phone" in intake and "Submit to Hotline Office (Alt+T)" in intake
    case = submitted_case(city, people)
    dispatcher = client_for(people.dispatcher, "en")
    response = dispatcher.post(f"/cases/{case.pk}/act/dispatch/", {"version": "x"}, follow=True)
    assert "Invalid input: Version number: " in response.content.decode()


def test_language_switcher_sets_the_language(city, people):
    client = client_for(people.agent)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/cases/search/"})
    assert response.status_code == 302 and response["Location"] == "/cases/search/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Case search" in client.get("/cases/search/").content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "工单查询" in client.get("/cases/search/").content.decode()


def test_service_refusals_follow_the_language(city, people):
    """A service's refusal (here: another unit's assignment, out of scope) answers in the user's language over
    the API, and so does the summary of bad input."""
    case = dispatched_to(city, people, city.east)
    assignment = Assignment.objects.get(case=case, unit=city.east)
    url = f"/api/v1/assignments/{assignment.pk}/sign-for/"
    chinese = client_for(people.west).post(url, {}, content_type="application/json")
    assert chinese.status_code == 404 and chinese.json()["detail"] == "交办环节不存在或无权查看"
    english = client_for(people.west, "en").post(url, {}, content_type="application/json")
    assert english.status_code == 404
    assert english.json()["detail"] == "The assignment does not exist or you may not view it"
    invalid = client_for(people.agent, "en").post(
        "/api/v1/cases/", {"content": "x", "extra": "[1]"}, content_type="application/json"
    )
    assert invalid.status_code == 400 and invalid.json()["detail"] == "Invalid input"


@dataclass
class Entry:
    line: int
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)


def parse_po(path: Path) -> list[Entry]:
    """A small .po reader: enough for a catalogue written by makemessages (obsolete #~ entries are skipped)."""
    entries: list[Entry] = []
    flags: set[str] = set()
    current: Entry | None = None
    target: tuple[str, int] = ("msgid", 0)
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if line.startswith("#,"):
            flags |= {f.strip() for f in line[2:].split(",")}
            continue
        if not line or line.startswith("#"):
            continue
        keyword, _sep, rest = line.partition(" ")
        if line.startswith('"'):
            text = ast.literal_eval(line)
        else:
            if keyword in ("msgctxt", "msgid") and (current is None or current.msgstr):
                current = Entry(line=number, flags=flags)
                entries.append(current)
                flags = set()
            assert current is not None, f"{path}:{number}: {raw}"
            text = ast.literal_eval(rest)
            match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
            target = ("msgstr", int(match.group(1))) if match else (keyword, 0)
            if target[0] == "msgstr":
                current.msgstr[target[1]] = ""
            elif target[0] == "msgctxt":
                current.msgctxt = ""
            elif target[0] == "msgid_plural":
                current.msgid_plural = ""
        assert current is not None
        name, index = target
        if name == "msgstr":
            current.msgstr[index] += text
        elif name == "msgctxt":
            current.msgctxt = (current.msgctxt or "") + text
        elif name == "msgid_plural":
            current.msgid_plural = (current.msgid_plural or "") + text
        else:
            current.msgid += text
    return entries


def test_every_message_has_an_english_translation():
    entries = parse_po(PO)
    header, messages = entries[0], entries[1:]
    assert header.msgid == "" and "fuzzy" not in header.flags
    assert "Language: en" in header.msgstr[0]
    assert len(messages) > 300
    for entry in messages:
        where = f"{PO.name}:{entry.line} {entry.msgid!r}"
        assert "fuzzy" not in entry.flags, where
        assert entry.msgstr and all(value.strip() for value in entry.msgstr.values()), where
        wanted = set(PLACEHOLDER.findall(entry.msgid))
        for value in entry.msgstr.values():
            assert set(PLACEHOLDER.findall(value)) == wanted, where


def test_the_compiled_catalogue_matches_the_po_file():
    """The .mo is committed (production has no gettext tools): it must be compiled from the current .po."""
    with MO.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    for entry in parse_po(PO)[1:]:
        key = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural is None:
            assert catalog.get(key) == entry.msgstr[0], f"{entry.msgid!r}: run compilemessages"
        else:
            for index, value in entry.msgstr.items():
                assert catalog.get((key, index)) == value, f"{entry.msgid!r}: run compilemessages"
