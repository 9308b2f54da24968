"""Fill a PostgreSQL database with N consistent cases for the benchmarks, fast.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_bench python -m bench.load_cases 1000000

It migrates, builds the demo city's units and users (the same builder as `seed_demo`), then simulates each case's
life in memory — intake, dispatch (main + the superior copied + sometimes an assisting bureau), signing,
forwarding district → street → community, reports, review, callback, redo, special supervision, returns — and
writes Case, Assignment, CaseEvent, Callback and Citizen rows with COPY. Cases are spread over the last two years
in chronological order; the case numbers (YYYYMMDD + 6 digits) follow the daily counters, which are written too.
A case's progress stops at `now`, so old cases are mostly closed and recent ones are still open in the units.

Everything happens in one transaction: the tables are truncated (so COPY can write frozen rows), their
secondary indexes and foreign keys are dropped, the rows are copied, and the indexes and constraints are rebuilt
from their original definitions (the foreign keys are validated). VACUUM ANALYZE follows.
Rows are not written to the audit log; non-public cases share one query-password hash.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import queue
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.core.management import call_command
from django.db import connection, transaction

from bench import require_postgresql
from hotline.cases import lifecycle
from hotline.cases.models import Case, Channel
from hotline.common.models import DictKind
from hotline.common.workdays import add_working_days
from hotline.demo import catalog
from hotline.demo.content import Dictionaries, draw_request, mobile_number
from hotline.demo.generator import demo_password
from hotline.demo.hashing import fast_password_hashing
from hotline.demo.org import DemoOrg, build_org, demo_exists, load_org, person_name
from hotline.orgs.models import Role

UTC = dt.UTC
LOCAL = dt.timezone(dt.timedelta(hours=8))
HOUR = 3600.0
DAY = 86400.0
HISTORY_DAYS = 730
PHONE_POOL = 300_000
FREQUENT_CALLERS = 500  # a few numbers call very often
REQUEST_POOL = 5000
BATCH = 20_000

LOADED_TABLES = ("citizens_citizen", "cases_case", "cases_assignment", "cases_caseevent", "cases_callback")
# Written only if the installed schema has them (the citizens' numbers table arrived after the loader).
OPTIONAL_TABLES = ("citizens_citizenphone",)
COUNTER_TABLE = "cases_casenumbercounter"

CASE_COLUMNS = (
    "id", "number", "channel", "origin", "status", "version", "citizen_name", "citizen_gender", "citizen_phone",
    "citizen_email", "citizen_address", "citizen_work_unit", "citizen_post_code", "citizen_notes", "location",
    "title", "content", "keywords", "is_typical_recording", "extra", "answer", "dispatch_round", "due_at",
    "created_at", "submitted_at", "dispatched_at", "closed_at", "updated_at", "not_accepted_text",
    "leader_instruction", "close_kind", "close_reason", "dissatisfied_count", "last_rating", "is_public",
    "push_hot", "is_typical", "query_password", "is_perfunctory", "is_wrong", "violation_note",
    "bureau_id", "case_type_id", "citizen_id", "district_id", "intake_by_id", "location_unit_id", "main_unit_id",
    "nature_id", "not_accepted_reason_id", "secrecy_id", "urgency_id",
)  # fmt: skip
ASSIGNMENT_COLUMNS = (
    "id", "case_id", "unit_id", "parent_id", "role", "status", "round", "level", "opinion", "assigned_by_id",
    "assigned_at", "signed_at", "signed_by_id", "due_at", "warn_at", "promised_at", "finished_at", "result",
)  # fmt: skip
EVENT_COLUMNS = (
    "case_id", "at", "actor_id", "unit_id", "assignment_id", "action", "from_status", "to_status", "opinion", "data",
)  # fmt: skip
CALLBACK_COLUMNS = (
    "case_id",
    "actor_id",
    "method",
    "rating",
    "responded",
    "solution",
    "citizen_words",
    "created_at",
)
CITIZEN_COLUMNS = (
    "id", "name", "gender", "phone", "email", "address", "work_unit", "post_code", "id_card_encrypted",
    "id_card_hash", "level", "notes", "created_at",
)  # fmt: skip

# Assignment row indexes (rows are lists while a case is simulated).
A_ID, A_UNIT, A_PARENT, A_ROLE, A_STATUS, A_LEVEL = 0, 2, 3, 4, 5, 7
A_SIGNED_AT, A_SIGNED_BY, A_DUE, A_FINISHED, A_RESULT = 11, 12, 13, 16, 17
OPEN = frozenset({"pending", "handling", "forwarded", "return_pending"})
CHANNELS = [str(c) for c in (Channel.PHONE, Channel.WECHAT, Channel.APP, Channel.WEB, Channel.VOICEMAIL,
                             Channel.MAYOR_MAILBOX, Channel.SMS)]  # fmt: skip
CHANNEL_WEIGHTS = [70, 8, 7, 6, 4, 3, 2]
# Calls per hour of the local day (relative).
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 4, 8, 14, 16, 16, 14, 10, 12, 15, 15, 14, 12, 10, 9, 8, 6, 4, 2]

DISPATCH_OPINION = "请按职责核实办理，并在规定时限内反馈办理结果。"
NOT_ACCEPTED_TEXTS = {
    "litigation": "来电人反映的纠纷已向法院提起诉讼，属于司法程序处理事项，按规定不予受理。",
    "not_gov": "来电人反映的是企业内部管理事务，不属于政府职能范围。",
    "repeat": "来电人就同一事项已多次来电，承办单位已依法答复，无新的诉求内容。",
}


def check_simulated(action: str, before: str, after: str) -> None:
    """The simulation may only take steps the lifecycle table allows (the rows must look like the services')."""
    if action == lifecycle.Action.CREATE:
        assert before == lifecycle.NEW, f"create from {before!r}"
        return
    transition = lifecycle.TRANSITIONS.get(action)
    assert transition is not None, f"simulated action {action!r} is not in lifecycle.TRANSITIONS"
    assert before in transition.sources, f"{action} from {before!r} is not allowed by the lifecycle"
    assert after == before or after in transition.targets(), f"{action} cannot lead to {after!r}"


def _ts(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, UTC)


@dataclass(frozen=True)
class PoolRequest:
    """One pre-drawn request; cases pick from a pool so that generating a row costs no text formatting."""

    title: str
    content: str
    location: str
    keywords: str
    answer: str
    result: str
    case_type_id: int
    nature_id: int
    bureau_id: int
    bureau_vertical: bool
    bureau_is_city: bool
    bureau_parent_id: int | None
    community_id: int
    street_id: int
    district_id: int
    lead: str
    urgent_share: float


@dataclass
class Pools:
    """Everything a simulated case draws from: requests, people, units, dictionary ids."""

    requests: list[PoolRequest]
    phones: list[str]
    names: list[str]
    genders: list[str]
    agents: list[tuple[int, int]]
    dispatchers: list[tuple[int, int]]
    callback_staff: list[tuple[int, int]]
    leader: tuple[int, int]
    handler: dict[int, int]  # unit id → user id
    unit_leader: dict[int, int]
    parent: dict[int, int | None]
    names_of_units: dict[int, str]
    city_management: dict[int, int]  # district id → its 城管局
    urgency: list[int]  # normal, urgent, very urgent
    secrecy: list[int]  # none, citizen
    not_accepted: list[tuple[int, str]]
    return_reason: int
    query_password: str
    describe: dict[tuple[tuple[int, str], ...], str] = field(default_factory=dict)

    def units_json(self, units: Sequence[tuple[int, str]]) -> str:
        """The event data the services write for a dispatch or forward, cached per set of targets."""
        key = tuple(units)
        text = self.describe.get(key)
        if text is None:
            text = json.dumps(
                {"units": [{"unit": u, "name": self.names_of_units[u], "role": r} for u, r in units]},
                ensure_ascii=False,
            )
            self.describe[key] = text
        return text


def build_pools(org: DemoOrg, rng: random.Random) -> Pools:
    dicts = Dictionaries()
    requests = []
    for _ in range(REQUEST_POOL):
        r = draw_request(rng, org)
        requests.append(
            PoolRequest(
                title=r.title, content=r.content, location=r.location, keywords=r.template.keywords,
                answer=r.answer, result=r.result,
                case_type_id=dicts.get(DictKind.CASE_TYPE, r.template.case_type).pk,
                nature_id=dicts.get(DictKind.NATURE, r.template.nature).pk,
                bureau_id=r.bureau.pk, bureau_vertical=r.bureau.is_vertical, bureau_is_city=r.bureau.parent_id is None,
                bureau_parent_id=r.bureau.parent_id, community_id=r.community.pk, street_id=r.street.pk,
                district_id=r.district.pk, lead=r.template.lead, urgent_share=r.template.urgent_share,
            )
        )  # fmt: skip
    phones: set[str] = set()
    while len(phones) < PHONE_POOL:
        phones.add(mobile_number(rng))

    def staff(role: str) -> list[tuple[int, int]]:
        return [(u.pk, u.unit_id or 0) for u in org.with_role(role)]

    leader = staff(Role.LEADER)[0]
    from hotline.common.crypto import hash_code

    query_password = hash_code("000000")
    return Pools(
        requests=requests,
        phones=sorted(phones),
        names=[person_name(rng) for _ in range(PHONE_POOL)],
        genders=[rng.choice(("male", "female")) for _ in range(PHONE_POOL)],
        agents=staff(Role.AGENT),
        dispatchers=staff(Role.DISPATCHER),
        callback_staff=staff(Role.AGENT) + staff(Role.MONITOR),
        leader=leader,
        handler={unit_id: u.pk for unit_id, u in org.handlers.items()},
        unit_leader={unit_id: u.pk for unit_id, u in org.leaders.items()},
        parent={u.pk: u.parent_id for u in org.units.values()},
        names_of_units={u.pk: u.name for u in org.units.values()},
        city_management={d.pk: org.unit(d.code + catalog.CITY_MANAGEMENT).pk for d in org.districts},
        urgency=[dicts.get(DictKind.URGENCY, c).pk for c in ("normal", "urgent", "very_urgent")],
        secrecy=[dicts.get(DictKind.SECRECY, c).pk for c in ("none", "citizen")],
        not_accepted=[
            (dicts.get(DictKind.NOT_ACCEPTED_REASON, c).pk, t) for c, t in NOT_ACCEPTED_TEXTS.items()
        ],
        return_reason=dicts.get(DictKind.RETURN_REASON, "not_our_duty").pk,
        query_password=query_password,
    )


class Ids:
    def __init__(self, case: int, assignment: int) -> None:
        self.case = case
        self.assignment = assignment

    def next_assignment(self) -> int:
        self.assignment += 1
        return self.assignment


@dataclass
class Batch:
    cases: list[tuple[Any, ...]] = field(default_factory=list)
    assignments: list[list[Any]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    callbacks: list[tuple[Any, ...]] = field(default_factory=list)


class Stop(Exception):
    """The simulated case has reached `now` (or stalls): what happened so far is its state."""


class CaseSim:
    """One case's life, simulated in memory with the services' rules (statuses, assignment rows, events)."""

    def __init__(
        self,
        pools: Pools,
        rng: random.Random,
        ids: Ids,
        batch: Batch,
        now: float,
        due: Callable[[float], float],
    ):
        self.p, self.rng, self.ids, self.batch, self.now, self.due = pools, rng, ids, batch, now, due
        self.case_id, self.t, self.status, self.version, self.steps, self.stall_at = 0, 0.0, "", 0, 0, -1
        self.round = 0
        self.rows: list[list[Any]] = []
        self.req = pools.requests[0]
        self.agent = pools.agents[0]
        self.fields: dict[str, Any] = {}

    # ------------------------------------------------------------------ helpers

    def advance(self, low_hours: float, high_hours: float) -> None:
        self.steps += 1
        t = self.t + self.rng.uniform(low_hours, high_hours) * HOUR
        if t > self.now or self.steps == self.stall_at:
            raise Stop
        self.t = t

    def event(self, action: str, actor: tuple[int, int], to: str | None = None, assignment: list[Any] | None = None,
              opinion: str = "", data: str = "{}") -> None:  # fmt: skip
        before = self.status
        if to is not None:
            self.status = to
        check_simulated(action, before, self.status)
        self.version += 1
        self.batch.events.append((self.case_id, _ts(self.t), actor[0], actor[1] or None,
                                  assignment[A_ID] if assignment else None, action, before, self.status, opinion, data))  # fmt: skip

    def unit_actor(self, row: list[Any]) -> tuple[int, int]:
        return self.p.handler[row[A_UNIT]], row[A_UNIT]

    def new_row(
        self, unit: int, role: str, parent: list[Any] | None, by: tuple[int, int], due: float | None
    ) -> list[Any]:
        row = [self.ids.next_assignment(), self.case_id, unit, parent[A_ID] if parent else None, role,
               "informed" if role == "cc" else "pending", self.round, parent[A_LEVEL] + 1 if parent else 1,
               DISPATCH_OPINION, by[0], _ts(self.t), None, None, None if role == "cc" else (_ts(due) if due else None),
               None, None, None, ""]  # fmt: skip
        self.rows.append(row)
        return row

    def finish(self, row: list[Any], status: str, result: str = "") -> None:
        row[A_STATUS], row[A_FINISHED] = status, _ts(self.t)
        if result:
            row[A_RESULT] = result

    def cancel_open(self) -> None:
        for row in self.rows:
            if row[A_STATUS] in OPEN or row[A_STATUS] == "informed":
                self.finish(row, "cancelled")

    # ------------------------------------------------------------------ the life of a case

    def run(self, case_id: int, number: str, created: float) -> None:
        rng, p = self.rng, self.p
        self.case_id, self.t, self.status, self.version, self.steps = case_id, created, "", 0, 0
        self.stall_at = rng.randint(3, 12) if rng.random() < 0.006 else -1
        self.rows = []
        self.round = 0
        self.req = p.requests[rng.randrange(len(p.requests))]
        self.fields = {"main_unit_id": None, "due_at": None, "submitted_at": None,
                       "dispatched_at": None, "closed_at": None, "close_kind": "", "close_reason": "",
                       "last_rating": "", "dissatisfied_count": 0, "leader_instruction": "",
                       "not_accepted_reason_id": None, "not_accepted_text": "", "answer": ""}  # fmt: skip
        self.agent = rng.choice(p.agents)
        with contextlib.suppress(Stop):
            self.intake()
        self.emit(number, created)

    def intake(self) -> None:
        rng, f = self.rng, self.fields
        self.event("create", self.agent, to="draft")
        fate = rng.random()
        if fate < 0.001:
            return
        if fate < 0.22:
            f.update(answer=self.req.answer, closed_at=self.t, close_kind="answered")
            self.event("archive", self.agent, to="closed", opinion=self.req.answer)
            return
        if fate < 0.25:
            reason, text = rng.choice(self.p.not_accepted)
            f.update(not_accepted_reason_id=reason, not_accepted_text=text)
            self.event("propose_not_accepted", self.agent, to="pending_not_accepted", opinion=text)
            self.advance(0.5, 8)
            f["closed_at"] = self.t
            self.event("confirm_not_accepted", rng.choice(self.p.dispatchers), to="not_accepted")
            return
        f["submitted_at"] = self.t
        self.event("submit", self.agent, to="submitted")
        if fate < 0.252:
            self.advance(0.3, 4)
            self.event(
                "return_to_agent",
                rng.choice(self.p.dispatchers),
                to="returned",
                opinion="诉求记录不完整，请补充。",
            )
            return
        if fate < 0.29:
            self.advance(0.3, 8)
            why = "经核实，该事项已由相关单位处理完毕，直接办结。"
            f.update(closed_at=self.t, close_kind="direct", close_reason=why)
            self.event("close_directly", rng.choice(self.p.dispatchers), to="closed", opinion=why)
            return
        if rng.random() < 0.02:
            self.advance(0.3, 4)
            self.event(
                "ask_leader", rng.choice(self.p.dispatchers), to="leader_review", opinion="呈请领导批示。"
            )
            self.advance(2, 24)
            f["leader_instruction"] = "请牵头单位限期办结并回复群众。"
            self.event("leader_instruct", self.p.leader, to="submitted", opinion=f["leader_instruction"])
        self.in_units()

    def choose_main(self) -> int:
        req, rng = self.req, self.rng
        lead = req.lead
        if rng.random() < 0.25:
            lead = "default"
        elif lead == "district" and req.bureau_parent_id and rng.random() < 0.4:
            lead = "bureau"
        if lead == "bureau" or (lead == "default" and req.bureau_vertical):
            return req.bureau_id
        return req.district_id

    def dispatch(self, main: int, action: str = "dispatch") -> list[Any]:
        """A dispatch round: main unit, maybe an assisting city bureau, the main unit's superior copied."""
        req, by = self.req, self.rng.choice(self.p.dispatchers)
        self.round += 1
        due = self.due(self.t)
        targets = [(main, "main")]
        if (
            main == req.district_id
            and req.bureau_is_city
            and not req.bureau_vertical
            and self.rng.random() < 0.15
        ):
            targets.append((req.bureau_id, "assisting"))
        superior = self.p.parent.get(main)
        if superior:
            targets.append((superior, "cc"))
        self.fields.update(main_unit_id=main, dispatched_at=self.t, due_at=due)
        top = [self.new_row(unit, role, None, by, due) for unit, role in targets][0]
        self.event(
            action,
            by,
            to="dispatched",
            assignment=top,
            opinion=DISPATCH_OPINION,
            data=self.p.units_json(targets),
        )
        return top

    def sign(self, row: list[Any]) -> None:
        actor = self.unit_actor(row)
        to = (
            "handling"
            if row[A_PARENT] is None and row[A_ROLE] == "main" and self.status == "dispatched"
            else None
        )
        self.event("sign_for", actor, to=to, assignment=row)
        row[A_STATUS], row[A_SIGNED_AT], row[A_SIGNED_BY] = "handling", _ts(self.t), actor[0]

    def maybe_return(self, top: list[Any]) -> list[Any]:
        """3 %: the main unit returns the case; the office agrees and dispatches to the suggested unit."""
        if self.rng.random() >= 0.03:
            return top
        if self.rng.random() < 0.5:
            self.advance(0.2, 8)
            self.sign(top)
        self.advance(1, 24)
        main = top[A_UNIT]
        suggested = self.req.district_id if main != self.req.district_id else self.req.bureau_id
        top[A_STATUS] = "return_pending"
        self.event("return_to_office", self.unit_actor(top), to="return_review", assignment=top,
                   opinion="该诉求不属于本单位职责范围，建议改派。",
                   data=json.dumps({"suggested_unit": self.p.names_of_units[suggested]}, ensure_ascii=False))  # fmt: skip
        self.advance(0.5, 8)
        self.finish(top, "returned")
        self.cancel_open()
        return self.dispatch(suggested, action="approve_return")

    def forward_down(self, top: list[Any]) -> list[list[Any]]:
        """District → street (or its 城管局), street → community. Returns the chain from the top down."""
        chain = [top]
        if (
            self.p.parent.get(top[A_UNIT]) is not None
            or self.rng.random() >= 0.45
            or top[A_UNIT] != self.req.district_id
        ):
            return chain
        to_bureau = self.rng.random() < 0.15
        child_unit = self.p.city_management[self.req.district_id] if to_bureau else self.req.street_id
        for unit in (child_unit, None if to_bureau or self.rng.random() >= 0.6 else self.req.community_id):
            if unit is None:
                break
            parent = chain[-1]
            self.advance(0.5, 6)
            data = self.p.units_json([(unit, "main")])
            self.event("forward", self.unit_actor(parent), assignment=parent, opinion="请核实情况，按时反馈办理结果。",
                       data=data)  # fmt: skip
            parent[A_STATUS] = "forwarded"
            child = self.new_row(unit, "main", parent, self.unit_actor(parent), None)
            child[A_DUE] = parent[A_DUE]
            chain.append(child)
            self.advance(0.2, 20)
            self.sign(child)
        return chain

    def report(self, row: list[Any], parent: list[Any] | None) -> None:
        to = "result_review" if parent is None else None
        self.event("report", self.unit_actor(row), to=to, assignment=row, opinion=self.req.result)
        self.finish(row, "reported", self.req.result)
        if parent is not None:
            parent[A_STATUS] = "handling"

    def finish_assisting(self) -> None:
        for row in self.rows:
            if row[A_ROLE] == "assisting" and row[A_STATUS] in OPEN:
                self.advance(2, 48)
                self.sign(row)
                self.advance(2, 48)
                opinion = "我单位已配合核查，同意主办单位的处理意见。"
                self.event("give_opinion", self.unit_actor(row), assignment=row, opinion=opinion)
                self.finish(row, "opinion_given", opinion)

    def in_units(self) -> None:
        self.advance(0.2, 4)
        top = self.maybe_return(self.dispatch(self.choose_main()))
        if top[A_STATUS] == "pending":
            self.advance(0.2, 20)
            self.sign(top)
        chain = self.forward_down(top)
        for level in range(len(chain) - 1, 0, -1):
            self.advance(4, 72)
            self.report(chain[level], chain[level - 1])
        self.finish_assisting()
        self.advance(4, 72)
        self.report(top, None)
        self.review_and_callback(top)

    def reopen(self, top: list[Any]) -> None:
        top[A_STATUS], top[A_FINISHED], top[A_DUE] = "handling", None, _ts(self.due(self.t))
        self.fields["due_at"] = self.due(self.t)

    def review_and_callback(self, top: list[Any]) -> None:
        rng, f = self.rng, self.fields
        office = rng.choice(self.p.dispatchers)
        self.advance(0.5, 24)
        if rng.random() < 0.04:
            self.reopen(top)
            self.event("review_reject", office, to="handling", assignment=top, opinion="请补充办理。")
            self.advance(12, 72)
            self.report(top, None)
            self.advance(0.5, 24)
        self.event("review_accept", office, to="callback", opinion="办理结果符合要求，转回访。")
        self.advance(2, 48)
        if rng.random() < 0.9:
            self.callback(top, satisfied=True)
            return
        self.callback(top, satisfied=False)
        self.advance(24, 120)
        self.report(top, None)
        self.advance(0.5, 24)
        self.event("review_accept", office, to="callback", opinion="办理结果符合要求，转回访。")
        self.advance(2, 48)
        if rng.random() < 0.85:
            self.callback(top, satisfied=True)
            return
        self.callback(top, satisfied=False)
        self.advance(48, 240)
        reason = "经热线办核实，来电人诉求已得到合理答复，决定办结。"
        f.update(closed_at=self.t, close_kind="office", close_reason=reason)
        self.event("office_close", office, to="closed", opinion=reason)
        self.cancel_open()

    def callback(self, top: list[Any], *, satisfied: bool) -> None:
        rng, f = self.rng, self.fields
        actor = rng.choice(self.p.callback_staff)
        method = "phone" if rng.random() < 0.8 else "sms"
        if satisfied:
            rating = rng.choice(("very_satisfied", "satisfied", "satisfied", "basically_satisfied"))
            words = rng.choice(catalog.CALLBACK_GOOD_WORDS)
            f.update(closed_at=self.t, close_kind="satisfied", last_rating=rating)
            to, row = "closed", None
        else:
            rating = rng.choice(("dissatisfied", "very_dissatisfied"))
            words = rng.choice(catalog.CALLBACK_BAD_WORDS)
            f["dissatisfied_count"] += 1
            f["last_rating"] = rating
            to, row = ("redo", top) if f["dissatisfied_count"] == 1 else ("special_supervision", None)
            if row is not None:
                self.reopen(top)
        # the answers beside the rating from their own stream (seeded by the case), so that the simulation's main
        # stream, and every case and figure it drew before these fields existed, stays the same
        answers = random.Random(self.case_id * 4 + f["dissatisfied_count"])
        responded, solution = catalog.callback_answers(satisfied, answers)
        self.event("callback", actor, to=to, assignment=row, opinion=words,
                   data=f'{{"rating": "{rating}", "method": "{method}", "responded": "{responded}", '
                        f'"solution": "{solution}"}}')  # fmt: skip
        self.batch.callbacks.append(
            (self.case_id, actor[0], method, rating, responded, solution, words, _ts(self.t))
        )

    # ------------------------------------------------------------------ rows

    def emit(self, number: str, created: float) -> None:
        rng, p, req, f = self.rng, self.p, self.req, self.fields
        self.batch.assignments.extend(self.rows)
        frequent = rng.random() < 0.01
        citizen = rng.randrange(FREQUENT_CALLERS) if frequent else rng.randrange(len(p.phones))
        is_public = rng.random() < 0.4
        u = rng.random()
        urgency = p.urgency[0] if u >= req.urgent_share else p.urgency[2 if u < req.urgent_share * 0.2 else 1]

        def ts(value: float | None) -> dt.datetime | None:
            return _ts(value) if value is not None else None

        self.batch.cases.append((
            self.case_id, number, rng.choices(CHANNELS, weights=CHANNEL_WEIGHTS)[0], "{}", self.status, self.version,
            p.names[citizen], p.genders[citizen], p.phones[citizen], "", "", "", "", "", req.location, req.title,
            req.content, req.keywords, False, "{}", f["answer"], self.round, ts(f["due_at"]), _ts(created),
            ts(f["submitted_at"]), ts(f["dispatched_at"]), ts(f["closed_at"]), _ts(self.t), f["not_accepted_text"],
            f["leader_instruction"], f["close_kind"], f["close_reason"], f["dissatisfied_count"], f["last_rating"],
            is_public, False, False, "" if is_public else p.query_password, False, False, "",
            req.bureau_id, req.case_type_id, citizen + 1, req.district_id, self.agent[0], req.community_id,
            f["main_unit_id"], req.nature_id, f["not_accepted_reason_id"],
            p.secrecy[1] if rng.random() < 0.15 else p.secrecy[0], urgency,
        ))  # fmt: skip


# ---------------------------------------------------------------------- time


def day_counts(total: int, days: int, rng: random.Random) -> list[int]:
    """Cases per day, oldest first: weekends quieter, volume growing over the two years."""
    start = dt.datetime.now(LOCAL).date() - dt.timedelta(days=days - 1)
    weights = []
    for i in range(days):
        day = start + dt.timedelta(days=i)
        weights.append(
            (0.7 if day.weekday() >= 5 else 1.0) * (0.8 + 0.4 * i / days) * rng.uniform(0.85, 1.15)
        )
    scale = total / sum(weights)
    counts = [int(w * scale) for w in weights]
    for i in rng.sample(range(days), total - sum(counts)):
        counts[i] += 1
    return counts


def times_of_day(count: int, day_start: float, limit: float, rng: random.Random) -> list[float]:
    """Sorted intake times of one local day; today's are squeezed into the hours already past."""
    hours = rng.choices(range(24), weights=HOUR_WEIGHTS, k=count)
    offsets = sorted(h * HOUR + rng.random() * HOUR for h in hours)
    scale = min(1.0, (limit - day_start) / DAY)
    return [day_start + o * scale for o in offsets]


class DueDates:
    """`created + 5 working days`, with the calendar looked up once per local day."""

    def __init__(self) -> None:
        self.cache: dict[int, float] = {}

    def __call__(self, moment: float) -> float:
        day = int((moment + 8 * HOUR) // DAY)
        shift = self.cache.get(day)
        if shift is None:
            start = _ts(day * DAY - 8 * HOUR)
            shift = (add_working_days(start, 5) - start).total_seconds()
            self.cache[day] = shift
        return moment + shift


# ---------------------------------------------------------------------- database


@dataclass
class Schema:
    indexes: list[str]
    constraints: list[tuple[str, str, str]]  # table, name, definition


def present_tables(cur: psycopg.Cursor[Any]) -> list[str]:
    cur.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename = ANY(%s)",
        [list(OPTIONAL_TABLES)],
    )
    return [*LOADED_TABLES, *sorted(r[0] for r in cur.fetchall())]


def read_schema(cur: psycopg.Cursor[Any], tables: list[str]) -> Schema:
    cur.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid::regclass::text = ANY(%s) AND contype IN ('f', 'u') ORDER BY contype DESC, conname",
        [tables],
    )
    constraints = [(t, n, d) for t, n, d in cur.fetchall()]
    cur.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
        "AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        [tables],
    )
    return Schema(indexes=[d for _n, d in cur.fetchall()], constraints=constraints)


def drop_schema(cur: psycopg.Cursor[Any], schema: Schema, tables: list[str]) -> None:
    for table, name, _definition in schema.constraints:
        cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    cur.execute(
        "SELECT indexname FROM pg_indexes i WHERE schemaname = current_schema() AND tablename = ANY(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        [tables],
    )
    for (name,) in cur.fetchall():
        cur.execute(f'DROP INDEX "{name}"')


def restore_schema(cur: psycopg.Cursor[Any], schema: Schema, log: Callable[[str], None]) -> None:
    started = time.perf_counter()
    for definition in schema.indexes:
        cur.execute(definition)
    log(f"  重建索引 {len(schema.indexes)} 个：{time.perf_counter() - started:.1f} 秒")
    started = time.perf_counter()
    for table, name, definition in schema.constraints:  # unique first, then foreign keys
        cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    log(f"  恢复并校验约束 {len(schema.constraints)} 个：{time.perf_counter() - started:.1f} 秒")


class CopyWriter(threading.Thread):
    """Writes batches with COPY on its own connection while the main thread simulates the next batch."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        super().__init__(daemon=True)
        self.conn = conn
        self.queue: queue.Queue[tuple[str, Sequence[str], list[Any]] | None] = queue.Queue(maxsize=8)
        self.error: BaseException | None = None
        self.rows: dict[str, int] = {}

    def put(self, table: str, columns: Sequence[str], rows: list[Any]) -> None:
        if self.error:
            raise RuntimeError("COPY failed") from self.error
        if rows:
            self.queue.put((table, columns, rows))

    def run(self) -> None:
        try:
            with self.conn.cursor() as cur:
                while (item := self.queue.get()) is not None:
                    table, columns, rows = item
                    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FREEZE)") as copy:
                        for row in rows:
                            copy.write_row(row)
                    self.rows[table] = self.rows.get(table, 0) + len(rows)
        except BaseException as exc:  # handed to the main thread
            self.error = exc
            while self.queue.get() is not None:
                pass

    def close(self) -> None:
        self.queue.put(None)
        self.join()
        if self.error:
            raise RuntimeError("COPY failed") from self.error


def citizen_rows(pools: Pools, created: dt.datetime) -> Iterator[tuple[Any, ...]]:
    for i, phone in enumerate(pools.phones):
        yield (i + 1, pools.names[i], pools.genders[i], phone, "", "", "", "", "", "", "normal", "", created)


def write_citizens(writer: CopyWriter, pools: Pools, tables: list[str]) -> None:
    created = _ts(time.time() - HISTORY_DAYS * DAY)
    writer.put("citizens_citizen", CITIZEN_COLUMNS, list(citizen_rows(pools, created)))
    if "citizens_citizenphone" in tables:
        phones = [(i + 1, phone, "mobile", True) for i, phone in enumerate(pools.phones)]
        writer.put("citizens_citizenphone", ("citizen_id", "number", "kind", "is_primary"), phones)


# ---------------------------------------------------------------------- main


def prepare_django(truncate: bool, log: Callable[[str], None]) -> DemoOrg:
    call_command("migrate", verbosity=0)
    if not demo_exists():
        log("创建演示单位和账号……")
        with fast_password_hashing(), transaction.atomic():
            build_org(password=demo_password(), rng=random.Random(12345))
    existing = Case.objects.count()
    if existing and not truncate:
        raise SystemExit(f"数据库中已有 {existing} 件工单；如需清空后重新装载，请加 --truncate")
    return load_org()


def simulate(
    total: int, pools: Pools, writer: CopyWriter, rng: random.Random, log: Callable[[str], None]
) -> list[tuple[dt.date, int]]:
    now = time.time() - 60
    today = dt.datetime.now(LOCAL).date()
    first_day = today - dt.timedelta(days=HISTORY_DAYS - 1)
    ids = Ids(case=0, assignment=0)
    batch = Batch()
    sim = CaseSim(pools, rng, ids, batch, now, DueDates())
    counters: list[tuple[dt.date, int]] = []
    started, done = time.perf_counter(), 0
    for offset, count in enumerate(day_counts(total, HISTORY_DAYS, rng)):
        day = first_day + dt.timedelta(days=offset)
        day_start = dt.datetime.combine(day, dt.time(), LOCAL).timestamp()
        times = times_of_day(count, day_start, now, rng)
        prefix = f"{day:%Y%m%d}"
        for seq, created in enumerate(times, start=1):
            ids.case += 1
            sim.run(ids.case, f"{prefix}{seq:06d}", created)
        if times:
            counters.append((day, len(times)))
        done += len(times)
        if len(batch.cases) >= BATCH or offset == HISTORY_DAYS - 1:
            flush(writer, batch)
            batch = sim.batch = Batch()
            rate = done / (time.perf_counter() - started)
            log(f"  已生成 {done:,} 件（{rate:,.0f} 件/秒）")
    return counters


def flush(writer: CopyWriter, batch: Batch) -> None:
    writer.put("cases_case", CASE_COLUMNS, batch.cases)
    writer.put("cases_assignment", ASSIGNMENT_COLUMNS, batch.assignments)
    writer.put("cases_caseevent", EVENT_COLUMNS, batch.events)
    writer.put("cases_callback", CALLBACK_COLUMNS, batch.callbacks)


def connect() -> psycopg.Connection[Any]:
    db = connection.settings_dict
    connection.close()
    return psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
    )


def finish(cur: psycopg.Cursor[Any], counters: list[tuple[dt.date, int]], tables: list[str]) -> None:
    """Daily number counters, identity sequences past the loaded ids."""
    with cur.copy(f"COPY {COUNTER_TABLE} (day, last) FROM STDIN") as copy:
        for day, last in counters:
            copy.write_row((day, last))
    for table in tables:
        cur.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT max(id) FROM {table}), 1))"
        )


def load(total: int, *, truncate: bool, seed: int) -> None:
    log = print
    db_name = require_postgresql()
    started = time.perf_counter()
    org = prepare_django(truncate, log)
    rng = random.Random(seed)
    pools = build_pools(org, rng)
    log(f"准备数据池：{time.perf_counter() - started:.1f} 秒；开始向 {db_name} 装载 {total:,} 件工单")
    load_started = time.perf_counter()
    with connect() as conn:
        with conn.cursor() as cur:
            cur.execute("SET synchronous_commit = off")
            cur.execute("SET maintenance_work_mem = '1GB'")
            tables = present_tables(cur)
            schema = read_schema(cur, tables)
            cur.execute(f"TRUNCATE {', '.join([*tables, COUNTER_TABLE])} CASCADE")
            drop_schema(cur, schema, tables)
        writer = CopyWriter(conn)
        writer.start()
        write_citizens(writer, pools, tables)
        counters = simulate(total, pools, writer, rng, log)
        writer.close()
        copied = time.perf_counter() - load_started
        rows = sum(writer.rows.values())
        log(f"COPY 完成：{rows:,} 行，{copied:.1f} 秒（{rows / copied:,.0f} 行/秒）")
        with conn.cursor() as cur:
            finish(cur, counters, tables)
            restore_schema(cur, schema, log)
        conn.commit()
        committed = time.perf_counter() - load_started
        conn.autocommit = True
        vacuum_started = time.perf_counter()
        for table in tables:
            conn.execute(f"VACUUM (ANALYZE) {table}")
        log(f"VACUUM ANALYZE：{time.perf_counter() - vacuum_started:.1f} 秒")
    total_time = time.perf_counter() - started
    log("")
    for table, n in writer.rows.items():
        log(f"  {table:<22} {n:>12,} 行")
    log(f"装载（COPY + 重建索引约束 + 提交）：{committed:.1f} 秒，{rows / committed:,.0f} 行/秒，"
        f"{total / committed:,.0f} 件工单/秒")  # fmt: skip
    log(f"总用时（含迁移、数据池、VACUUM ANALYZE）：{total_time:.1f} 秒（{total_time / 60:.1f} 分钟）")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="向 PostgreSQL 基准库批量装载工单（COPY）。")
    parser.add_argument("cases", nargs="?", type=int, default=1_000_000, help="工单数量，默认 1,000,000")
    parser.add_argument(
        "--truncate", action="store_true", help="库中已有工单时先清空（工单、流转、市民等表）"
    )
    parser.add_argument("--seed", type=int, default=2024, help="随机数种子")
    args = parser.parse_args(argv)
    load(args.cases, truncate=args.truncate, seed=args.seed)


if __name__ == "__main__":
    main()
