"""Zip export/import of a directory with attachments: round trip, and every hostile archive refused with a 400."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from hotline.knowledge import importexport, services
from hotline.knowledge.models import Attachment, Item
from hotline.knowledge.services import ItemInput
from tests.conftest import People, as_user

from .conftest import KB, content


def sheet(*rows: list[Any], header: list[str] | None = None) -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.append(header or ["目录", "标题", "内容", "附件"])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def archive(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return out.getvalue()


def post_zip(api: Any, user: Any, directory: Any, data: bytes, name: str = "kb.zip") -> Any:
    return as_user(api, user).post(
        f"/api/v1/kb/directories/{directory.pk}/import-zip/",
        {"file": SimpleUploadedFile(name, data)},
        format="multipart",
    )


def media_files() -> set[Path]:
    root = Path(settings.MEDIA_ROOT) / "kb"
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def test_round_trip_with_attachments(kb: KB, people: People, api: Any, commit: Any) -> None:
    services.item_create(
        actor=kb.chief,
        directory=kb.card,
        data=ItemInput(title="社保卡补办", content=content("补办流程"), is_public=True),
        attachments=[
            SimpleUploadedFile("指南.txt", "到银行网点补办".encode()),
            SimpleUploadedFile("表格.html", "<p>补办申请表</p>".encode()),
        ],
    )
    services.item_create(
        actor=kb.chief, directory=kb.medical, data=ItemInput(title="医保报销", content=content("报销材料"))
    )
    exported = as_user(api, people.agent).get(f"/api/v1/kb/directories/{kb.social.pk}/export-zip/")
    assert exported.status_code == 200 and exported["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(exported.content)) as z:
        names = sorted(z.namelist())
        book = openpyxl.load_workbook(io.BytesIO(z.read("items.xlsx")))
    ws = book.active
    assert ws is not None
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][-1] == "附件"
    by_title = {r[1]: r for r in rows[1:]}
    paths = str(by_title["社保卡补办"][-1]).split("\n")
    assert sorted(paths) == sorted(n for n in names if n.startswith("attachments/"))
    assert len(paths) == 2 and not by_title["医保报销"][-1]

    target = services.directory_create(actor=kb.admin, space=kb.space, name="导入目标")
    with commit():
        response = post_zip(api, kb.admin, target, exported.content)
    assert response.status_code == 201, response.json()
    assert response.json() == {"created": 2, "published": 2, "pending": 0, "directories_created": 2}
    copy = Item.objects.get(directory__path__startswith=target.path, title="社保卡补办")
    assert copy.directory.name == "社保卡" and copy.is_public
    files = {a.name: a for a in copy.attachments.all()}
    assert set(files) == {"指南.txt", "表格.html"}
    assert files["指南.txt"].file.read() == "到银行网点补办".encode()
    assert files["表格.html"].text == "补办申请表"
    assert set(copy.published_version.attachments.all()) == set(files.values())  # type: ignore[union-attr]


def test_zip_bomb_is_refused(kb: KB, api: Any) -> None:
    bomb = archive(
        {
            "items.xlsx": sheet(["", "炸弹", "内容", "attachments/a.txt"]),
            "attachments/a.txt": b"0" * (30 * 1024 * 1024),
        }
    )
    response = post_zip(api, kb.chief, kb.card, bomb)
    assert response.status_code == 400
    assert "压缩炸弹" in response.json()["detail"]
    assert not Item.objects.filter(title="炸弹").exists()


def test_oversized_entry_and_oversized_upload_are_refused(
    kb: KB, api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importexport.extract, "MAX_FILE_BYTES", 1000)
    big = archive(
        {"items.xlsx": sheet(["", "大文件", "内容", "a.txt"]), "a.txt": bytes(range(256)) * 8},
        compression=zipfile.ZIP_STORED,
    )
    response = post_zip(api, kb.chief, kb.card, big)
    assert response.status_code == 400 and "超过大小限制" in response.json()["detail"]
    monkeypatch.setattr(importexport, "MAX_IMPORT_ZIP_BYTES", 100)
    response = post_zip(api, kb.chief, kb.card, big)
    assert response.status_code == 400 and "文件过大" in response.json()["detail"]


@pytest.mark.parametrize(
    "evil", ["../evil.txt", "attachments/../../evil.txt", "/etc/evil.txt", "C:/evil.txt", "a\\..\\evil.txt"]
)
def test_path_traversal_entry_is_refused(kb: KB, api: Any, evil: str) -> None:
    data = archive({"items.xlsx": sheet(["", "穿越", "内容", ""]), evil: b"x"})
    response = post_zip(api, kb.chief, kb.card, data)
    assert response.status_code == 400
    assert "已拒绝导入" in response.json()["detail"] and "不安全" in response.json()["detail"]
    assert not Item.objects.filter(title="穿越").exists()


def test_sheet_reference_outside_the_archive_is_a_row_error(kb: KB, api: Any) -> None:
    data = archive({"items.xlsx": sheet(["", "穿越", "内容", "../../etc/passwd"])})
    response = post_zip(api, kb.chief, kb.card, data)
    assert response.status_code == 400
    assert "不安全" in response.json()["errors"]["rows"][0]


def test_symlink_entry_is_refused(kb: KB, api: Any) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("items.xlsx", sheet(["", "链接", "内容", "link.txt"]))
        info = zipfile.ZipInfo("link.txt")
        info.external_attr = 0o120777 << 16
        z.writestr(info, "/etc/passwd")
    response = post_zip(api, kb.chief, kb.card, out.getvalue())
    assert response.status_code == 400 and "符号链接" in response.json()["detail"]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("kb.zip", b"this is not a zip at all", "不是ZIP压缩包格式"),
        ("kb.zip", b"PK\x03\x04broken", "已损坏"),
        ("kb.xlsx", b"PK\x03\x04", "请上传.zip文件"),
        ("kb.zip", archive({"readme.txt": b"hello"}), "items.xlsx"),
        ("kb.zip", archive({"items.xlsx": b"not really a workbook"}), "Excel"),
    ],
)
def test_non_zip_and_malformed_archives_are_refused(
    kb: KB, api: Any, name: str, data: bytes, message: str
) -> None:
    response = post_zip(api, kb.chief, kb.card, data, name)
    assert response.status_code == 400, response.content
    assert message in response.json()["detail"]


def test_missing_attachment_saves_nothing_and_leaves_no_files(kb: KB, api: Any) -> None:
    data = archive(
        {
            "items.xlsx": sheet(
                ["", "第一条", "内容一", "files/ok.txt"],
                ["", "第二条", "内容二", "files/missing.pdf"],
            ),
            "files/ok.txt": "附件内容".encode(),
        }
    )
    before = media_files()
    response = post_zip(api, kb.chief, kb.card, data)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "import_failed"
    assert body["errors"]["rows"] == ["第3行：附件“files/missing.pdf”不在压缩包中"]
    assert not Item.objects.filter(title__in=["第一条", "第二条"]).exists()
    assert not Attachment.objects.exists()
    assert media_files() == before  # the first row's file was written, then deleted with the rollback


def test_sheet_in_a_top_folder_and_unsupported_attachment(kb: KB, api: Any) -> None:
    data = archive(
        {
            "export/items.xlsx": sheet(["", "文件夹中的表格", "内容", "attachments/说明.txt"]),
            "export/attachments/说明.txt": "说明".encode(),
        }
    )
    assert post_zip(api, kb.chief, kb.card, data).status_code == 201
    assert Item.objects.get(title="文件夹中的表格").attachments.get().name == "说明.txt"
    bad = archive({"items.xlsx": sheet(["", "程序", "内容", "run.exe"]), "run.exe": b"MZ"})
    response = post_zip(api, kb.chief, kb.card, bad)
    assert response.status_code == 400 and "不支持的附件类型" in response.json()["errors"]["rows"][0]


def test_zip_import_needs_edit_right_and_read(kb: KB, people: People, api: Any) -> None:
    data = archive({"items.xlsx": sheet(["", "标题", "内容", ""])})
    assert post_zip(api, people.agent, kb.card, data).status_code == 403
    assert post_zip(api, people.agent, kb.tax, data).status_code == 404
    assert (
        as_user(api, people.agent).get(f"/api/v1/kb/directories/{kb.tax.pk}/export-zip/").status_code == 404
    )


def test_zip_import_through_the_directory_screen(kb: KB) -> None:
    from django.test import Client

    client = Client()
    client.force_login(kb.chief)
    data = archive({"items.xlsx": sheet(["", "屏幕导入", "内容", "a.txt"]), "a.txt": b"abc"})
    response = client.post(
        f"/kb/directories/{kb.card.pk}/import/", {"file": SimpleUploadedFile("kb.zip", data)}, follow=True
    )
    assert "已导入1条" in response.content.decode()
    bomb = archive({"items.xlsx": sheet(["", "炸弹", "内容", ""]), "a.txt": b"0" * (30 * 1024 * 1024)})
    response = client.post(
        f"/kb/directories/{kb.card.pk}/import/", {"file": SimpleUploadedFile("kb.zip", bomb)}, follow=True
    )
    assert response.status_code == 200 and "压缩炸弹" in response.content.decode()
