"""The deadline sweep: find clocks whose next threshold has passed, raise alerts, notify, move on.

Idempotent and safe to run concurrently: an alert is unique per clock and kind, and a sweep notifies only
about the alerts it inserted itself. Each batch commits on its own, so a crash loses at most the batch in
flight, which the next sweep redoes. On PostgreSQL, concurrent sweeps skip each other's rows.

Built for the morning after a long holiday, when a whole city's deadlines fall due together: due clocks are
read in index order in chunks from where the previous chunk ended (keyset, no sort of every due clock), each
chunk is worked through in id order in batches. On PostgreSQL a batch never leaves the database: one statement
locks its clocks, moves them on (noting a yellow card on the clock itself) and inserts their alerts with
ON CONFLICT DO NOTHING into a temporary table of the alerts it raised; from that table the timeline events and
overdue flags (through `cases`' bulk entry points) are written, one statement each, and the alerts are counted
per unit, stage and kind. Elsewhere (SQLite) the batch is read into Python and the same rows are written with
the ORM (`_take`, `_process`). Notices are not per alert: once its batches are done a sweep sends one per
audience, stage and kind (`_notify`; a digest naming the count and linking to the cases when there are several),
and a sweep that died before that is announced by the next one (`_notify_abandoned`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import queue
import threading
import uuid
from collections import defaultdict
from collections.abc import Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.db import DatabaseError, connection, connections, transaction
from django.db.models import Count, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from hotline.cases.services import (
    Action,
    ClockEvent,
    case_headlines,
    mark_overdue,
    mark_overdue_from,
    record_clock_events,
    record_clock_events_from,
)
from hotline.common import clock as wall_clock
from hotline.common.formats import chinese_datetime
from hotline.common.pgarrays import TEXT_ARRAY, int_array, json_array
from hotline.notify.fanout import Reach, Rendered, queue_fanout, reach
from hotline.notify.models import MessageTemplate
from hotline.notify.services import active_templates, render
from hotline.orgs.models import Unit, UnitKind, User

from .models import Alert, AlertKind, Clock, EscalationRule, Stage, SweepRun

EVENT_OF_KIND: dict[str, str] = {
    AlertKind.WARNING: Action.SLA_WARNING,
    AlertKind.YELLOW: Action.SLA_YELLOW,
    AlertKind.RED: Action.SLA_RED,
    AlertKind.REMINDER: Action.SLA_REMINDER,
}
TEMPLATE_OF_KIND = {kind: f"sla_{kind}" for kind in AlertKind.values}
# Kinds that announce a deadline still ahead ("将于…到期", "请在…前办结"): stale once the deadline has passed.
BEFORE_DEADLINE = frozenset({AlertKind.WARNING, AlertKind.REMINDER})


@dataclass
class SweepResult:
    clocks: int = 0
    alerts: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def due_kinds(clock: Clock, now: dt.datetime, raised: set[str]) -> list[str]:
    """Which alerts this clock owes now.

    A warning (or a reminder) is owed only while its deadline is still ahead: once the deadline has passed it
    is never sent, whether or not a sweep ran between the warning time and the deadline, and whether or not
    the yellow card was raised in the same sweep or an earlier one.
    """
    moments = {
        AlertKind.REMINDER: clock.remind_at,
        AlertKind.WARNING: clock.warn_at,
        AlertKind.YELLOW: clock.due_at,
        AlertKind.RED: clock.red_at,
    }
    deadline_passed = clock.due_at <= now
    return [
        kind
        for kind, moment in moments.items()
        if moment is not None
        and moment <= now
        and kind not in raised
        and not (deadline_passed and kind in BEFORE_DEADLINE)
    ]


def next_check(clock: Clock, now: dt.datetime) -> dt.datetime | None:
    """The next threshold after `now`: everything at or before it is raised now, raised before, or stale."""
    moments = (clock.remind_at, clock.warn_at, clock.due_at, clock.red_at)
    return min((m for m in moments if m is not None and m > now), default=None)


class Recipients:
    """Who hears of an alert, per unit and rule, cached for the length of one sweep."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self._by_unit_role: dict[tuple[int, str], list[User]] = {}
        self._audiences: dict[Hashable, list[Reach]] = {}
        self._lock = threading.RLock()  # a sweep's worker threads share the cache
        office = Unit.objects.filter(kind=UnitKind.OFFICE, is_active=True).first()
        self.office_id = office.pk if office else None

    def users(self, unit_id: int | None, roles: list[str]) -> list[User]:
        if unit_id is None:
            return []
        self.load()
        found: list[User] = []
        for role in roles:
            found += [u for u in self._by_unit_role.get((unit_id, role), []) if u not in found]
        return found

    def load(self) -> None:
        """Every active user with a role, in one query for the whole sweep (on first use)."""
        with self._lock:
            if self._by_unit_role:
                return
            by_unit_role: dict[tuple[int, str], list[User]] = {(0, ""): []}
            for user in User.objects.filter(is_active=True, unit__isnull=False).prefetch_related("roles"):
                for role in {r.role for r in user.roles.all()}:
                    by_unit_role.setdefault((user.unit_id, role), []).append(user)  # type: ignore[arg-type]
            self._by_unit_role = by_unit_role

    def audience(self, unit: Unit | None, rule: EscalationRule) -> Hashable:
        """A key for the users (and channels) an alert of this rule on this unit reaches."""
        key = (unit.pk if unit else None, rule.pk)
        if key not in self._audiences:
            with self._lock:
                users = self.users(unit.pk if unit else None, rule.recipient_roles)
                if rule.notify_parent_unit and unit is not None:
                    users += [u for u in self.users(unit.parent_id, rule.recipient_roles) if u not in users]
                self._audiences[key] = reach(users=users, channels=rule.channels or [], now=self.now)
        return key

    def members(self, key: Hashable) -> list[Reach]:
        return self._audiences.get(key, [])

    @property
    def audiences(self) -> dict[Hashable, list[Reach]]:
        """A copy: other worker threads of the sweep may add audiences meanwhile."""
        with self._lock:
            return dict(self._audiences)


Group = tuple[int | None, str, str]  # the alerts' unit, the clock's stage, the alert's kind


@dataclass
class Tally:
    """How many alerts of one group a sweep raised, the lowest case id and the earliest deadline among them
    (for a lone alert, its case and deadline: its notice names the case)."""

    count: int
    case_id: int
    due_at: dt.datetime

    def add(self, other: Tally) -> None:
        self.count += other.count
        self.case_id = min(self.case_id, other.case_id)
        self.due_at = min(self.due_at, other.due_at)


def _add_tally(into: dict[Group, Tally], group: Group, tally: Tally) -> None:
    if group in into:
        into[group].add(tally)
    else:
        into[group] = Tally(tally.count, tally.case_id, tally.due_at)


@dataclass
class SweepContext:
    now: dt.datetime
    run_id: str
    rules: dict[tuple[str, str], EscalationRule]
    recipients: Recipients
    templates: dict[str, MessageTemplate]
    units: dict[int, Unit] = field(default_factory=dict)
    dates: dict[dt.datetime, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)  # guards the result across worker threads
    # What the committed batches raised, per unit, stage and kind: the notices sent at the end (`_notify`).
    tally: dict[Group, Tally] = field(default_factory=dict)

    @property
    def in_sql(self) -> bool:
        """On PostgreSQL a batch stays in the database from start to end."""
        return connection.vendor == "postgresql"

    @property
    def yellow_stages(self) -> list[str]:
        """The stages whose clocks get a yellow card (an active rule): the sweep marks the clock as it raises it."""
        return sorted(stage for stage, kind in self.rules if kind == AlertKind.YELLOW)

    def load_units(self, unit_ids: set[int]) -> None:
        missing = {pk for pk in unit_ids if pk not in self.units}
        if missing:
            self.units.update(
                {u.pk: u for u in Unit.objects.filter(pk__in=missing).only("id", "name", "parent_id")}
            )

    def unit(self, unit_id: int | None) -> Unit | None:
        if unit_id is None:
            return None
        if unit_id not in self.units:
            self.load_units({unit_id})
        return self.units.get(unit_id)

    def date(self, moment: dt.datetime) -> str:
        key = moment.replace(second=0, microsecond=0)  # the text shows minutes
        text = self.dates.get(key)
        if text is None:
            if len(self.dates) > 100_000:  # deadlines repeat (office hours); keep the cache bounded anyway
                self.dates.clear()
            text = self.dates[key] = chinese_datetime(moment)
        return text


@dataclass
class DueClock:
    """A clock of the batch with what its alerts need (read in the statement that moved it on): its deadline
    and the kinds it owes now (`due_kinds`, computed in that statement on PostgreSQL)."""

    id: int
    case_id: int
    assignment_id: int | None
    stage: str
    due_at: dt.datetime
    unit_id: int | None
    kinds: list[str]


# The kinds a clock owes, as bits computed in SQL (in `due_kinds`' order: reminder, warning, yellow, red).
KIND_BITS = [
    (1, AlertKind.REMINDER),
    (2, AlertKind.WARNING),
    (4, AlertKind.YELLOW),
    (8, AlertKind.RED),
]
KINDS_OF_MASK = [[kind for bit, kind in KIND_BITS if mask & bit] for mask in range(16)]


CHUNK = 50_000  # due clocks read from the index at a time, then locked and processed in batches in id order


def sweep(*, now: dt.datetime | None = None, batch_size: int = 2000, workers: int = 1) -> SweepResult:
    """Raise every alert owed at `now`. With `workers` > 1 (PostgreSQL only), that many threads, each on its own
    connection, work through the batches of each chunk side by side (they lock disjoint clocks, as overlapping
    sweeps do); the first error is raised once the others have finished their batches."""
    now = now or wall_clock.now()
    run_id = uuid.uuid4().hex
    rules = {(r.stage, r.kind): r for r in EscalationRule.objects.filter(is_active=True)}
    templates = active_templates()
    context = SweepContext(
        now=now, run_id=run_id, rules=rules, recipients=Recipients(now), templates=templates
    )
    result = SweepResult()
    # Held before the run row exists: another sweep never takes a run being started for one left behind.
    _hold(run_id, True)
    try:
        run = SweepRun.objects.create(run_id=run_id, now=now, started_at=wall_clock.now())
        _sweep_run(context, run, result, batch_size, workers)
    finally:
        with contextlib.suppress(DatabaseError):  # if the connection is gone, its lock went with it
            _hold(run_id, False)
    return result


def _sweep_run(
    context: SweepContext, run: SweepRun, result: SweepResult, batch_size: int, workers: int
) -> None:
    now = context.now
    failed = True
    try:
        _notify_abandoned(context, run)
        after: tuple[dt.datetime, int] | None = None
        while True:
            chunk, after = _due_chunk(now, after)
            if not chunk:
                break
            # Clocks are created in time order, as are their cases and assignments: working through a chunk in
            # id order reads and writes neighbouring rows together instead of jumping across the tables.
            chunk.sort()
            batches = [chunk[start : start + batch_size] for start in range(0, len(chunk), batch_size)]
            if workers > 1 and connection.vendor == "postgresql" and len(batches) > 1:
                _in_threads(batches, workers, context, result)
            else:
                for ids in batches:
                    _batch(ids, context, result)
        failed = False
    finally:
        # The notices of what the committed batches raised, also when a batch failed (its own alerts were
        # rolled back with it; the next sweep raises them). If this fails too, the next sweep sends them.
        try:
            _notify(context, run, context.tally)
        except Exception:
            if not failed:
                raise


def _batch(ids: list[int], context: SweepContext, result: SweepResult) -> None:
    tally: dict[Group, Tally] = {}
    with transaction.atomic():
        _relax_commit()
        if context.in_sql:
            _batch_in_sql(ids, context, result, tally)
        else:
            clocks = _take(context.now, ids, context.recipients.office_id, context.yellow_stages)
            if clocks:
                _process(clocks, context, result, tally)
    with context.lock:  # committed: its alerts are this sweep's to announce
        for group, counted in tally.items():
            _add_tally(context.tally, group, counted)


def _in_threads(batches: list[list[int]], workers: int, context: SweepContext, result: SweepResult) -> None:
    context.recipients.load()  # before the threads share it
    pending: queue.SimpleQueue[list[int]] = queue.SimpleQueue()
    for ids in batches:
        pending.put(ids)

    def drain() -> None:
        try:
            while True:
                try:
                    ids = pending.get_nowait()
                except queue.Empty:
                    return
                _batch(ids, context, result)
        finally:
            connections.close_all()  # this thread's connection

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(drain) for _ in range(workers)]
    for future in futures:
        future.result()


def _relax_commit() -> None:
    """Do not wait for the batch's commit to reach the disk (PostgreSQL's `synchronous_commit = off`, this
    transaction only). A server crash may then forget the last batches committed, as a whole (clocks moved on,
    alerts, events, messages and flags together): the next sweep finds those clocks still due and redoes them,
    as it does for a batch in flight. The window is the WAL writer's delay (under a second). No SMS can be sent
    twice through it: a notice is sent only after delivery has expanded it into member messages and committed that
    with the default synchronous commit, whose flush covers all earlier WAL — the sweep's batch included — so a
    batch whose notice was sent is never forgotten. No alert is ever recorded twice. Waiting for each flush was a
    large share of a big sweep's time."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def _due_chunk(
    now: dt.datetime, after: tuple[dt.datetime, int] | None
) -> tuple[list[int], tuple[dt.datetime, int] | None]:
    """The next CHUNK due clocks in index order (next_alert_at, id) after `after`, without locking them."""
    due = Clock.objects.filter(stopped_at__isnull=True, next_alert_at__lte=now)
    if after is not None:
        due = due.filter(Q(next_alert_at__gt=after[0]) | Q(next_alert_at=after[0], id__gt=after[1]))
    rows = list(due.order_by("next_alert_at", "id").values_list("next_alert_at", "id")[:CHUNK])
    if not rows:
        return [], after
    last_at, last_id = rows[-1]
    assert last_at is not None  # filtered on next_alert_at <= now
    return [pk for _, pk in rows], (last_at, last_id)


def _take(
    now: dt.datetime, ids: list[int], office_id: int | None, yellow_stages: list[str]
) -> list[DueClock]:
    """Lock those of `ids` still due (a concurrent sweep's rows are skipped, its finished ones no longer
    match), move each to its next threshold, note the moment of its yellow card if it gets one now (the alert
    itself is inserted next, in the same transaction), and return them with what their alerts need."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                """
                WITH picked AS (
                    SELECT id FROM sla_clock
                    WHERE id = ANY(%(ids)s::bigint[]) AND stopped_at IS NULL AND next_alert_at <= %(now)s
                    ORDER BY id
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE sla_clock c SET next_alert_at = LEAST(
                        CASE WHEN c.remind_at > %(now)s THEN c.remind_at END,
                        CASE WHEN c.warn_at > %(now)s THEN c.warn_at END,
                        CASE WHEN c.due_at > %(now)s THEN c.due_at END,
                        CASE WHEN c.red_at > %(now)s THEN c.red_at END),
                    yellow_at = CASE WHEN c.yellow_at IS NULL AND c.due_at <= %(now)s
                                          AND c.stage = ANY(%(yellow)s::text[]) THEN %(now)s
                                     ELSE c.yellow_at END
                FROM picked WHERE c.id = picked.id
                RETURNING c.id, c.case_id, c.assignment_id, c.stage, c.due_at, COALESCE(c.unit_id, %(office)s),
                    -- due_kinds(): a reminder or a warning only while the deadline is still ahead
                    CASE WHEN c.remind_at <= %(now)s AND c.due_at > %(now)s THEN 1 ELSE 0 END
                    + CASE WHEN c.warn_at <= %(now)s AND c.due_at > %(now)s THEN 2 ELSE 0 END
                    + CASE WHEN c.due_at <= %(now)s THEN 4 ELSE 0 END
                    + CASE WHEN c.red_at <= %(now)s THEN 8 ELSE 0 END
                """,
                {
                    "now": now,
                    "ids": int_array(ids),
                    "office": office_id,
                    "yellow": "{" + ",".join(yellow_stages) + "}",
                },
            )
            rows = sorted(cursor.fetchall())
            return [
                DueClock(pk, case_id, assignment_id, stage, due_at, unit_id, KINDS_OF_MASK[mask])
                for pk, case_id, assignment_id, stage, due_at, unit_id, mask in rows
            ]
    picked = list(
        Clock.objects.filter(pk__in=ids, stopped_at__isnull=True, next_alert_at__lte=now).order_by("id")
    )
    for c in picked:
        c.next_alert_at = next_check(c, now)
        if c.yellow_at is None and c.due_at <= now and c.stage in yellow_stages:
            c.yellow_at = now
    Clock.objects.bulk_update(picked, ["next_alert_at", "yellow_at"])
    return [
        DueClock(
            c.pk,
            c.case_id,
            c.assignment_id,
            c.stage,
            c.due_at,
            c.unit_id if c.unit_id is not None else office_id,
            due_kinds(c, now, set()),
        )
        for c in picked
    ]


def _process(
    clocks: list[DueClock], ctx: SweepContext, result: SweepResult, tally: dict[Group, Tally]
) -> None:
    wanted = [(c, kind) for c in clocks for kind in c.kinds if (c.stage, kind) in ctx.rules]
    by_id = {c.id: c for c in clocks}
    mine = [(by_id[clock_id], kind) for clock_id, kind in _insert_alerts(wanted, ctx)]
    _record(mine, ctx, tally)
    with ctx.lock:
        result.clocks += len(clocks)
        for _, kind in mine:
            result.alerts[kind] += 1


def _insert_alerts(wanted: list[tuple[DueClock, str]], ctx: SweepContext) -> list[tuple[int, str]]:
    """Insert the alerts not raised yet (unique per clock and kind); return those this sweep inserted."""
    if not wanted:
        return []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO sla_alert (clock_id, kind, case_id, unit_id, raised_at, run_id)
                SELECT v.clock_id, v.kind, v.case_id, v.unit_id, %s, %s
                FROM unnest(%s::bigint[], {TEXT_ARRAY}, %s::bigint[], %s::bigint[])
                     AS v(clock_id, kind, case_id, unit_id)
                ON CONFLICT (clock_id, kind) DO NOTHING
                RETURNING clock_id, kind
                """,
                [
                    ctx.now,
                    ctx.run_id,
                    int_array(c.id for c, _ in wanted),
                    json_array(k for _, k in wanted),
                    int_array(c.case_id for c, _ in wanted),
                    int_array(c.unit_id for c, _ in wanted),
                ],
            )
            return [(int(clock_id), str(kind)) for clock_id, kind in cursor.fetchall()]
    Alert.objects.bulk_create(
        [
            Alert(
                clock_id=c.id,
                kind=k,
                case_id=c.case_id,
                unit_id=c.unit_id,
                raised_at=ctx.now,
                run_id=ctx.run_id,
            )
            for c, k in wanted
        ],
        ignore_conflicts=True,
    )
    return list(
        Alert.objects.filter(run_id=ctx.run_id, clock_id__in={c.id for c, _ in wanted}).values_list(
            "clock_id", "kind"
        )
    )


STAGE_LABELS = {value: str(label) for value, label in Stage.choices}
KIND_LABELS = {value: str(label) for value, label in AlertKind.choices}


def _record(
    alerts: list[tuple[DueClock, str]] | SqlBatch, ctx: SweepContext, tally: dict[Group, Tally]
) -> None:
    """Timeline events and the overdue flag for the alerts this sweep inserted; their count per unit, stage and
    kind into `tally` (the notices are sent once the sweep's batches are done: `_notify`)."""
    if isinstance(alerts, SqlBatch):
        _record_in_sql(ctx, tally)
        return
    if not alerts:
        return
    events: list[ClockEvent] = []
    overdue: set[int] = set()
    for c, kind in alerts:
        due, stage, label = ctx.date(c.due_at), STAGE_LABELS[c.stage], KIND_LABELS[kind]
        events.append(
            ClockEvent(
                c.case_id, c.unit_id, c.assignment_id, EVENT_OF_KIND[kind], f"{stage}时限 {due}：{label}"
            )
        )
        _add_tally(tally, (c.unit_id, c.stage, kind), Tally(1, c.case_id, c.due_at))
        if kind in (AlertKind.YELLOW, AlertKind.RED):
            overdue.add(c.case_id)
    record_clock_events(events=events, at=ctx.now)
    mark_overdue(case_ids=sorted(overdue), at=ctx.now)


# --------------------------------------------------------------------------- PostgreSQL: the batch stays in SQL
# A batch's clocks are moved on and their alerts inserted in one statement, which leaves the alerts it inserted in
# a temporary table; the timeline events, the overdue flags (both through `cases`) and the messages (through
# `notify`, rendered in SQL from the templates) are then written from that table, each in one statement. Python
# handles a few values per batch (its units and their audiences, its cases' headlines), not per alert.

BATCH_TABLE = "sla_sweep_batch"


@dataclass(frozen=True)
class SqlText:
    """A text built in SQL: an expression over the batch's columns and its parameters."""

    sql: str
    params: tuple[object, ...] = ()


def _case_sql(column: str, values: dict[str, str]) -> SqlText:
    """CASE column WHEN key THEN value … END with the keys and values as parameters."""
    whens = " ".join("WHEN %s THEN %s::text" for _ in values)
    return SqlText(f"(CASE {column} {whens} END)", tuple(v for pair in values.items() for v in pair))


def _batch_in_sql(ids: list[int], ctx: SweepContext, result: SweepResult, tally: dict[Group, Tally]) -> None:
    now = ctx.now
    pairs = [f"{stage}:{kind}" for stage, kind in ctx.rules]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            CREATE TEMP TABLE IF NOT EXISTS {BATCH_TABLE} (
                clock_id bigint, case_id bigint, assignment_id bigint, unit_id bigint, stage text, kind text,
                due_at timestamptz
            ) ON COMMIT DELETE ROWS
            """
        )
        cursor.execute(f"DELETE FROM {BATCH_TABLE}")  # a test's transaction does not commit between batches
        cursor.execute(
            f"""
            WITH picked AS (
                SELECT id FROM sla_clock
                WHERE id = ANY(%(ids)s::bigint[]) AND stopped_at IS NULL AND next_alert_at <= %(now)s
                ORDER BY id
                FOR UPDATE SKIP LOCKED
            ), moved AS (
                UPDATE sla_clock c SET next_alert_at = LEAST(
                        CASE WHEN c.remind_at > %(now)s THEN c.remind_at END,
                        CASE WHEN c.warn_at > %(now)s THEN c.warn_at END,
                        CASE WHEN c.due_at > %(now)s THEN c.due_at END,
                        CASE WHEN c.red_at > %(now)s THEN c.red_at END),
                    yellow_at = CASE WHEN c.yellow_at IS NULL AND c.due_at <= %(now)s
                                          AND c.stage = ANY(%(yellow)s::text[]) THEN %(now)s
                                     ELSE c.yellow_at END
                FROM picked WHERE c.id = picked.id
                RETURNING c.id, c.case_id, c.assignment_id, COALESCE(c.unit_id, %(office)s) AS unit_id, c.stage,
                    c.due_at,
                    -- due_kinds(): a reminder or a warning only while the deadline is still ahead
                    CASE WHEN c.remind_at <= %(now)s AND c.due_at > %(now)s THEN 1 ELSE 0 END
                    + CASE WHEN c.warn_at <= %(now)s AND c.due_at > %(now)s THEN 2 ELSE 0 END
                    + CASE WHEN c.due_at <= %(now)s THEN 4 ELSE 0 END
                    + CASE WHEN c.red_at <= %(now)s THEN 8 ELSE 0 END AS kinds
            ), wanted AS (
                SELECT m.*, k.kind FROM moved m
                JOIN unnest(%(bits)s::int[], %(kinds)s::text[]) AS k(bit, kind) ON m.kinds & k.bit <> 0
                WHERE m.stage || ':' || k.kind = ANY(%(pairs)s::text[])
            ), inserted AS (
                INSERT INTO sla_alert (clock_id, kind, case_id, unit_id, raised_at, run_id)
                SELECT id, kind, case_id, unit_id, %(now)s, %(run)s FROM wanted ORDER BY id, kind
                ON CONFLICT (clock_id, kind) DO NOTHING
                RETURNING clock_id, kind
            ), batch AS (
                INSERT INTO {BATCH_TABLE}
                SELECT w.id, w.case_id, w.assignment_id, w.unit_id, w.stage, w.kind, w.due_at
                FROM inserted i JOIN wanted w ON w.id = i.clock_id AND w.kind = i.kind
                RETURNING kind
            )
            SELECT (SELECT count(*) FROM moved), kind, count(*) FROM batch GROUP BY kind
            UNION ALL SELECT (SELECT count(*) FROM moved), NULL, 0
            """,
            {
                "ids": int_array(ids),
                "now": now,
                "yellow": "{" + ",".join(ctx.yellow_stages) + "}",
                "office": ctx.recipients.office_id,
                "bits": "{" + ",".join(str(bit) for bit, _ in KIND_BITS) + "}",
                "kinds": "{" + ",".join(kind for _, kind in KIND_BITS) + "}",
                "pairs": "{" + ",".join(pairs) + "}",
                "run": ctx.run_id,
            },
        )
        counts = cursor.fetchall()
    raised = {str(kind): int(n) for _, kind, n in counts if kind is not None}
    if raised:
        _record(SqlBatch(raised), ctx, tally)
    with ctx.lock:
        result.clocks += int(counts[0][0]) if counts else 0
        for kind, n in raised.items():
            result.alerts[kind] += n


@dataclass(frozen=True)
class SqlBatch:
    """The alerts a batch inserted, left in BATCH_TABLE (their count per kind)."""

    raised: dict[str, int]


def _record_in_sql(ctx: SweepContext, tally: dict[Group, Tally]) -> None:
    """Timeline events and the overdue flag for the alerts left in BATCH_TABLE; their count into `tally`."""
    stage = _case_sql("b.stage", STAGE_LABELS)
    kind = _case_sql("b.kind", KIND_LABELS)
    zone = timezone.get_current_timezone_name()
    # chinese_datetime(): 2026年11月5日 14:05 in the local time zone
    labelled = f"""
        SELECT b.*, {stage.sql} AS stage_label, {kind.sql} AS kind_label,
               to_char(b.due_at AT TIME ZONE %s, 'YYYY"年"FMMM"月"FMDD"日" HH24:MI') AS due_text
        FROM {BATCH_TABLE} b
    """
    labelled_params = (*stage.params, *kind.params, zone)
    actions = _case_sql("b.kind", {k: str(EVENT_OF_KIND[k]) for k in AlertKind.values})
    record_clock_events_from(
        rows=f"""
            SELECT b.case_id, b.unit_id, b.assignment_id, {actions.sql},
                   b.stage_label || '时限 ' || b.due_text || '：' || b.kind_label
            FROM ({labelled}) b
        """,
        params=[*actions.params, *labelled_params],
        at=ctx.now,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT unit_id, stage, kind, count(*), min(case_id), min(due_at) FROM {BATCH_TABLE} GROUP BY 1, 2, 3"
        )
        for unit_id, stage, kind, count, case_id, due_at in cursor.fetchall():
            _add_tally(tally, (unit_id, stage, kind), Tally(int(count), int(case_id), due_at))
    carded = [AlertKind.YELLOW, AlertKind.RED]
    mark_overdue_from(
        case_ids=f"SELECT case_id FROM {BATCH_TABLE} WHERE kind = ANY(%s::text[])",
        params=["{" + ",".join(carded) + "}"],
        at=ctx.now,
    )


# --------------------------------------------------------------------------- notices, once per sweep
# A sweep tallies what its committed batches raised per unit, stage and kind, and when its batches are done it
# sends one notice per (unit, rule) audience: the kind's template for a single case (number, title, link to the
# case), a digest for several ("东城区有 35 件工单答复时限即将到期", linking to the search listing exactly those
# cases). After a long holiday a unit's staff get a handful of notices instead of thousands; every case still has
# its alert and its timeline event. A run's notices are sent in one transaction that marks the run notified, so
# they are sent once; a run whose process died is notified by the next sweep (`_notify_abandoned`).

ADVISORY_NAMESPACE = 20_011  # pg_advisory_lock(namespace, hashtext(run_id)): held by a running sweep

DIGEST_TEXTS: dict[str, str | Promise] = {
    AlertKind.REMINDER: _("%(unit)s有 %(count)s 件工单%(stage)s时限临近（最早 %(due)s 到期），请抓紧办理。"),
    AlertKind.WARNING: _("%(unit)s有 %(count)s 件工单%(stage)s时限即将到期（最早 %(due)s），请及时办理。"),
    AlertKind.YELLOW: _("%(unit)s有 %(count)s 件工单%(stage)s已超过时限，亮黄牌，请尽快办理。"),
    AlertKind.RED: _("%(unit)s有 %(count)s 件工单%(stage)s严重超时，亮红牌督办，请立即办理。"),
}


def _hold(run_id: str, hold: bool) -> None:
    """Take (or release) the running sweep's lock on its run: another sweep leaves a held run alone."""
    if connection.vendor != "postgresql":
        return
    function = "pg_advisory_lock" if hold else "pg_advisory_unlock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, hashtext(%s))", [ADVISORY_NAMESPACE, run_id])


def _notify(ctx: SweepContext, run: SweepRun, tally: dict[Group, Tally]) -> None:
    """Send the notices of `tally` (the alerts `run` raised) and mark the run notified, in one transaction;
    nothing if the run was notified already. A run that raised nothing is forgotten."""
    with transaction.atomic():
        fresh = SweepRun.objects.select_for_update().filter(pk=run.pk, notified_at__isnull=True).first()
        if fresh is None:
            return
        if not tally:
            fresh.delete()
            return
        queue_fanout(messages=_notices(ctx, fresh, tally), audiences=ctx.recipients.audiences, now=ctx.now)
        fresh.notified_at = wall_clock.now()
        fresh.alerts = sum(t.count for t in tally.values())
        fresh.save(update_fields=["notified_at", "alerts"])


def _notices(ctx: SweepContext, run: SweepRun, tally: dict[Group, Tally]) -> list[Rendered]:
    groups = sorted(tally.items(), key=lambda item: (item[0][0] or 0, item[0][1], item[0][2]))
    single = [t.case_id for _, t in groups if t.count == 1]
    headlines = case_headlines(case_ids=single) if single else {}
    ctx.load_units({unit_id for (unit_id, _, _), _ in groups if unit_id is not None})
    search = reverse("case-search")
    messages: list[Rendered] = []
    for (unit_id, stage, kind), counted in groups:
        rule = ctx.rules.get((stage, kind))
        if rule is None or not rule.channels:
            continue
        unit = ctx.unit(unit_id)
        audience = ctx.recipients.audience(unit, rule)
        if not ctx.recipients.members(audience):
            continue
        template = TEMPLATE_OF_KIND[kind]
        values = {
            "unit": unit.name if unit else "",
            "due": ctx.date(counted.due_at),
            "stage": STAGE_LABELS.get(stage, stage),
            "kind": KIND_LABELS.get(kind, kind),
        }
        if counted.count == 1:
            number, title = headlines.get(counted.case_id, ("", ""))
            subject, body = render(
                template, {**values, "number": number, "title": title}, templates=ctx.templates
            )
            link = reverse("case-detail", args=[counted.case_id])
        else:
            body = str(DIGEST_TEXTS[kind]) % {**values, "count": counted.count}
            subject = str(_("%(unit)s：%(count)s 件工单%(stage)s%(kind)s")) % {
                **values,
                "count": counted.count,
            }
            # exactly the cases of this notice: the unit's alerts of this stage and kind raised at the sweep's moment
            query = {
                "alert": kind,
                "alert_stage": stage,
                "since": run.now.isoformat(),
                "until": (run.now + ONE_SECOND).isoformat(),
            }
            if unit_id is not None:
                query["unit"] = str(unit_id)
            link = f"{search}?{urlencode(query)}"
        messages.append(Rendered(audience, template, subject, body, link))
    return messages


ONE_SECOND = dt.timedelta(seconds=1)


def _notify_abandoned(ctx: SweepContext, own: SweepRun) -> None:
    """Send the notices of earlier sweeps that died before sending them (not of sweeps still running), counted
    from their alerts. Warnings and reminders whose deadline has passed meanwhile are left out: they are never
    sent after their deadline (item 18)."""
    pending = SweepRun.objects.filter(notified_at__isnull=True).exclude(pk=own.pk).order_by("id")
    for run in pending:
        with transaction.atomic():
            locked = SweepRun.objects.select_for_update(skip_locked=True).filter(pk=run.pk).first()
            if locked is None or locked.notified_at is not None or not _abandoned(locked):
                continue
            tally: dict[Group, Tally] = {}
            alerts = Alert.objects.filter(run_id=locked.run_id).exclude(
                kind__in=sorted(BEFORE_DEADLINE), clock__due_at__lte=ctx.now
            )
            office = ctx.recipients.office_id
            for row in alerts.values("unit_id", "clock__stage", "kind").annotate(
                n=Count("id"), case=Min("case_id"), due=Min("clock__due_at")
            ):
                group = (
                    row["unit_id"] if row["unit_id"] is not None else office,
                    row["clock__stage"],
                    row["kind"],
                )
                _add_tally(tally, group, Tally(row["n"], row["case"], row["due"]))
            _notify(ctx, locked, tally)


def _abandoned(run: SweepRun) -> bool:
    """No sweep holds the run (PostgreSQL: its process's lock is gone); the lock taken is released at commit."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))", [ADVISORY_NAMESPACE, run.run_id])
        (free,) = cursor.fetchone()
    return bool(free)
