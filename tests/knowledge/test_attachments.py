"""Attachments: text of Word, Excel, TXT, PDF and HTML is extracted and searchable; bad files are explained."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from hotline.common.errors import ServiceError
from hotline.knowledge import extract, selectors, services
from hotline.knowledge.services import ItemInput
from tests.conftest import People

from .conftest import KB, content


def make_docx(*paragraphs: str, table: list[list[str]] | None = None) -> bytes:
    import docx

    document = docx.Document()
    for p in paragraphs:
        document.add_paragraph(p)
    if table:
        t = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                t.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_xlsx(rows: list[list[Any]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "收费标准"
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def make_pdf(text: str) -> bytes:
    """A one-page PDF with `text` (ASCII) in Helvetica, xref offsets computed."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def test_docx() -> None:
    text = extract.extract_text("办事指南.docx", make_docx("居住证办理须知", table=[["材料", "租房合同"]]))
    assert "居住证办理须知" in text and "租房合同" in text


def test_xlsx() -> None:
    text = extract.extract_text("标准.xlsx", make_xlsx([["项目", "金额"], ["社保卡补办", 20]]))
    assert "收费标准" in text and "社保卡补办\t20" in text


def test_txt_in_utf8_and_gbk() -> None:
    assert extract.extract_text("a.txt", "公积金提取".encode()) == "公积金提取"
    assert extract.extract_text("a.txt", "公积金提取".encode("gbk")) == "公积金提取"
    assert extract.extract_text("a.txt", "\ufeff公积金".encode()) == "公积金"


def test_pdf() -> None:
    assert "Social security card 12345" in extract.extract_text(
        "guide.pdf", make_pdf("Social security card 12345")
    )


def test_html_without_scripts_and_with_word_breaks() -> None:
    page = "<html><head><title>标题</title><script>var 秘密=1</script></head><body><p>社保</p><p>卡</p></body></html>"
    text = extract.extract_text("page.html", page.encode())
    assert "秘密" not in text
    assert "社保\n卡" in text  # block elements do not glue words together


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("坏.docx", b"PK\x03\x04" + b"\x00" * 100, "损坏"),
        ("假.docx", b"just text", "扩展名与内容不符"),
        ("坏.pdf", b"%PDF-1.4\n garbage", "PDF"),
        ("假.pdf", "这不是PDF".encode(), "扩展名与内容不符"),
        ("假.xlsx", make_docx("x")[:50], "损坏"),
        ("空.txt", b"", "空文件"),
        ("二进制.txt", b"\x00\x01\x02" * 10, "扩展名与内容不符"),
        ("旧.doc", b"\xd0\xcf\x11\xe0", "旧版Office"),
    ],
)
def test_bad_files_are_explained(name: str, data: bytes, message: str) -> None:
    with pytest.raises(extract.ExtractionError) as err:
        extract.extract_text(name, data)
    assert message in err.value.message


def test_zip_bomb_is_refused_before_parsing() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"\x00" * (5 * 1024 * 1024))
    with pytest.raises(extract.ExtractionError, match="压缩炸弹"):
        extract.extract_text("炸弹.docx", out.getvalue())


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def test_attachment_text_is_searchable(kb: KB, people: People, commit: Any) -> None:
    files = [
        upload("材料清单.docx", make_docx("需要提供户口本原件")),
        upload("收费.xlsx", make_xlsx([["工本费", "二十元"]])),
        upload("说明.txt", "窗口地址在市民之家三楼".encode("gbk")),
        upload("guide.pdf", make_pdf("Residence permit guide")),
        upload("页面.html", "<p>预约电话请拨打热线</p>".encode()),
    ]
    with commit():
        item = services.item_create(
            actor=kb.chief,
            directory=kb.card,
            data=ItemInput(title="居住证办理", content=content("见附件。")),
            attachments=files,
        )
    assert all(a.text and not a.extract_error for a in item.attachments.all())
    for word in ("户口本原件", "二十元", "市民之家三楼", "residence permit", "预约电话"):
        assert [h.item_id for h in selectors.kb_search(user=people.agent, q=word).hits] == [item.pk], word


def test_item_with_unparseable_attachment_is_saved_with_the_problem(kb: KB, api: Any) -> None:
    from tests.conftest import as_user

    response = as_user(api, kb.chief).post(
        "/api/v1/kb/items/",
        {
            "directory": kb.card.pk,
            "title": "附件损坏的条目",
            "content": "<p>正文照常保存</p>",
            "attachments": [upload("坏.pdf", b"%PDF-1.7 broken"), upload("好.txt", "可以读".encode())],
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    attachments = {a["name"]: a for a in response.json()["attachments"]}
    assert "PDF" in attachments["坏.pdf"]["extract_error"] and not attachments["坏.pdf"]["has_text"]
    assert attachments["好.txt"]["extract_error"] == "" and attachments["好.txt"]["has_text"]


def test_unsupported_and_oversized_files_are_refused(kb: KB, monkeypatch: pytest.MonkeyPatch) -> None:
    data = ItemInput(title="t", content="<p>c</p>")
    with pytest.raises(ServiceError, match="不支持的附件类型"):
        services.item_create(
            actor=kb.chief, directory=kb.card, data=data, attachments=[upload("a.exe", b"MZ")]
        )
    monkeypatch.setattr(extract, "MAX_FILE_BYTES", 10)
    with pytest.raises(ServiceError, match="超过大小限制") as err:
        services.item_create(
            actor=kb.chief, directory=kb.card, data=data, attachments=[upload("a.txt", b"x" * 11)]
        )
    assert "attachments" in err.value.field_errors
    from hotline.knowledge.models import Item

    assert not Item.objects.exists()  # nothing half-saved


def test_attachments_carry_over_and_can_be_removed(kb: KB) -> None:
    item = services.item_create(
        actor=kb.chief,
        directory=kb.card,
        data=ItemInput(title="t", content="<p>c</p>"),
        attachments=[upload("a.txt", b"aaa"), upload("b.txt", b"bbb")],
    )
    a, b = item.attachments.order_by("name")
    v2 = services.item_update(
        actor=kb.chief,
        item=item,
        data=ItemInput(title="t", content="<p>c2</p>"),
        attachments=[upload("c.txt", b"ccc")],
        remove_attachments=[a.pk],
    )
    assert sorted(x.name for x in v2.attachments.all()) == ["b.txt", "c.txt"]
    assert sorted(x.name for x in item.versions.get(number=1).attachments.all()) == ["a.txt", "b.txt"]
