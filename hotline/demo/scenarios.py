"""Life stories of demo cases: each scenario pushes one case through the real services to a target status.

A `CaseDriver` holds one case and its own clock. Every step moves the clock on by a plausible delay and runs
one service under `clock.frozen_now`, so events, assignments and deadlines carry consistent times.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone

from hotline.cases import services as svc
from hotline.cases.lifecycle import Action
from hotline.cases.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Case,
    CaseStatus,
    CloseKind,
    Rating,
)
from hotline.cases.services import Target
from hotline.common import clock
from hotline.common.errors import ServiceError
from hotline.common.models import DictKind
from hotline.common.workdays import add_working_days, is_workday
from hotline.orgs.models import Role, Unit, UnitKind, User

from . import catalog
from .content import CaseInput, Dictionaries, Request
from .org import DemoOrg

MAIN, ASSISTING = AssignmentRole.MAIN, AssignmentRole.ASSISTING
WORKING = (AssignmentStatus.PENDING, AssignmentStatus.HANDLING)

# (minimum, maximum) minutes between the previous step and this one, and who acts (which hours they keep).
DELAYS: dict[str, tuple[float, float, str]] = {
    "office": (15, 480, "office"),
    "leader": (60, 1440, "unit"),
    "dispatch": (10, 240, "office"),
    "sign": (10, 720, "unit"),
    "forward": (30, 300, "unit"),
    "record": (60, 1440, "unit"),
    "report": (120, 2880, "unit"),
    "callback": (60, 1440, "office"),
    "supervision": (240, 2880, "unit"),
}
# Local opening hours: the hotline office works every day into the evening, units on working days.
HOURS = {"office": (8, 21), "unit": (8, 18)}


def within_hours(moment: dt.datetime, who: str, rng: random.Random) -> dt.datetime:
    """Move `moment` to the next time `who` is at work (some time in the first three hours)."""
    opens, closes = HOURS[who]
    local = timezone.localtime(moment)
    day = local.date()
    if local.hour >= closes:
        day += dt.timedelta(days=1)
    elif local.hour >= opens and (who == "office" or is_workday(day)):
        return moment
    while who == "unit" and not is_workday(day):
        day += dt.timedelta(days=1)
    start = local.replace(year=day.year, month=day.month, day=day.day, hour=opens, minute=0, second=0)
    return start + dt.timedelta(minutes=rng.uniform(0, 180))


NOT_ACCEPTED = {
    "litigation": "来电人反映的纠纷已向法院提起诉讼，属于司法程序处理事项，按规定不予受理。",
    "not_gov": "来电人反映的是企业内部管理事务，不属于政府职能范围，已告知其通过协商解决。",
    "repeat": "来电人就同一事项已多次来电，承办单位已依法答复，无新的诉求内容。",
}


@dataclass
class World:
    """What every scenario needs: the city, the dictionaries, a random source and the people of the office."""

    org: DemoOrg
    dicts: Dictionaries
    rng: random.Random
    _staff: dict[str, list[User]] = field(default_factory=dict, repr=False)

    def pick(self, role: str) -> User:
        if role not in self._staff:
            self._staff[role] = self.org.with_role(role)
        return self.rng.choice(self._staff[role])


class CaseDriver:
    def __init__(
        self, world: World, request: Request, data: CaseInput, start: dt.datetime, limit: dt.datetime
    ):
        self.w = world
        self.rng = world.rng
        self.request = request
        self.data = data
        self.at = start
        self.limit = limit
        self._case: Case | None = None

    # ------------------------------------------------------------------ plumbing

    @property
    def case(self) -> Case:
        assert self._case is not None, "the case is created by intake()"
        return self._case

    def _run(self, delay: str, fn: Callable[[], object]) -> None:
        low, high, who = DELAYS[delay]
        moment = within_hours(self.at + dt.timedelta(minutes=self.rng.uniform(low, high)), who, self.rng)
        if moment > self.limit:
            # Out of time: squeeze the remaining steps into what is left before now.
            moment = self.at + (self.limit - self.at) * self.rng.uniform(0.1, 0.5)
        self.at = moment
        with clock.frozen_now(self.at):
            fn()
        self.case.refresh_from_db()

    def _version(self) -> int:
        return self.case.version

    def _office(self) -> User:
        return self.w.pick(Role.DISPATCHER)

    def _assignments(self, *statuses: str) -> list[Assignment]:
        qs = Assignment.objects.filter(case=self.case, round=self.case.dispatch_round).select_related("unit")
        if statuses:
            qs = qs.filter(status__in=statuses)
        return list(qs.order_by("-level", "role", "id"))

    def _top_main(self) -> Assignment:
        return next(a for a in self._assignments() if a.parent_id is None and a.role == MAIN)

    def _leaf_main(self, *statuses: str) -> Assignment:
        return next(a for a in self._assignments(*statuses) if a.role == MAIN)

    # ------------------------------------------------------------------ intake and office review

    def intake(self, action: str = Action.SUBMIT) -> None:
        answer, reason, text = "", None, ""
        if action == Action.ARCHIVE:
            answer = self.request.answer
        elif action == Action.PROPOSE_NOT_ACCEPTED:
            code = self.rng.choice(list(NOT_ACCEPTED))
            reason, text = self.w.dicts.get(DictKind.NOT_ACCEPTED_REASON, code), NOT_ACCEPTED[code]
        with clock.frozen_now(self.at):
            result = svc.case_intake(
                actor=self.w.pick(Role.AGENT),
                data=self.data,
                action=action,
                answer=answer,
                not_accepted_reason=reason,
                not_accepted_text=text,
            )
        self._case = result.case

    def confirm_not_accepted(self) -> None:
        self._run(
            "office",
            lambda: svc.case_confirm_not_accepted(
                case=self.case,
                actor=self._office(),
                expected_version=self._version(),
                opinion="同意不予受理。",
            ),
        )

    def reject_not_accepted(self) -> None:
        self._run(
            "office",
            lambda: svc.case_reject_not_accepted(
                case=self.case,
                actor=self._office(),
                expected_version=self._version(),
                opinion="该诉求属于政府职能范围，应予受理，请按程序派单。",
            ),
        )

    def return_to_agent(self) -> None:
        self._run(
            "office",
            lambda: svc.case_return_to_agent(
                case=self.case,
                actor=self._office(),
                expected_version=self._version(),
                opinion="诉求记录不完整，请补充事发具体位置和来电人诉求后重新提交。",
            ),
        )

    def resubmit(self) -> None:
        def edit_and_submit() -> None:
            agent = self.w.pick(Role.AGENT)
            self.data.location = f"{self.request.location}（已与来电人核实具体位置）"
            svc.case_edit(case=self.case, actor=agent, expected_version=self._version(), data=self.data)
            svc.case_take_intake_action(
                case=self.case, actor=agent, action=Action.SUBMIT, expected_version=self._version()
            )

        self._run("office", edit_and_submit)

    def close_directly(self) -> None:
        self._run(
            "office",
            lambda: svc.case_close_directly(
                case=self.case,
                actor=self._office(),
                expected_version=self._version(),
                reason="经核实，该事项已由相关单位处理完毕，来电人诉求已满足，直接办结。",
            ),
        )

    def ask_leader(self) -> None:
        self._run(
            "office",
            lambda: svc.case_ask_leader(
                case=self.case,
                actor=self._office(),
                expected_version=self._version(),
                opinion="该诉求涉及多个部门职责，呈请领导批示承办单位。",
            ),
        )

    def leader_instruct(self) -> None:
        self._run(
            "leader",
            lambda: svc.case_leader_instruct(
                case=self.case,
                actor=self.w.pick(Role.LEADER),
                expected_version=self._version(),
                instruction=f"请{self.request.bureau.name}牵头，属地配合，限期办结并回复群众。",
            ),
        )

    # ------------------------------------------------------------------ dispatch

    def _pick_lead(self) -> str:
        """Mostly the template's usual handler; sometimes the DSP-3 default; sometimes the district bureau."""
        template, bureau = self.request.template, self.request.bureau
        if self.rng.random() < 0.25:
            return "default"
        if template.lead == "district" and bureau.parent_id and self.rng.random() < 0.4:
            return "bureau"  # a district bureau: its district is copied automatically
        return template.lead

    def _targets(self, lead: str | None, assisting: bool) -> list[Target]:
        request = self.request
        lead = lead or self._pick_lead()
        if lead == "district":
            main: Unit = request.district
        elif lead == "bureau":
            main = request.bureau
        else:
            default, _why = svc.default_main_unit(self.case)
            main = default or request.district
        targets = [Target(main, MAIN)]
        bureau = request.bureau
        if (
            assisting
            and main.kind == UnitKind.DISTRICT
            and bureau.parent_id is None
            and not bureau.is_vertical
        ):
            targets.append(Target(bureau, ASSISTING))
        return targets

    def dispatch(self, lead: str | None = None, assisting: bool = False) -> None:
        targets = self._targets(lead, assisting)
        self._run(
            "dispatch",
            lambda: svc.case_dispatch(
                case=self.case,
                actor=self._office(),
                expected_version=self._version(),
                targets=targets,
                opinion="请按职责核实办理，并在规定时限内反馈办理结果。",
            ),
        )

    # ------------------------------------------------------------------ units

    def _as_handler(self, assignment: Assignment) -> User:
        return self.w.org.handler(assignment.unit)

    def sign(self) -> None:
        assignment = self._leaf_main(AssignmentStatus.PENDING)
        self._run(
            "sign",
            lambda: svc.assignment_sign_for(
                assignment=assignment, actor=self._as_handler(assignment), expected_version=self._version()
            ),
        )

    def forward(self, to_bureau: bool = False) -> None:
        """District → the incident's street (or a district bureau); street → the incident's community."""
        assignment = self._leaf_main(AssignmentStatus.HANDLING)
        unit = assignment.unit
        if unit.kind == UnitKind.DISTRICT:
            child = self.w.org.unit(unit.code + catalog.CITY_MANAGEMENT) if to_bureau else self.request.street
        else:
            child = self.request.community
        self._run(
            "forward",
            lambda: svc.assignment_forward(
                assignment=assignment,
                actor=self._as_handler(assignment),
                expected_version=self._version(),
                targets=[Target(child, MAIN)],
                opinion=f"请{child.name}核实情况，按时反馈办理结果。",
            ),
        )

    def record(self) -> None:
        """The deepest unit at work writes a handling record (nothing happens if all are still to sign)."""
        handling = [a for a in self._assignments(AssignmentStatus.HANDLING) if a.role == MAIN]
        if not handling:
            return
        assignment = handling[0]
        self._run(
            "record",
            lambda: svc.assignment_record_handling(
                assignment=assignment,
                actor=self._as_handler(assignment),
                expected_version=self._version(),
                result="已电话联系来电人了解具体情况，正在组织人员现场核查。",
                cause="现场核查中",
                solution="约谈责任主体，限期整改",
            ),
        )

    def request_extension(self, decide: bool | None) -> None:
        """Ask for a few more working days (fewer if the time-limit rules allow less); the office may decide."""
        assignment = self._top_main()

        def ask() -> None:
            base = max(assignment.due_at or clock.now(), clock.now())
            for days in (3, 1):
                try:
                    svc.assignment_request_extension(
                        assignment=assignment,
                        actor=self._as_handler(assignment),
                        expected_version=self._version(),
                        requested_due_at=add_working_days(base, days),
                        reason=f"需协调产权单位共同处理，申请延期{days}个工作日。",
                    )
                    return
                except ServiceError:
                    continue  # beyond the longest extension the rules allow: ask for less, or not at all

        self._run("record", ask)
        request = assignment.extension_requests.first()
        if decide is None or request is None:
            return
        self._run(
            "office",
            lambda: svc.extension_decide(
                request=request,
                actor=self._office(),
                expected_version=self._version(),
                approve=decide,
                note="" if decide else "理由不充分，请按原时限办结。",
            ),
        )

    def _finish_one(self, assignment: Assignment) -> None:
        actor = self._as_handler(assignment)
        if assignment.status == AssignmentStatus.PENDING:
            self._run(
                "sign",
                lambda: svc.assignment_sign_for(
                    assignment=assignment, actor=actor, expected_version=self._version()
                ),
            )
        if assignment.role == ASSISTING:
            self._run(
                "record",
                lambda: svc.assignment_give_opinion(
                    assignment=assignment,
                    actor=actor,
                    expected_version=self._version(),
                    opinion="我单位已配合现场核查，同意主办单位的处理意见。",
                ),
            )
        else:
            self._run(
                "report",
                lambda: svc.assignment_report(
                    assignment=assignment,
                    actor=actor,
                    expected_version=self._version(),
                    result=self.request.result,
                ),
            )

    def report_all(self) -> None:
        """Finish every open step bottom-up (assisting units first) until the top main unit has reported."""
        for _ in range(20):
            if self.case.status == CaseStatus.RESULT_REVIEW:
                return
            open_rows = [a for a in self._assignments(*WORKING) if a.role in (MAIN, ASSISTING)]
            if not open_rows:
                raise RuntimeError(
                    f"{self.case.number}: nothing left to report but status is {self.case.status}"
                )
            self._finish_one(open_rows[0])
        raise RuntimeError(f"{self.case.number}: reporting did not finish")

    def return_to_office(self) -> None:
        assignment = self._top_main()
        unit = assignment.unit
        suggested = self.request.district if unit.pk != self.request.district.pk else self.request.bureau
        reason = self.w.dicts.get(DictKind.RETURN_REASON, "not_our_duty")
        self._run(
            "record",
            lambda: svc.assignment_return_to_office(
                assignment=assignment,
                actor=self._as_handler(assignment),
                expected_version=self._version(),
                reason=reason,
                text=f"经核实，该诉求不属于本单位职责范围，建议改派{suggested.name}办理。",
                suggested_unit=suggested,
            ),
        )

    def approve_return(self) -> None:
        self._run(
            "office",
            lambda: svc.case_approve_return(
                case=self.case,
                actor=self._office(),
                expected_version=self._version(),
                opinion="同意退件，改派建议单位办理。",
            ),
        )

    def reject_return(self) -> None:
        self._run(
            "office",
            lambda: svc.case_reject_return(
                case=self.case,
                actor=self._office(),
                expected_version=self._version(),
                opinion="经核实该事项属于你单位职责，请继续办理。",
            ),
        )

    # ------------------------------------------------------------------ review, callback, closing

    def review_accept(self) -> None:
        self._run(
            "office",
            lambda: svc.case_review_accept(
                case=self.case,
                actor=self._office(),
                expected_version=self._version(),
                opinion="办理结果符合要求，转回访。",
            ),
        )

    def review_reject(self) -> None:
        self._run(
            "office",
            lambda: svc.case_review_reject(
                case=self.case,
                actor=self._office(),
                expected_version=self._version(),
                opinion="办理结果未回应来电人的主要诉求，请补充办理。",
            ),
        )

    def callback(self, satisfied: bool) -> None:
        rng = self.rng
        if satisfied:
            rating = rng.choice(
                (Rating.VERY_SATISFIED, Rating.SATISFIED, Rating.SATISFIED, Rating.BASICALLY_SATISFIED)
            )
            words = rng.choice(catalog.CALLBACK_GOOD_WORDS)
        else:
            rating = rng.choice((Rating.DISSATISFIED, Rating.DISSATISFIED, Rating.VERY_DISSATISFIED))
            words = rng.choice(catalog.CALLBACK_BAD_WORDS)
        actor = self.w.pick(rng.choice((Role.AGENT, Role.AGENT, Role.MONITOR)))
        method = "phone" if rng.random() < 0.8 else "sms"
        responded, solution = catalog.callback_answers(
            satisfied, random.Random(f"{self.case.number}/{self.case.dissatisfied_count}")
        )
        self._run(
            "callback",
            lambda: svc.case_callback(
                case=self.case,
                actor=actor,
                expected_version=self._version(),
                rating=rating,
                method=method,
                responded=responded,
                solution=solution,
                citizen_words=words,
            ),
        )

    def supervision_opinion(self) -> None:
        leader = self.w.org.leader_of(self._top_main().unit)
        self._run(
            "supervision",
            lambda: svc.case_supervision_opinion(
                case=self.case,
                actor=leader,
                expected_version=self._version(),
                opinion="已召开专题会研究，由分管领导牵头重新办理，确保诉求得到解决。",
            ),
        )

    def office_close(self, reason: str = "经热线办核实，来电人诉求已得到合理答复，决定办结。") -> None:
        self._run(
            "office",
            lambda: svc.case_office_close(
                case=self.case, actor=self._office(), expected_version=self._version(), reason=reason
            ),
        )


# ---------------------------------------------------------------------- scenarios


Steps = Callable[[CaseDriver], None]


@dataclass(frozen=True)
class Scenario:
    """A path to `status`. `age` is the range of days between intake and now: open cases are recent, and a
    long path needs a few days before it can have reached its status."""

    name: str
    status: str
    weight: int
    age: tuple[float, float]
    steps: Steps
    close_kind: str = ""


def _handling(d: CaseDriver, *, forward: int = 0, assisting: bool = False) -> None:
    """Submit, dispatch and sign; forward `forward` levels down (district → street → community)."""
    d.intake()
    lead = "district" if forward else None
    d.dispatch(lead=lead, assisting=assisting)
    d.sign()
    for level in range(forward):
        d.forward(to_bureau=forward == 1 and d.rng.random() < 0.25)
        if level + 1 < forward or d.rng.random() < 0.6:
            d.sign()


def _reported(d: CaseDriver, *, forward: int = 0) -> None:
    _handling(d, forward=forward, assisting=d.rng.random() < 0.2)
    if d.rng.random() < 0.5:
        d.record()
    d.report_all()


def _to_callback(d: CaseDriver, *, forward: int = 0) -> None:
    _reported(d, forward=forward)
    d.review_accept()


def _to_redo(d: CaseDriver) -> None:
    _to_callback(d, forward=d.rng.choice((0, 0, 1, 2)))
    d.callback(satisfied=False)


def _to_special_supervision(d: CaseDriver) -> None:
    _to_redo(d)
    d.report_all()
    d.review_accept()
    d.callback(satisfied=False)


def _handling_recorded(d: CaseDriver) -> None:
    _handling(d, assisting=d.rng.random() < 0.3)
    d.record()


def _handling_forwarded(d: CaseDriver) -> None:
    _handling(d, forward=d.rng.choice((1, 2, 2)))
    if d.rng.random() < 0.5:
        d.record()


def _handling_with_extension(d: CaseDriver) -> None:
    _handling(d)
    d.request_extension(decide=d.rng.choice((True, True, False, None)))


def _after_return(d: CaseDriver, *, approve: bool) -> None:
    d.intake()
    d.dispatch(lead="bureau" if d.request.template.lead == "district" else "district")
    if d.rng.random() < 0.5:
        d.sign()
    d.return_to_office()
    if approve:
        d.approve_return()
    else:
        d.reject_return()


def _closed_after_return(d: CaseDriver) -> None:
    _after_return(d, approve=True)
    d.sign()
    d.report_all()
    d.review_accept()
    d.callback(satisfied=True)


def _closed_after_review_reject(d: CaseDriver) -> None:
    _reported(d)
    d.review_reject()
    d.report_all()
    d.review_accept()
    d.callback(satisfied=True)


def _closed_after_redo(d: CaseDriver) -> None:
    _to_redo(d)
    d.report_all()
    d.review_accept()
    d.callback(satisfied=True)


def _steps(*names: str) -> Steps:
    def run(d: CaseDriver) -> None:
        for name in names:
            getattr(d, name)()

    return run


def _chain(*parts: Steps) -> Steps:
    def run(d: CaseDriver) -> None:
        for part in parts:
            part(d)

    return run


S, K = CaseStatus, CloseKind
_propose = lambda d: d.intake(Action.PROPOSE_NOT_ACCEPTED)  # noqa: E731
SCENARIOS: tuple[Scenario, ...] = (
    Scenario("draft", S.DRAFT, 3, (0, 3), lambda d: d.intake(Action.SAVE_DRAFT)),
    Scenario("pending_not_accepted", S.PENDING_NOT_ACCEPTED, 2, (0, 2), _propose),
    Scenario("not_accepted", S.NOT_ACCEPTED, 3, (0.5, 60), _chain(_propose, _steps("confirm_not_accepted"))),
    Scenario("submitted", S.SUBMITTED, 3, (0, 1), _steps("intake")),
    Scenario(
        "submitted_after_rejected_not_accepted",
        S.SUBMITTED,
        1,
        (0.3, 2),
        _chain(_propose, _steps("reject_not_accepted")),
    ),
    Scenario("returned", S.RETURNED, 2, (0.3, 3), _steps("intake", "return_to_agent")),
    Scenario("leader_review", S.LEADER_REVIEW, 2, (0.3, 3), _steps("intake", "ask_leader")),
    Scenario("dispatched", S.DISPATCHED, 4, (0.2, 2), _steps("intake", "dispatch")),
    Scenario(
        "dispatched_after_leader",
        S.DISPATCHED,
        1,
        (1.5, 4),
        _steps("intake", "ask_leader", "leader_instruct", "dispatch"),
    ),
    Scenario(
        "dispatched_after_resubmit",
        S.DISPATCHED,
        1,
        (1, 4),
        _steps("intake", "return_to_agent", "resubmit", "dispatch"),
    ),
    Scenario("handling", S.HANDLING, 6, (1.5, 7), _handling_recorded),
    Scenario("handling_forwarded", S.HANDLING, 6, (2, 7), _handling_forwarded),
    Scenario("handling_extension", S.HANDLING, 2, (3, 10), _handling_with_extension),
    Scenario(
        "handling_after_rejected_return", S.HANDLING, 1, (3, 8), lambda d: _after_return(d, approve=False)
    ),
    Scenario(
        "return_review",
        S.RETURN_REVIEW,
        3,
        (1.5, 5),
        _chain(_steps("intake", "dispatch"), lambda d: d.return_to_office()),
    ),
    Scenario("dispatched_after_return", S.DISPATCHED, 1, (3, 6), lambda d: _after_return(d, approve=True)),
    Scenario(
        "result_review", S.RESULT_REVIEW, 5, (4, 9), lambda d: _reported(d, forward=d.rng.choice((0, 1, 2)))
    ),
    Scenario("callback", S.CALLBACK, 6, (5, 12), lambda d: _to_callback(d, forward=d.rng.choice((0, 1, 2)))),
    Scenario("redo", S.REDO, 3, (7, 16), _to_redo),
    Scenario(
        "redo_after_supervision",
        S.REDO,
        1,
        (16, 30),
        _chain(_to_special_supervision, _steps("supervision_opinion")),
    ),
    Scenario("special_supervision", S.SPECIAL_SUPERVISION, 2, (14, 25), _to_special_supervision),
    Scenario(
        "closed_satisfied",
        S.CLOSED,
        16,
        (7, 60),
        _chain(lambda d: _to_callback(d, forward=d.rng.choice((0, 0, 1))), lambda d: d.callback(True)),
        K.SATISFIED,
    ),
    Scenario(
        "closed_satisfied_forwarded",
        S.CLOSED,
        6,
        (9, 60),
        _chain(lambda d: _to_callback(d, forward=2), lambda d: d.callback(True)),
        K.SATISFIED,
    ),
    Scenario("closed_after_redo", S.CLOSED, 3, (18, 60), _closed_after_redo, K.SATISFIED),
    Scenario("closed_after_review_reject", S.CLOSED, 2, (14, 60), _closed_after_review_reject, K.SATISFIED),
    Scenario("closed_after_return", S.CLOSED, 2, (14, 60), _closed_after_return, K.SATISFIED),
    Scenario("closed_answered", S.CLOSED, 10, (0, 60), lambda d: d.intake(Action.ARCHIVE), K.ANSWERED),
    Scenario("closed_directly", S.CLOSED, 4, (0.5, 60), _steps("intake", "close_directly"), K.DIRECT),
    Scenario(
        "closed_office",
        S.CLOSED,
        2,
        (4, 60),
        _chain(
            _handling, lambda d: d.office_close("来电人表示问题已自行解决，申请撤回诉求，热线办决定办结。")
        ),
        K.OFFICE,
    ),
    Scenario(
        "closed_office_after_supervision",
        S.CLOSED,
        1,
        (25, 60),
        _chain(_to_special_supervision, lambda d: d.office_close()),
        K.OFFICE,
    ),
)
