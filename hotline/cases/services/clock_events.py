"""What the deadline sweep asks of the case package, in bulk: timeline events for the alerts it raised, the
overdue mark (`OverdueMark`) with its audit rows, and the case headlines its messages quote.

`cases` stays the only writer of its tables. Flagging cases overdue writes one audit row per call listing the cases
flagged (`changes["cases"]`), not one per case: the timeline event of each card is the case's own record. The sweep calls these inside its batch transaction, with
thousands of rows at a time, so on PostgreSQL each is one set-based statement (arrays unnested into
`INSERT … SELECT` / `UPDATE … RETURNING`); elsewhere the ORM's bulk operations do the same.

On PostgreSQL the sweep keeps its batch in the database (a temporary table) and passes the `…_from` entry points a
SELECT over it instead of arrays: the rows never travel through Python. The SELECT is the caller's own SQL (never
user input), with its parameters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

from hotline.common.models import AuditLog
from hotline.common.pgarrays import TEXT_ARRAY, int_array, json_array

from ..lifecycle import Action
from ..models import Case, CaseEvent, OverdueMark

# `Action`: the timeline actions the sweep records (SLA_WARNING …), so that sla needs no import of the lifecycle.
__all__ = [
    "Action",
    "ClockEvent",
    "case_headlines",
    "mark_overdue",
    "mark_overdue_from",
    "record_clock_events",
    "record_clock_events_from",
]

OVERDUE_SUMMARY = "时限到期，标记为超期"


@dataclass(frozen=True)
class ClockEvent:
    """One timeline event raised by a deadline (a warning, a yellow or red card, a reminder)."""

    case_id: int
    unit_id: int | None
    assignment_id: int | None
    action: str
    opinion: str


def case_headlines(*, case_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """Number and title of each case, for the sweep's messages (a system read: no user, no scope)."""
    return {
        pk: (number, title)
        for pk, number, title in Case.objects.filter(pk__in=set(case_ids)).values_list(
            "pk", "number", "title"
        )
    }


def record_clock_events(*, events: Sequence[ClockEvent], at: dt.datetime) -> int:
    """Write one timeline event per alert, in the status each case has now. Call inside a transaction."""
    if not events:
        return 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO cases_caseevent
                    (case_id, at, actor_id, unit_id, assignment_id, action, from_status, to_status, opinion, data)
                SELECT v.case_id, %s, NULL, v.unit_id, v.assignment_id, v.action, c.status, c.status, v.opinion,
                       '{{}}'::jsonb
                FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], {TEXT_ARRAY}, {TEXT_ARRAY})
                     AS v(case_id, unit_id, assignment_id, action, opinion)
                JOIN cases_case c ON c.id = v.case_id
                """,
                [
                    at,
                    int_array(e.case_id for e in events),
                    int_array(e.unit_id for e in events),
                    int_array(e.assignment_id for e in events),
                    json_array(e.action for e in events),
                    json_array(e.opinion for e in events),
                ],
            )
            return int(cursor.rowcount)
    status = dict(Case.objects.filter(pk__in={e.case_id for e in events}).values_list("pk", "status"))
    rows = [
        CaseEvent(
            case_id=e.case_id,
            at=at,
            unit_id=e.unit_id,
            assignment_id=e.assignment_id,
            action=e.action,
            from_status=status[e.case_id],
            to_status=status[e.case_id],
            opinion=e.opinion,
        )
        for e in events
        if e.case_id in status
    ]
    CaseEvent.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def record_clock_events_from(*, rows: str, params: Sequence[Any], at: dt.datetime) -> int:
    """PostgreSQL: `record_clock_events` for the rows of a SELECT yielding (case_id, unit_id, assignment_id,
    action, opinion). Call inside a transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO cases_caseevent
                (case_id, at, actor_id, unit_id, assignment_id, action, from_status, to_status, opinion, data)
            SELECT v.case_id, %s, NULL, v.unit_id, v.assignment_id, v.action, c.status, c.status, v.opinion,
                   '{{}}'::jsonb
            FROM ({rows}) AS v(case_id, unit_id, assignment_id, action, opinion)
            JOIN cases_case c ON c.id = v.case_id
            ORDER BY v.case_id
            """,
            [at, *params],
        )
        return int(cursor.rowcount)


def mark_overdue_from(*, case_ids: str, params: Sequence[Any], at: dt.datetime) -> int:
    """PostgreSQL: `mark_overdue` for the case ids a SELECT yields; returns how many were marked now.

    One narrow row per case (`OverdueMark`), inserted in case id order with ON CONFLICT DO NOTHING: a case marked
    before, or by an overlapping sweep, is skipped (an overlapping sweep's uncommitted row is waited for, then
    skipped), and two sweeps inserting overlapping cases in the same order cannot deadlock. The wide case row
    is not touched."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH marked AS (
                INSERT INTO cases_overduemark (case_id, at)
                SELECT DISTINCT v.case_id, %s::timestamptz FROM ({case_ids}) AS v(case_id) ORDER BY v.case_id
                ON CONFLICT (case_id) DO NOTHING
                RETURNING case_id
            ), audited AS (
                INSERT INTO common_auditlog (at, actor_id, action, object_type, object_id, summary, changes)
                SELECT statement_timestamp(), NULL, %s, %s, '', %s,
                       jsonb_build_object(
                           'is_overdue', '[false, true]'::jsonb, 'cases', jsonb_agg(case_id ORDER BY case_id))
                FROM marked HAVING count(*) > 0
            )
            SELECT count(*) FROM marked
            """,
            [at, *params, AuditLog.Action.UPDATE, Case._meta.label_lower, OVERDUE_SUMMARY],
        )
        row = cursor.fetchone()
        return int(row[0]) if row else 0


def mark_overdue(*, case_ids: Sequence[int], at: dt.datetime) -> list[int]:
    """Mark cases overdue (those not marked yet) with one audit row listing them; returns the cases marked now.
    The audit row keeps the shape it had when the mark was a column of the case (`is_overdue` false → true)."""
    if not case_ids:
        return []
    ids = sorted(set(case_ids))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO cases_overduemark (case_id, at) SELECT id, %s FROM unnest(%s::bigint[]) AS id "
                "ORDER BY id ON CONFLICT (case_id) DO NOTHING RETURNING case_id",
                [at, int_array(ids)],
            )
            fresh = sorted(row[0] for row in cursor.fetchall())
    else:
        marked = set(OverdueMark.objects.filter(case_id__in=ids).values_list("case_id", flat=True))
        existing = set(Case.objects.filter(pk__in=ids).values_list("pk", flat=True))
        fresh = [pk for pk in ids if pk in existing and pk not in marked]
        OverdueMark.objects.bulk_create([OverdueMark(case_id=pk, at=at) for pk in fresh])
    if fresh:
        AuditLog.objects.create(
            action=AuditLog.Action.UPDATE,
            object_type=Case._meta.label_lower,
            object_id="",
            summary=OVERDUE_SUMMARY,
            changes={"is_overdue": [False, True], "cases": sorted(fresh)},
        )
    return sorted(fresh)
