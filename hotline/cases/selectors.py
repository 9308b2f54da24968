"""Every read of cases, already restricted to what the user may see (ORG-2)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    prefetch_related_objects,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce
from django.db.models.lookups import IsNull
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.common import clock
from hotline.common.errors import NotFound
from hotline.common.models import DictItem
from hotline.common.refcache import RefCache
from hotline.common.validators import normalize_phone
from hotline.orgs.models import Unit, User
from hotline.orgs.selectors import UNITS, sees_everything, visible_unit_filter
from hotline.sla import services as sla

from . import lifecycle
from .models import (
    OPEN_ASSIGNMENT_STATUSES,
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Callback,
    Case,
    CaseEvent,
    CaseStatus,
    ExtensionRequest,
    OverdueMark,
    RequestStatus,
    ReturnRequest,
)

DEFAULT_SEARCH_DAYS = 31
DICT_ITEMS = RefCache(DictItem)
SORTABLE = {
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "case_type": ("case_type__sort_order", "-created_at"),
    "-case_type": ("-case_type__sort_order", "-created_at"),
    "urgency": ("urgency__rank", "-created_at"),
    "-urgency": ("-urgency__rank", "-created_at"),
    "status": ("status", "-created_at"),
    "-status": ("-status", "-created_at"),
}
IN_UNITS = [CaseStatus.DISPATCHED, CaseStatus.HANDLING, CaseStatus.REDO]


def case_visible(*, user: User) -> QuerySet[Case]:
    """Cases the user's unit is or was involved in; everything for the hotline office and city leaders."""
    qs = Case.objects.all()
    if sees_everything(user):
        return qs
    involved = Assignment.objects.filter(visible_unit_filter(user), case_id=OuterRef("pk"))
    return qs.filter(Exists(involved))


def case_get(*, user: User, pk: int, related: tuple[str, ...] = ()) -> Case:
    # Few joins on purpose: a twelve-table join costs the planner more than the lazy look-ups of the rest.
    case = (
        case_visible(user=user)
        .select_related("case_type", "urgency", "citizen", *related)
        .filter(pk=pk)
        .order_by()
        .first()
    )
    if case is None:
        raise NotFound(_("工单不存在或无权查看"))
    DICT_ITEMS.attach(case, "nature", "secrecy", "not_accepted_reason")
    UNITS.attach(case, "bureau", "district", "location_unit", "main_unit")
    return case


def case_get_for_display(*, user: User, pk: int) -> Case:
    """`case_get` plus what the detail page shows of the case's relations, without a query per row."""
    case = case_get(user=user, pk=pk, related=("intake_by",))
    prefetch_related_objects([case], Prefetch("callbacks", queryset=Callback.objects.select_related("actor")))
    return case


def case_require_visible(*, user: User, pk: int) -> None:
    if not case_visible(user=user).filter(pk=pk).exists():
        raise NotFound(_("工单不存在或无权查看"))


def assignment_get(*, user: User, pk: int) -> Assignment:
    assignment = Assignment.objects.select_related("case", "unit").filter(pk=pk).first()
    if assignment is None or not case_visible(user=user).filter(pk=assignment.case_id).exists():
        raise NotFound(_("交办环节不存在或无权查看"))
    return assignment


def overdue_q(now: dt.datetime | None = None, *, prefix: str = "") -> Q:
    """Overdue at some point (a yellow card was raised: its `OverdueMark`; or the handling deadline has passed):
    supervision. `prefix` ("case__") states it for a related case (analytics' rows per assignment).

    The mark is looked up per case, not joined: ORed with the deadline test, a join made PostgreSQL hash every
    mark ever written (0.4 s for a count over 10 k open cases with 750 k marks) where one primary-key probe per
    case suffices. A plain EXISTS is no better: under an OR PostgreSQL may turn it into a hashed subplan, which
    reads every mark too. A scalar subquery (`(SELECT case_id … LIMIT 1) IS NOT NULL`) is never hashed.
    """
    mark = OverdueMark.objects.filter(case_id=OuterRef(f"{prefix}pk")).values("case_id")[:1]
    marked = IsNull(Subquery(mark), False)
    return Q(marked) | Q(**{f"{prefix}due_at__lt": now or clock.now(), f"{prefix}status__in": IN_UNITS})


def overdue_now_q(now: dt.datetime | None = None) -> Q:
    """Overdue now: a deadline that is still running (any stage: sign-for, reply, callback, total) has passed."""
    late = sla.clock_rows().filter(
        case_id=OuterRef("pk"), stopped_at__isnull=True, due_at__lt=now or clock.now()
    )
    return Q(Exists(late))


def _running_clock(**outer: Any) -> QuerySet[Any]:
    """The running clocks of a case or assignment, the nearest deadline first: the first is the current stage."""
    return sla.clock_rows().filter(stopped_at__isnull=True, **outer).order_by("due_at", "id")


def with_running_deadline(qs: QuerySet[Case]) -> QuerySet[Case]:
    """Each case with the deadline now running (`running_due`) and its stage (`running_stage`)."""
    clocks = _running_clock(case_id=OuterRef("pk"))
    return qs.annotate(
        running_due=Subquery(clocks.values("due_at")[:1]),
        running_stage=Subquery(clocks.values("stage")[:1]),
    )


@dataclass
class CaseFilters:
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None
    number: str = ""
    case_type: int | None = None
    statuses: list[str] = field(default_factory=list)
    caller_phone: str = ""
    channel: str = ""
    unit: int | None = None
    district: int | None = None
    keywords: str = ""
    active: bool | None = None
    overdue: bool | None = None
    citizen: int | None = None
    processing: str = ""
    supervision: str = ""
    typical_recording: bool | None = None
    call_id: str = ""
    typical: bool | None = None
    # Supervision figures (SLA-5) link to their cases: an event of `unit` (or of any unit) in [since, until).
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    alert: str = ""  # warning / yellow / red / reminder raised
    alert_stage: str = ""  # … on a clock of this stage (the sweep's digest notices list their cases)
    late_stage: str = ""  # sign_for / reply clock started in the period that ran past its deadline
    received: bool | None = None  # assigned (not copied) in the period
    extension: str = ""  # requested / approved: an extension requested in the period
    late_report: bool | None = None  # reported in the period after the deadline
    dissatisfied: bool | None = None
    # the cross-tab's drill-down (analytics): the same filters as a cross-tab cell
    not_statuses: list[str] = field(default_factory=list)
    bureau: int | None = None
    nature: int | None = None
    urgency: int | None = None
    main_unit: int | None = None
    main_unit_tree: int | None = None
    unit_tree: int | None = None  # given (main or assisting, not copied) to the unit or one of its sub-units
    location_unit: int | None = None
    location_tree: int | None = None
    ordering: str = "-created_at"


def case_search(*, user: User, filters: CaseFilters) -> QuerySet[Case]:
    """QRY-1..3. Without a time range, number, phone or citizen, the last month is searched."""
    qs = case_visible(user=user)
    f = filters
    targeted = bool(f.number or f.caller_phone or f.citizen or f.call_id or f.since or f.until)
    if f.created_from is None and f.created_to is None and not targeted:
        qs = qs.filter(created_at__gte=clock.now() - dt.timedelta(days=DEFAULT_SEARCH_DAYS))
    if f.created_from is not None:
        qs = qs.filter(created_at__gte=f.created_from)
    if f.created_to is not None:
        qs = qs.filter(created_at__lt=f.created_to)
    if f.number:
        qs = qs.filter(number=f.number.strip())
    if f.call_id:  # the phone system's call id, kept by intake (INT-3)
        qs = qs.filter(origin__call_id=f.call_id.strip())
    if f.case_type:
        qs = qs.filter(case_type_id=f.case_type)
    if f.statuses:
        qs = qs.filter(status__in=f.statuses)
    if f.caller_phone:
        qs = qs.filter(citizen_phone=normalize_phone(f.caller_phone))
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.unit:
        qs = qs.filter(Exists(Assignment.objects.filter(case_id=OuterRef("pk"), unit_id=f.unit)))
    if f.district:
        qs = qs.filter(district_id=f.district)
    for word in f.keywords.split():
        qs = qs.filter(Q(title__contains=word) | Q(content__contains=word) | Q(keywords__contains=word))
    if f.active is not None:
        finished = Q(status__in=lifecycle.FINISHED_STATUSES)
        qs = qs.exclude(finished) if f.active else qs.filter(finished)
    if f.overdue:
        qs = qs.filter(overdue_now_q())
    if f.citizen:
        qs = qs.filter(citizen_id=f.citizen)
    if f.processing:
        qs = qs.filter(status__in=lifecycle.statuses_in(f.processing))
    if f.supervision:
        qs = qs.filter(_supervision_q(f.supervision))
    if f.typical_recording is not None:
        qs = qs.filter(is_typical_recording=f.typical_recording)
    if f.typical is not None:
        qs = qs.filter(is_typical=f.typical)
    if f.dissatisfied:
        qs = qs.filter(dissatisfied_count__gt=0)
    qs = _crosstab_filters(qs, f)
    qs = _supervision_event_filters(qs, f)
    if f.caller_phone or f.citizen:
        from .masking import without_secret_callers

        qs = without_secret_callers(qs, user)  # searching by caller must not confirm a secret caller (ORG-4)
    return (
        with_running_deadline(qs)
        .select_related("case_type", "urgency", "main_unit", "district")
        .order_by(*SORTABLE.get(f.ordering, SORTABLE["-created_at"]))
    )


def _tree_path(pk: int) -> str:
    """The path of a unit's subtree; a unit that does not exist matches nothing."""
    path = Unit.objects.filter(pk=pk).values_list("path", flat=True).first()
    return path or "/-/"


def _crosstab_filters(qs: QuerySet[Case], f: CaseFilters) -> QuerySet[Case]:
    """The filters of a cross-tab cell (analytics/crosstab), with the same definitions as its engine."""
    if f.not_statuses:
        qs = qs.exclude(status__in=f.not_statuses)
    for key in ("bureau", "nature", "urgency", "main_unit", "location_unit"):
        value = getattr(f, key)
        if value:
            qs = qs.filter(**{f"{key}_id": value})
    if f.main_unit_tree:
        qs = qs.filter(main_unit__path__startswith=_tree_path(f.main_unit_tree))
    if f.location_tree:
        qs = qs.filter(location_unit__path__startswith=_tree_path(f.location_tree))
    if f.unit_tree:
        given = Assignment.objects.filter(
            case_id=OuterRef("pk"), unit__path__startswith=_tree_path(f.unit_tree)
        ).exclude(role=AssignmentRole.CC)
        qs = qs.filter(Exists(given))
    return qs


def _in_period(field: str, f: CaseFilters) -> dict[str, Any]:
    bounds: dict[str, Any] = {}
    if f.since is not None:
        bounds[f"{field}__gte"] = f.since
    if f.until is not None:
        bounds[f"{field}__lt"] = f.until
    return bounds


def _supervision_event_filters(qs: QuerySet[Case], f: CaseFilters) -> QuerySet[Case]:
    """The cases behind one figure of the supervision page, with the same definitions as sla/selectors.py."""
    unit = {"unit_id": f.unit} if f.unit else {}
    if f.alert:
        stage = {"clock__stage": f.alert_stage} if f.alert_stage else {}
        alerts = sla.alert_rows().filter(
            case_id=OuterRef("pk"), kind=f.alert, **unit, **stage, **_in_period("raised_at", f)
        )
        qs = qs.filter(Exists(alerts))
    if f.late_stage:
        # "replied late" counts a forwarded step late to the unit above as well (stage `forwarded`)
        stages = sla.UNIT_REPLY_STAGES if f.late_stage == sla.Stage.REPLY else (f.late_stage,)
        clocks = sla.clock_rows().filter(
            case_id=OuterRef("pk"), stage__in=stages, **_in_period("started_at", f)
        )
        if f.unit:
            clocks = clocks.filter(unit_id=f.unit)
        late = clocks.filter(
            Q(stopped_at__gt=F("due_at")) | Q(stopped_at__isnull=True, yellow_at__isnull=False)
        )
        qs = qs.filter(Exists(late))
    if f.received:
        rows = Assignment.objects.filter(case_id=OuterRef("pk"), **unit, **_in_period("assigned_at", f))
        qs = qs.filter(Exists(rows.exclude(role=AssignmentRole.CC)))
    if f.extension:
        requests = ExtensionRequest.objects.filter(
            assignment__case_id=OuterRef("pk"), **_in_period("requested_at", f)
        )
        if f.unit:
            requests = requests.filter(assignment__unit_id=f.unit)
        if f.extension == RequestStatus.APPROVED:
            requests = requests.filter(status=RequestStatus.APPROVED)
        qs = qs.filter(Exists(requests))
    if f.late_report:
        reports = Assignment.objects.filter(
            case_id=OuterRef("pk"),
            status=AssignmentStatus.REPORTED,
            finished_at__gt=F("due_at"),
            **unit,
            **_in_period("finished_at", f),
        )
        qs = qs.filter(Exists(reports))
    event = f.alert or f.late_stage or f.received or f.extension or f.late_report
    if (f.since is not None or f.until is not None) and not event:
        qs = qs.filter(**_in_period("created_at", f))
    return qs


def _supervision_q(kind: str) -> Q:
    S = lifecycle.Supervision
    perfunctory, wrong, overdue = Q(is_perfunctory=True), Q(is_wrong=True), overdue_q()
    if kind == S.OVERDUE:
        return overdue
    if kind == S.PERFUNCTORY:
        return perfunctory
    if kind == S.WRONG:
        return wrong
    if kind == S.VIOLATION:
        return overdue | perfunctory | wrong
    return ~(overdue | perfunctory | wrong)


def supervision_of(case: Case) -> list[str]:
    S = lifecycle.Supervision
    marks: list[str] = []
    late = bool(case.due_at and case.due_at < clock.now() and case.status in IN_UNITS)
    if late or OverdueMark.objects.filter(case_id=case.pk).exists():
        marks.append(S.OVERDUE)
    if case.is_perfunctory:
        marks.append(S.PERFUNCTORY)
    if case.is_wrong:
        marks.append(S.WRONG)
    return marks or [S.NORMAL]


WORKLIST_TABS = {
    "to_sign": [AssignmentStatus.PENDING],
    "handling": [AssignmentStatus.HANDLING, AssignmentStatus.FORWARDED, AssignmentStatus.RETURN_PENDING],
    "open": list(OPEN_ASSIGNMENT_STATUSES),
    "cc": [AssignmentStatus.INFORMED],
}


def worklist(*, user: User, tab: str = "open") -> QuerySet[Assignment]:
    """A unit's assignments to act on, the running deadline nearest first (overdue ones first of all).

    The running deadline is the clock of the current stage (to sign: the sign-for deadline; then the reply
    deadline). Each row also says whether a lower level it forwarded to has reported (`child_reported`) and,
    for a forwarded row, the deadline of the unit above (`parent_due`).
    """
    statuses = WORKLIST_TABS.get(tab, WORKLIST_TABS["open"])
    if user.unit_id is None:
        return Assignment.objects.none()
    clocks = _running_clock(assignment_id=OuterRef("pk"))
    reported_below = Assignment.objects.filter(
        parent_id=OuterRef("pk"),
        round=OuterRef("round"),
        role=AssignmentRole.MAIN,
        status=AssignmentStatus.REPORTED,
    )
    return (
        Assignment.objects.filter(unit_id=user.unit_id, status__in=statuses)
        .annotate(
            running_due=Coalesce(Subquery(clocks.values("due_at")[:1]), F("due_at")),
            running_stage=Subquery(clocks.values("stage")[:1]),
            child_reported=Exists(reported_below),
            parent_due=F("parent__due_at"),
        )
        .select_related("case", "case__case_type", "case__urgency", "unit")
        .order_by(F("running_due").asc(nulls_last=True), "id")
    )


def case_timeline(*, case: Case | None = None, case_id: int | None = None) -> QuerySet[CaseEvent]:
    pk = case.pk if case is not None else case_id
    if pk is None:
        raise ValueError("case_timeline needs a case or a case_id")
    return (
        CaseEvent.objects.filter(case_id=pk)
        .select_related("actor", "unit", "assignment__unit")
        .order_by("at", "id")
    )


def case_assignments(*, case: Case) -> QuerySet[Assignment]:
    return (
        case.assignments.select_related("unit", "signed_by")
        .prefetch_related("records")
        .order_by("round", "level", "id")
    )


def pending_extensions(*, user: User) -> QuerySet[ExtensionRequest]:
    return ExtensionRequest.objects.filter(
        status=RequestStatus.PENDING, assignment__case__in=case_visible(user=user)
    ).select_related("assignment__unit", "assignment__case", "requested_by")


# --------------------------------------------------------------------------- workbench queues and figures

OPEN_STATUSES = [s for s, p in lifecycle.PROCESSING_OF_STATUS.items() if p != lifecycle.Processing.DONE]


def office_queue(*, user: User, statuses: list[str], by_deadline: bool = False) -> QuerySet[Case]:
    """The office's queues, each row with its running deadline; by urgency then age, or by that deadline."""
    qs = with_running_deadline(case_visible(user=user).filter(status__in=statuses)).select_related(
        "case_type", "urgency", "main_unit", "district"
    )
    if by_deadline:
        return qs.order_by(F("running_due").asc(nulls_last=True), "created_at", "id")
    return qs.order_by("-urgency__rank", "created_at", "id")


def my_intake_queue(*, user: User, statuses: list[str]) -> QuerySet[Case]:
    return office_queue(user=user, statuses=statuses).filter(intake_by=user)


def channel_requests_queue(*, user: User) -> QuerySet[Case]:
    """Citizens' own requests (portal, WeChat, SMS, e-mail…) waiting for an agent to take them, by their channel's
    reply clock (`origin.reply_due_at`, set by the channel: 3 minutes online and by SMS, 24 hours by e-mail), so
    the overdue ones come first; requests without a clock after them, oldest first."""
    return (
        office_queue(user=user, statuses=[CaseStatus.DRAFT])
        .filter(intake_by__isnull=True)
        .annotate(reply_due_text=KT("origin__reply_due_at"))
        .order_by(F("reply_due_text").asc(nulls_last=True), "created_at", "id")
    )


def supervision_awaiting_opinion(*, user: User) -> QuerySet[Case]:
    """Special-supervision cases whose main unit is the leader's unit: they need the leader's opinion."""
    return Case.objects.filter(
        status=CaseStatus.SPECIAL_SUPERVISION, main_unit_id=user.unit_id
    ).select_related("case_type", "urgency", "main_unit")


def status_counts(qs: QuerySet[Case]) -> dict[str, int]:
    return {row["status"]: row["n"] for row in qs.values("status").annotate(n=Count("id")).order_by()}


def timezone_midnight(moment: dt.datetime) -> dt.datetime:
    local = timezone.localtime(moment)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def open_board(*, user: User) -> list[dict[str, Any]]:
    """Open cases by stage (status) and main unit, for the office's board."""
    rows = (
        case_visible(user=user)
        .filter(status__in=OPEN_STATUSES)
        .values("status", "main_unit__name")
        .annotate(n=Count("id"))
        .order_by("main_unit__name", "status")
    )
    return [dict(row) for row in rows]


def citizen_recent_cases(
    *, user: User, phone: str, limit: int = 10, exclude: int | None = None
) -> QuerySet[Case]:
    phone = normalize_phone(phone)
    if not phone:
        return Case.objects.none()
    from .masking import without_secret_callers

    # A unit must not learn which of its cases a secret caller also made (ORG-4).
    qs = without_secret_callers(case_visible(user=user).filter(citizen_phone=phone), user)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return qs.select_related("case_type", "urgency", "main_unit").order_by("-created_at")[:limit]


NOTICE_OVERDUE_ROLES = ("dispatcher", "monitor", "leader")
NOTICE_CALLBACK_ROLES = ("agent", "monitor", "dispatcher")
NOTICE_UNIT_ROLES = ("unit_handler", "unit_leader")


def notices(*, user: User) -> dict[str, int]:
    """The corner notice area, for the roles each figure concerns: a unit's overdue work to its handlers and
    leaders; the city's overdue cases to the office's dispatchers, monitors and leaders; cases waiting for a
    callback to agents, monitors and dispatchers. Knowledge-base staff and administrators get none."""
    now = clock.now()
    counts = {"overdue": 0, "callback": 0}
    if user.unit_id and not sees_everything(user):
        if user.has_role(*NOTICE_UNIT_ROLES):
            late = _running_clock(assignment_id=OuterRef("pk")).filter(due_at__lt=now)
            counts["overdue"] = (
                Assignment.objects.filter(unit_id=user.unit_id, status__in=OPEN_ASSIGNMENT_STATUSES)
                .filter(Exists(late))
                .count()
            )
        return counts
    if user.has_role(*NOTICE_OVERDUE_ROLES):
        counts["overdue"] = Case.objects.filter(status__in=OPEN_STATUSES).filter(overdue_now_q(now)).count()
    if user.has_role(*NOTICE_CALLBACK_ROLES):
        counts["callback"] = Case.objects.filter(status=CaseStatus.CALLBACK).count()
    return counts


def pending_return(*, case: Case) -> ReturnRequest | None:
    return (
        ReturnRequest.objects.filter(assignment__case=case, status=RequestStatus.PENDING)
        .select_related("reason", "suggested_unit", "assignment__unit")
        .first()
    )


def case_pending_extensions(*, case: Case) -> QuerySet[ExtensionRequest]:
    return ExtensionRequest.objects.filter(
        assignment__case=case, status=RequestStatus.PENDING
    ).select_related("assignment__unit")


def citizen_hidden(case: Case, user: User) -> bool:
    """Cases marked to keep the caller's identity secret show it only to the hotline office (see masking)."""
    from .masking import caller_hidden

    return caller_hidden(case, user)


def phone_masked(case: Case, user: User) -> bool:
    """ORG-4: roles that do not need the caller's number see it masked (and everyone but the office on secret
    cases)."""
    from .masking import number_masked

    return number_masked(case, user)


def hot_questions(*, days: int = 90) -> QuerySet[Case]:
    """CLS-4 热点问题: closed public cases the office marked to push as hot questions, newest first.

    Only public cases, so the list carries nothing the caller did not agree to publish; the screens and the
    portal's data source read it the same way (no user scoping: it is public information).
    """
    since = clock.now() - dt.timedelta(days=days)
    return (
        Case.objects.filter(push_hot=True, is_public=True, status=CaseStatus.CLOSED, closed_at__gte=since)
        .select_related("case_type", "district")
        .order_by("-closed_at", "-id")
    )


def public_reply_texts(cases: list[dict[str, Any]]) -> dict[int, str]:
    """`public_reply` of many cases (rows with `pk` and `answer`) in one query, for lists of public cases."""
    latest: dict[int, str] = {}
    rows = (
        Assignment.objects.filter(
            case_id__in=[c["pk"] for c in cases],
            parent__isnull=True,
            role=AssignmentRole.MAIN,
            status=AssignmentStatus.REPORTED,
        )
        .order_by("case_id", "finished_at")
        .values_list("case_id", "result")
    )
    for case_id, result in rows:
        latest[case_id] = result  # ordered by finish: the last one stays
    return {c["pk"]: latest.get(c["pk"]) or c["answer"] for c in cases}


def public_reply(case: Case) -> str:
    """The reply a public case was closed with: the top main unit's last report, else the agent's answer."""
    result = (
        case.assignments.filter(
            parent__isnull=True, role=AssignmentRole.MAIN, status=AssignmentStatus.REPORTED
        )
        .order_by("-finished_at")
        .values_list("result", flat=True)
        .first()
    )
    return result or case.answer


# --------------------------------------------------------------------------- for the supervision figures (sla)
# The deadline package reads cases here, never from cases.models: the rows its figures count by unit and period
# (it scopes them by unit itself), the statuses it filters by (`AssignmentRole`, `AssignmentStatus`, `CaseStatus`, `RequestStatus`
# as imported above), and the two case lists of its supervision page.


def assignment_rows() -> QuerySet[Assignment]:
    """Every assignment, unscoped: the caller restricts it to the user's units."""
    return Assignment.objects.all()


def extension_rows() -> QuerySet[ExtensionRequest]:
    """Every extension request, unscoped: the caller restricts it to the user's units."""
    return ExtensionRequest.objects.all()


def not_accepted_cases(*, user: User, start: dt.datetime, end: dt.datetime) -> QuerySet[Case]:
    """Cases not accepted (or waiting for that decision) created in [start, end)."""
    return (
        case_visible(user=user)
        .filter(
            status__in=[CaseStatus.NOT_ACCEPTED, CaseStatus.PENDING_NOT_ACCEPTED],
            created_at__gte=start,
            created_at__lt=end,
        )
        .select_related("case_type", "not_accepted_reason")
    )


def repeat_callers_and_dissatisfied(*, user: User, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """Repeat callers (the same number more than once in [start, end)) and dissatisfied cases.

    Numbers are masked as everywhere else for roles that do not need them (`masked`; `search` is then empty, so
    the page links no full number), and secret callers are not counted for those who may not know them."""
    from . import masking

    cases = case_visible(user=user).filter(created_at__gte=start, created_at__lt=end)
    masked = not masking.sees_numbers(user)
    repeats = [
        {
            "citizen_phone": masking.phone(row["citizen_phone"], masked=masked),
            "n": row["n"],
            "search": "" if masked else row["citizen_phone"],
        }
        for row in masking.without_secret_callers(cases, user)
        .exclude(citizen_phone="")
        .values("citizen_phone")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by("-n")[:100]
    ]
    dissatisfied = (
        cases.filter(dissatisfied_count__gt=0)
        .select_related("case_type", "main_unit")
        .order_by("-dissatisfied_count", "-created_at")[:200]
    )
    return {"repeat_callers": repeats, "masked": masked, "dissatisfied": dissatisfied}
