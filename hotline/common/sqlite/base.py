"""Django's SQLite backend, except that flushing the database drops the audit log's append-only triggers around
its DELETE statements (PostgreSQL flushes with TRUNCATE, which row triggers do not see)."""

from __future__ import annotations

from typing import Any

from django.db.backends.sqlite3 import base, operations

from hotline.common import appendonly


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(
        self, style: Any, tables: Any, *, reset_sequences: bool = False, allow_cascade: bool = False
    ) -> Any:
        statements = super().sql_flush(
            style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        if appendonly.TABLE not in tables or not statements:
            return statements
        return [*appendonly.SQLITE_DROP, *statements, *appendonly.SQLITE_CREATE]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
