"""The one place that bounds input before any view sees it (pages, API, admin; anonymous endpoints too).

Refused with 400 — never left for a view, a serializer or the database to fail on with a 500:
- NUL characters anywhere in the query string, a form or a JSON body (PostgreSQL refuses them in text);
- integers beyond 64 bits (a query or form value made only of digits, a JSON number);
- dates outside MIN_YEAR..MAX_YEAR (a value that is an ISO date or date-time: year 1 and 9999 overflow the
  working-day and time-zone arithmetic);
- JSON nested deeper than MAX_JSON_DEPTH, or that Python's parser cannot read.
Request sizes are bounded by Django's DATA_UPLOAD_MAX_* settings and the attachment limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

MAX_JSON_DEPTH = 32
MIN_YEAR, MAX_YEAR = 1900, 2199
INT64_MAX = 2**63 - 1
_INTEGER = re.compile(r"[+-]?\d+")
_DATE = re.compile(r"(\d{1,4})-\d{1,2}-\d{1,2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?")


class InputRejected(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def _beyond_int64(digits: str) -> bool:
    # Counted before converting: int() refuses strings of more than 4,300 digits (a ValueError, not a 400).
    significant = digits.lstrip("+-").lstrip("0")
    return len(significant) > 19 or (bool(significant) and int(significant) > INT64_MAX)


def check_text(field: str, value: str) -> None:
    if "\x00" in value:
        raise InputRejected(field, _("不能包含空字符（NUL）"))
    text = value.strip()
    if _INTEGER.fullmatch(text) and _beyond_int64(text):
        raise InputRejected(field, _("数值超出范围"))
    date = _DATE.fullmatch(text)
    if date and not MIN_YEAR <= int(date.group(1)) <= MAX_YEAR:
        raise InputRejected(
            field, _("日期超出范围（%(min)s–%(max)s 年）") % {"min": MIN_YEAR, "max": MAX_YEAR}
        )


def check_pairs(pairs: Iterable[tuple[str, str]]) -> None:
    for key, value in pairs:
        check_text(key, key)
        check_text(key, value)


def check_json(body: bytes) -> None:
    try:
        data = json.loads(body)
    except RecursionError as exc:
        raise InputRejected("body", _("JSON 嵌套过深")) from exc
    except ValueError:
        return  # not JSON: the parser of the view answers its own 400
    _walk(data, "body", 0)


def _walk(value: Any, field: str, depth: int) -> None:
    if depth > MAX_JSON_DEPTH:
        raise InputRejected(field, _("JSON 嵌套过深"))
    if isinstance(value, dict):
        for key, item in value.items():
            check_text(str(key), str(key))
            _walk(item, str(key) if depth == 0 else field, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _walk(item, field, depth + 1)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if abs(value) > INT64_MAX:
            raise InputRejected(field, _("数值超出范围"))
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise InputRejected(field, _("数值超出范围"))
    elif isinstance(value, str):
        check_text(field, value)
