"""Text of knowledge-base attachments (Word .docx, Excel .xlsx, TXT, PDF, HTML), so that search finds them.

Every failure is an `ExtractionError` with a message for people: files that are too large, zip bombs
(Office files are zip archives: their unpacked size and compression ratio are checked before opening),
content that does not match the extension, and files the parser rejects. The caller keeps the attachment
and shows the message; the item is saved all the same.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable

from django.utils.translation import gettext as _

from .text import html_to_text

MAX_FILE_BYTES = int(os.environ.get("HOTLINE_KB_MAX_ATTACHMENT_BYTES", str(20 * 1024 * 1024)))
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_ZIP_RATIO = 150
MAX_ZIP_MEMBERS = 10_000
MAX_TEXT_CHARS = 2_000_000
MAX_PDF_PAGES = 2_000
MAX_XLSX_CELLS = 2_000_000

SUPPORTED = {
    ".docx": "Word",
    ".xlsx": "Excel",
    ".txt": "TXT",
    ".pdf": "PDF",
    ".html": "HTML",
    ".htm": "HTML",
}


class ExtractionError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def extension(name: str) -> str:
    return os.path.splitext(name or "")[1].lower()


def check_supported(name: str) -> None:
    ext = extension(name)
    if ext == ".doc" or ext == ".xls":
        raise ExtractionError(_("不支持旧版Office格式（%(ext)s），请另存为%(ext)sx后上传") % {"ext": ext})
    if ext not in SUPPORTED:
        raise ExtractionError(
            _("不支持的附件类型（%(ext)s），支持：Word(.docx)、Excel(.xlsx)、TXT、PDF、HTML")
            % {"ext": ext or _("无扩展名")}
        )


def extract_text(name: str, data: bytes) -> str:
    """The attachment's plain text; raises ExtractionError with the reason when there is none."""
    check_supported(name)
    if len(data) > MAX_FILE_BYTES:
        raise ExtractionError(_("附件超过大小限制（%(mb)d MB）") % {"mb": MAX_FILE_BYTES // (1024 * 1024)})
    if not data:
        raise ExtractionError(_("附件是空文件"))
    ext = extension(name)
    handler = _HANDLERS[ext]
    try:
        text = handler(data)
    except ExtractionError:
        raise
    except (MemoryError, RecursionError) as exc:
        raise ExtractionError(
            _("附件内容过于复杂，无法解析（%(error)s）") % {"error": type(exc).__name__}
        ) from exc
    except Exception as exc:  # every parser has its own exceptions; all mean "cannot read this file"
        raise ExtractionError(
            _("%(kind)s文件已损坏或格式不正确，无法解析") % {"kind": SUPPORTED[ext]}
        ) from exc
    return text[:MAX_TEXT_CHARS]


# --------------------------------------------------------------------------- formats


def check_zip(data: bytes, kind: str) -> zipfile.ZipFile:
    if not data.startswith(b"PK\x03\x04"):
        raise ExtractionError(_("文件内容不是%(kind)s格式（扩展名与内容不符）") % {"kind": kind})
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise ExtractionError(_("%(kind)s文件已损坏，无法解析") % {"kind": kind}) from exc
    if len(members) > MAX_ZIP_MEMBERS:
        raise ExtractionError(_("%(kind)s文件内部文件过多，疑似压缩炸弹，已拒绝解析") % {"kind": kind})
    unpacked = sum(m.file_size for m in members)
    packed = max(1, sum(m.compress_size for m in members))
    if unpacked > MAX_UNZIPPED_BYTES or unpacked / packed > MAX_ZIP_RATIO:
        raise ExtractionError(
            _("%(kind)s文件解压后过大（%(mb)d MB），疑似压缩炸弹，已拒绝解析")
            % {"kind": kind, "mb": unpacked // (1024 * 1024)}
        )
    return archive


def _docx(data: bytes) -> str:
    check_zip(data, "Word")
    import docx

    document = docx.Document(io.BytesIO(data))
    parts: list[str] = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append("\t".join(cell.text for cell in row.cells))
    for section in document.sections:
        for paragraph in section.header.paragraphs:
            parts.append(paragraph.text)
        for paragraph in section.footer.paragraphs:
            parts.append(paragraph.text)
    return "\n".join(p for p in parts if p.strip())


def _xlsx(data: bytes) -> str:
    check_zip(data, "Excel")
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    lines: list[str] = []
    cells = 0
    try:
        for sheet in workbook.worksheets:
            lines.append(str(sheet.title))
            for row in sheet.iter_rows(values_only=True):
                cells += len(row)
                if cells > MAX_XLSX_CELLS:
                    raise ExtractionError(_("Excel文件单元格过多，已拒绝解析"))
                values = [str(v) for v in row if v is not None and str(v).strip()]
                if values:
                    lines.append("\t".join(values))
    finally:
        workbook.close()
    return "\n".join(lines)


def _pdf(data: bytes) -> str:
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise ExtractionError(_("文件内容不是PDF格式（扩展名与内容不符）"))
    import pypdf
    from pypdf.errors import PdfReadError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception as exc:
                raise ExtractionError(_("PDF文件已加密，无法提取文字")) from exc
        if len(reader.pages) > MAX_PDF_PAGES:
            raise ExtractionError(_("PDF页数过多（超过%(n)d页），已拒绝解析") % {"n": MAX_PDF_PAGES})
        parts: list[str] = []
        size = 0
        for page in reader.pages:
            text = page.extract_text() or ""
            parts.append(text)
            size += len(text)
            if size > MAX_TEXT_CHARS:
                break
    except PdfReadError as exc:
        raise ExtractionError(_("PDF文件已损坏，无法解析")) from exc
    text = "\n".join(parts).strip()
    if not text:
        raise ExtractionError(_("PDF中没有可提取的文字（可能是扫描件）"))
    return text


def decode_text(data: bytes) -> str:
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        return data.decode("utf-16")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ExtractionError(_("无法识别文本编码（支持UTF-8、GB18030/GBK、UTF-16）"))


def _txt(data: bytes) -> str:
    if b"\x00" in data[:4096] and not (data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff")):
        raise ExtractionError(_("文件内容不是文本（扩展名与内容不符）"))
    return decode_text(data)


def _html(data: bytes) -> str:
    if b"\x00" in data[:4096] and not (data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff")):
        raise ExtractionError(_("文件内容不是HTML（扩展名与内容不符）"))
    return html_to_text(decode_text(data))


_HANDLERS: dict[str, Callable[[bytes], str]] = {
    ".docx": _docx,
    ".xlsx": _xlsx,
    ".txt": _txt,
    ".pdf": _pdf,
    ".html": _html,
    ".htm": _html,
}
