"""Passing thousands of values to one PostgreSQL statement cheaply.

Django's psycopg cursor binds parameters on the client, and a Python list is quoted element by element in Python
(a large part of the deadline sweep's time). Instead each column travels as one string, quoted in C: integers
as an array literal (`%s::bigint[]`), anything else as a JSON array read back in SQL with `text_array_sql`
(`ARRAY(SELECT json_array_elements_text(%s::json))`, cast as needed: JSON null becomes SQL NULL).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable

# SQL reading a JSON array parameter as text[] (in order); cast it: `{TEXT_ARRAY}::timestamptz[]`.
TEXT_ARRAY = "ARRAY(SELECT json_array_elements_text(%s::json))"


def int_array(values: Iterable[int | None]) -> str:
    """An array literal of integers (None as NULL), for `%s::bigint[]`."""
    return "{" + ",".join("NULL" if v is None else str(int(v)) for v in values) + "}"


def json_array(values: Iterable[str | dt.datetime | None]) -> str:
    """A JSON array of strings (datetimes in ISO format), for `TEXT_ARRAY`."""
    return json.dumps(
        [v.isoformat() if isinstance(v, dt.datetime) else v for v in values], ensure_ascii=False
    )
