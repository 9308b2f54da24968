"""The audit log is append-only in the database itself: triggers refuse UPDATE and DELETE of its rows, so a bulk
`update()`/`delete()`, a raw statement or a bug cannot rewrite history (the model's save/delete guard only covers
one instance at a time).

Emptying the whole database on purpose (`manage.py flush`, used by transactional tests) still works: PostgreSQL
flushes with TRUNCATE, which row triggers do not see; on SQLite the flush drops the triggers around its DELETEs
(hotline/common/sqlite/base.py).
"""

from __future__ import annotations

TABLE = "common_auditlog"
MESSAGE = "audit log is append-only"

POSTGRESQL_CREATE = [
    f"""
    CREATE OR REPLACE FUNCTION hotline_audit_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation';
    END;
    $$ LANGUAGE plpgsql;
    """,
    f"""
    CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION hotline_audit_append_only();
    """,
]
POSTGRESQL_DROP = [
    f"DROP TRIGGER IF EXISTS audit_append_only ON {TABLE};",
    "DROP FUNCTION IF EXISTS hotline_audit_append_only();",
]

SQLITE_CREATE = [
    f"CREATE TRIGGER audit_no_update BEFORE UPDATE ON {TABLE} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
    f"CREATE TRIGGER audit_no_delete BEFORE DELETE ON {TABLE} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS audit_no_update;", "DROP TRIGGER IF EXISTS audit_no_delete;"]


def create_statements(vendor: str) -> list[str]:
    return {"postgresql": POSTGRESQL_CREATE, "sqlite": SQLITE_CREATE}.get(vendor, [])


def drop_statements(vendor: str) -> list[str]:
    return {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP}.get(vendor, [])
