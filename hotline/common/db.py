"""Database helpers shared by the packages."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.db import connection, models


def copy_insert(model: type[models.Model], rows: Sequence[models.Model]) -> int:
    """Insert many rows fast: COPY on PostgreSQL (no ids come back), bulk_create elsewhere.

    For write-only rows such as timeline events and outbox messages written by the sweep.
    """
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        model.objects.bulk_create(rows, batch_size=1000)  # type: ignore[attr-defined]
        return len(rows)
    fields = [f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)]
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([_plain(f, getattr(row, f.attname)) for f in fields])
    return len(rows)


def _plain(field: models.Field[Any, Any], value: Any) -> Any:
    if isinstance(field, models.JSONField):
        return json.dumps(value, ensure_ascii=False)
    return value


class JoinedText(models.Aggregate):
    """Comma-joined text of a column over a group: string_agg on PostgreSQL, group_concat on SQLite."""

    function = "string_agg"
    template = "%(function)s(%(expressions)s, ',')"
    output_field = models.TextField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, function="group_concat", **extra)
