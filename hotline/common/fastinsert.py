"""Inserting new rows with their INSERT compiled once per process (issue 12: the intake's hot inserts).

`Model.save()` / `objects.create()` / `bulk_create()` build a new `InsertQuery`, a compiler and the whole SQL
text on every call; for the 52-column case row that compilation cost more CPU than the database spent on the
row. `fast_insert(obj)` and `fast_insert_many(objs)` write the same row(s): the SQL is compiled by Django's own
compiler the first time a shape is seen — per (model, column set, which columns take their database default,
number of rows, connection vendor) — and afterwards only the values are prepared, exactly as Django prepares
them: each field's `pre_save(obj, add=True)` then `get_db_prep_save(value, connection)`; a field left at its
`db_default` is written as the database default (`DEFAULT` on PostgreSQL, the compiled expression on SQLite).
The primary key and the other `db_returning` fields come back through RETURNING where the database supports it
(PostgreSQL, SQLite ≥ 3.35), else through the cursor's last row id; their values go through the same converters
as the ORM's. The instances end as `save()` leaves them (`_state.adding = False`, `_state.db` set).

What it does NOT do: send `pre_save` / `post_save` (a caller on a model with receivers sends them itself, as
`cases.services.core._events_together` does for `CaseEvent`), run a model's own `save()` override, handle
multi-table inheritance, `order_with_respect_to`, expressions other than `DatabaseDefault` as values, or fields
with their own placeholder SQL (`get_placeholder`): those raise `TypeError` — use the ORM. For the few inserts
written on every create, not for general use (tests/common/test_fastinsert.py holds it to the ORM's rows).
"""

from __future__ import annotations

import threading
import types
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections, models, router, transaction
from django.db.models.expressions import Col, DatabaseDefault
from django.db.models.sql import InsertQuery


@dataclass(frozen=True)
class _Plan:
    sql: str
    # Per field of a row, the params of a field left at its database default (None: the field's own value).
    default_params: tuple[tuple[Any, ...] | None, ...]
    returning: tuple[models.Field[Any, Any], ...]  # fields whose values come back, in order
    returning_cols: tuple[Col, ...]
    fetch: str  # "rows" (RETURNING, several rows), "row" (RETURNING, one row), "lastrowid" or "" (nothing)
    # PostgreSQL's multi-row insert of plain values: `SELECT * FROM UNNEST(%s::type[], …)`, one array per column.
    unnest: bool = False


@dataclass(frozen=True)
class _ModelInfo:
    with_pk: tuple[models.Field[Any, Any], ...]  # the columns an insert writes when the primary key is set
    without_pk: tuple[models.Field[Any, Any], ...]  # … and when the database gives it (no auto field)


_PLANS: dict[tuple[Any, ...], _Plan] = {}
_MODELS: dict[type[models.Model], _ModelInfo] = {}
_LOCK = threading.Lock()


def fast_insert(obj: models.Model, *, using: str | None = None) -> None:
    """Insert `obj` as `obj.save(force_insert=True)` would (the same row, its pk and database-returned fields
    set on it), without the model's save signals. See the module's docstring for what it refuses."""
    _insert([obj], using=using, operation="save")


def fast_insert_many(objs: Sequence[models.Model], *, using: str | None = None) -> None:
    """Insert `objs` (one model, all with or all without a primary key) in one statement as
    `Model.objects.bulk_create(objs)` would, their pks set where the database returns them."""
    if objs:
        _insert(objs, using=using, operation="bulk_create")


def _model_info(model: type[models.Model]) -> _ModelInfo:
    info = _MODELS.get(model)
    if info is None:
        meta = model._meta
        if meta.parents or meta.order_with_respect_to or meta.proxy:
            raise TypeError(f"fast_insert: {meta.label} has parents or an order: use save()")
        fields = [f for f in meta.local_concrete_fields if not f.generated]
        if any(getattr(f, "get_placeholder", None) is not None for f in fields):
            raise TypeError(f"fast_insert: a field of {meta.label} has its own placeholder: use save()")
        info = _ModelInfo(
            with_pk=tuple(fields), without_pk=tuple(f for f in fields if f is not meta.auto_field)
        )
        _MODELS[model] = info
    return info


def _insert(objs: Sequence[models.Model], *, using: str | None, operation: str) -> None:
    model = type(objs[0])
    if any(type(obj) is not model for obj in objs):
        raise TypeError("fast_insert: all rows must be of one model")
    meta = model._meta
    info = _model_info(model)
    alias = using or router.db_for_write(model, instance=objs[0])
    connection = connections[alias]
    pk_set = None
    obj: Any  # the Model's private API save() and bulk_create() use
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name=operation)
        if not obj._is_pk_set(meta):
            setattr(obj, meta.pk.attname, meta.pk.get_pk_value_on_save(obj))
        this = obj._is_pk_set(meta)
        if pk_set is not None and this != pk_set:
            raise TypeError("fast_insert_many: all rows with a primary key or none")
        pk_set = this
    fields = info.with_pk if pk_set else info.without_pk
    values: list[list[Any]] = []  # prepared for the database
    saved: list[list[Any]] = []  # as `pre_save` gave them (for a first compilation)
    mask: list[bool] = []  # per slot: left at the database default
    for obj in objs:
        row, pre = [], []
        for field in fields:
            value = field.pre_save(obj, add=True)
            pre.append(value)
            if hasattr(value, "resolve_expression"):
                if not isinstance(value, DatabaseDefault):
                    raise TypeError(f"fast_insert: {field.name} holds an expression: use save()")
                mask.append(True)
            else:
                value = field.get_db_prep_save(value, connection)
                mask.append(False)
            row.append(value)
        values.append(row)
        saved.append(pre)
    key = (model, connection.vendor, pk_set, len(objs), tuple(mask))
    plan = _PLANS.get(key)
    if plan is None:
        plan = _compile(model, fields, saved, connection)
        with _LOCK:
            _PLANS.setdefault(key, plan)
    params: list[Any] = []
    if plan.unnest:
        params = [list(column) for column in zip(*values, strict=True)]
    else:
        slot = 0
        defaults = plan.default_params
        for row in values:
            for value in row:
                default = defaults[slot]
                if default is None:
                    params.append(value)
                else:
                    params.extend(default)
                slot += 1
    ops: Any = connection.ops
    with transaction.mark_for_rollback_on_error(using=alias), connection.cursor() as cursor:
        cursor.execute(plan.sql, params)
        if plan.fetch == "rows":
            returned = list(ops.fetch_returned_insert_rows(cursor))
        elif plan.fetch == "row":
            returned = [ops.fetch_returned_insert_columns(cursor, ())]
        elif plan.fetch == "lastrowid":
            auto = plan.returning[0]
            returned = [(ops.last_insert_id(cursor, meta.db_table, auto.column),)]
        else:
            returned = []
    if returned:
        returned = _converted(returned, plan, connection)
    for obj, row_back in zip(objs, returned, strict=False):
        for field, value in zip(plan.returning, row_back, strict=True):
            setattr(obj, field.attname, value)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = alias


def _compile(
    model: type[models.Model],
    fields: Sequence[models.Field[Any, Any]],
    values: list[list[Any]],
    connection: Any,
) -> _Plan:
    """The INSERT Django's compiler writes for these rows (`values` as `pre_save` gave them: the SQL depends on
    their shape, not on them), and what a later insert of the same shape needs besides its values."""
    meta = model._meta
    features = connection.features
    query = InsertQuery(model)
    # Stand-in rows holding the values as `pre_save` gave them (raw: the compiler reads the attributes as they are
    # and prepares them as always); a default slot keeps its `DatabaseDefault`.
    stand_ins: list[Any] = [
        types.SimpleNamespace(**{f.attname: v for f, v in zip(fields, row, strict=True)}) for row in values
    ]
    query.insert_values(fields, stand_ins, raw=True)
    compiler = query.get_compiler(connection=connection)
    returning: tuple[models.Field[Any, Any], ...] = tuple(meta.db_returning_fields)
    many = len(values) > 1
    if many and not features.can_return_rows_from_bulk_insert:
        raise TypeError("fast_insert_many: this database cannot return the rows of a multi-row insert")
    if returning and features.can_return_columns_from_insert:
        compiler.returning_fields = list(returning)
        fetch = "rows" if many else "row"
    elif returning and isinstance(returning[0], models.AutoField) and not many:
        returning, fetch = returning[:1], "lastrowid"
    else:
        returning, fetch = (), ""
    statements = compiler.as_sql()
    if len(statements) != 1 or compiler.returning_params:
        raise TypeError("fast_insert: this database needs more than one plain statement per insert")
    ((sql, compiled_params),) = statements
    # How the compiler laid the values out (as in its `as_sql`): one param per value, or one array per column.
    prepared = [
        [compiler.prepare_value(f, compiler.pre_save_val(f, obj)) for f in fields] for obj in query.objs
    ]
    placeholder_rows, _params = compiler.assemble_as_sql(fields, prepared)
    if type(placeholder_rows).__name__ == "InsertUnnest":  # django.db.backends.postgresql.compiler
        if len(compiled_params) != len(fields):  # pragma: no cover - Django's layout changed
            raise TypeError(f"fast_insert: {meta.label}'s multi-row insert binds its values otherwise")
        return _Plan(
            sql=sql,
            default_params=(),
            returning=returning,
            returning_cols=tuple(f.get_col(meta.db_table) for f in returning),
            fetch=fetch,
            unnest=True,
        )
    if len(values) > connection.ops.bulk_batch_size(list(fields), values):
        raise TypeError("fast_insert_many: too many rows for one statement on this database")
    defaults: list[tuple[Any, ...] | None] = []
    for row in values:
        for field, value in zip(fields, row, strict=True):
            if isinstance(value, DatabaseDefault):
                resolved = compiler.prepare_value(field, value)
                _sql, params = compiler.field_as_sql(field, None, resolved)
                defaults.append(tuple(params))
            else:
                defaults.append(None)
    expected = sum(1 if d is None else len(d) for d in defaults)
    if expected != len(compiled_params):  # pragma: no cover - a field the ORM binds otherwise than one value
        raise TypeError(f"fast_insert: {meta.label}'s insert binds its values otherwise: use save()")
    return _Plan(
        sql=sql,
        default_params=tuple(defaults),
        returning=returning,
        returning_cols=tuple(f.get_col(meta.db_table) for f in returning),
        fetch=fetch,
    )


def _converted(rows: list[Any], plan: _Plan, connection: Any) -> list[list[Any]]:
    """The returned values through the backend's and the fields' converters, as the ORM's insert applies them."""
    converters = []
    for pos, (field, col) in enumerate(zip(plan.returning, plan.returning_cols, strict=True)):
        convs = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
        if convs:
            converters.append((pos, convs, col))
    result = [list(row) for row in rows]
    for row in result:
        for pos, convs, col in converters:
            value = row[pos]
            for converter in convs:
                value = converter(value, col, connection)
            row[pos] = value
    return result
