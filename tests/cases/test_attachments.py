"""Case attachments: an allow-list checked by content, served only by a scoped, audited download view."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from hotline.cases import services
from hotline.cases.models import CaseAttachment
from hotline.common import filetypes
from hotline.common.errors import ServiceError
from hotline.common.models import AuditLog
from tests.conftest import CONTENT, as_user, case_input

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


GOOD = [
    ("photo.png", PNG),
    ("letter.pdf", PDF),
    ("report.docx", _docx()),
    ("note.txt", "楼下烧烤店噪音，录音见附件。\n".encode()),
    ("call.mp3", b"ID3\x03\x00\x00\x00" + b"\x00" * 32),
    ("voice.amr", b"#!AMR\n" + b"\x00" * 32),
    ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 32),
]
BAD = [
    ("page.html", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
    ("photo.jpg", b"<html><body onload=alert(1)></body></html>"),  # HTML renamed
    ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ("logo.png", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'),
    ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64),
    ("scan.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64),  # an executable renamed
    ("shell.php", b"<?php system($_GET['c']); ?>"),
    ("readme.txt", b"<?php system($_GET['c']); ?>"),  # PHP renamed
    ("run.sh", b"#!/bin/sh\nrm -rf /\n"),
    ("run.txt", b"#!/bin/sh\nrm -rf /\n"),
    ("photo.png.pdf", PNG),  # content and name disagree
    ("archive.zip", _docx()),
]


@pytest.mark.parametrize(("name", "data"), GOOD)
def test_allowed_types_pass(name, data):
    assert filetypes.check(io.BytesIO(data), name) is not None


@pytest.mark.parametrize(("name", "data"), BAD)
def test_active_or_mismatched_content_is_refused_whatever_its_name(name, data):
    assert filetypes.check(io.BytesIO(data), name) is None


def _intake(city, people, *files):
    return services.case_intake(
        actor=people.agent,
        data=case_input(city),
        attachments=[SimpleUploadedFile(name, data, content_type="image/jpeg") for name, data in files],
    ).case


def test_intake_refuses_a_bad_file_and_saves_nothing(city, people):
    with pytest.raises(ServiceError) as err:
        _intake(city, people, ("photo.png", PNG), ("photo.jpg", b"<html><script>alert(1)</script></html>"))
    assert "photo.jpg" in err.value.field_errors["attachments"][0]
    assert not CaseAttachment.objects.exists()


def test_api_intake_answers_400_for_svg(api, city, people):
    upload = SimpleUploadedFile("x.svg", b"<svg onload=alert(1)></svg>", content_type="image/svg+xml")
    body = {
        "case_type": "consult",
        "content": CONTENT,
        "citizen_phone": "13812345678",
        "attachments": [upload],
    }
    r = as_user(api, people.agent).post("/api/v1/cases/", body, format="multipart")
    assert r.status_code == 400 and "attachments" in r.json()["errors"]


def test_stored_privately_with_the_sniffed_type(city, people):
    case = _intake(city, people, ("photo.png", PNG))
    attachment = case.attachments.get()
    assert attachment.content_type == "image/png"  # not what the browser claimed
    path = attachment.file.path
    assert path.startswith(str(settings.HOTLINE_PRIVATE_MEDIA_ROOT))
    assert not path.startswith(str(settings.MEDIA_ROOT) + "/cases")


def test_download_is_a_scoped_audited_attachment(city, people):
    case = _intake(city, people, ("噪音照片.png", PNG))
    services.case_dispatch(
        case=case,
        actor=people.dispatcher,
        expected_version=case.version,
        targets=[services.Target(city.xingfu, "main")],
    )
    attachment = case.attachments.get()
    handler = Client()
    handler.force_login(people.xingfu)
    page = handler.get(f"/cases/{case.pk}/").content.decode()
    link = f"/cases/attachments/{attachment.pk}/"
    assert link in page  # the case page links the download view (the old /media/ link was a 404)
    response = handler.get(link)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff" and response["Content-Type"] == "image/png"
    row = AuditLog.objects.get(object_type="cases.caseattachment", object_id=str(attachment.pk))
    assert row.actor == people.xingfu and row.action == "view"
    other = Client()
    other.force_login(people.west)
    assert other.get(link).status_code == 404
    api_link = f"/api/v1/cases/attachments/{attachment.pk}/"
    from rest_framework.test import APIClient

    assert as_user(APIClient(), people.west).get(api_link).status_code == 404
    r = as_user(APIClient(), people.xingfu).get(api_link)
    assert r.status_code == 200 and r["Content-Disposition"].startswith("attachment;")
    detail = as_user(APIClient(), people.xingfu).get(f"/api/v1/cases/{case.pk}/").json()
    assert detail["attachments"][0]["download"] == api_link
