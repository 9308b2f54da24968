"""Agent-group measures (KPI-1: the assessment of the hotline's own agent groups), each defined once with its
formula shown beside the score. An agent group is a telephony skill group (queue); its members are the staff
accounts of the agents holding that skill (an agent with two skills counts for both groups).

- timely answer: the 20-second service level (measures.service_level) over the calls offered to the group's queue;
- volume: calls the group's queue connected to a person (queue-log "connect" events);
- dispatch accuracy: dispatches made by the group's members, less those later undone (the office approved a
  unit's return and re-dispatched, or re-assigned the case);
- online resolution: first-contact resolution (measures.first_contact_resolution) over the cases the group's
  members registered;
- satisfaction: the five-level satisfaction (measures.satisfaction) over callbacks on the cases the group's
  members registered.
A rate over nothing is `None` ("—"), never 0 or 100.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from hotline.cases.models import SATISFIED_RATINGS, Callback, Case, CaseEvent, CaseStatus, CloseKind
from hotline.telephony.models import Agent, Call, Queue, QueueEvent, QueueLog

from . import measures as m

SERVICE_SECONDS = 20
UNDO_DISPATCH = ("approve_return", "reassign")


@dataclass(frozen=True)
class GroupScope:
    start: dt.datetime
    end: dt.datetime
    now: dt.datetime
    queue: Queue

    def as_scope(self) -> m.Scope:
        return m.Scope(start=self.start, end=self.end, now=self.now)

    def members(self) -> QuerySet[Any]:
        return Agent.objects.filter(skills=self.queue, user__isnull=False).values("user_id")


@dataclass(frozen=True)
class GroupMeasure:
    key: str
    name: Any
    kind: str
    formula: Any
    source: str
    compute: Callable[[GroupScope], m.Figure]


def _offered(scope: GroupScope) -> QuerySet[Call]:
    return m._offered(scope.as_scope()).filter(queue=scope.queue)


def timely_answer(scope: GroupScope) -> m.Figure:
    fast = QueueLog.objects.filter(
        call_id=OuterRef("pk"), event=QueueEvent.CONNECT, wait_ms__lte=SERVICE_SECONDS * 1000
    )
    calls = _offered(scope).annotate(fast=Exists(fast))
    return m.rate(calls.aggregate(den=Count("id"), num=Count("id", filter=Q(fast=True))))


def answered_volume(scope: GroupScope) -> m.Figure:
    n = QueueLog.objects.filter(
        queue=scope.queue, event=QueueEvent.CONNECT, at__gte=scope.start, at__lt=scope.end
    ).count()
    return m.Figure(value=n)


def dispatch_accuracy(scope: GroupScope) -> m.Figure:
    undone = CaseEvent.objects.filter(
        case_id=OuterRef("case_id"), action__in=UNDO_DISPATCH, at__gte=OuterRef("at")
    )
    dispatches = CaseEvent.objects.filter(
        action="dispatch", actor_id__in=scope.members(), at__gte=scope.start, at__lt=scope.end
    ).annotate(undone=Exists(undone))
    return m.rate(dispatches.aggregate(den=Count("id"), num=Count("id", filter=Q(undone=False))))


def _registered(scope: GroupScope) -> QuerySet[Case]:
    return Case.objects.filter(
        intake_by_id__in=scope.members(), created_at__gte=scope.start, created_at__lt=scope.end
    ).exclude(status=CaseStatus.DRAFT)


def online_resolution(scope: GroupScope) -> m.Figure:
    accepted = _registered(scope).exclude(status__in=m.NOT_ACCEPTED)
    return m.rate(
        accepted.aggregate(den=Count("id"), num=Count("id", filter=Q(close_kind=CloseKind.ANSWERED)))
    )


def group_satisfaction(scope: GroupScope) -> m.Figure:
    callbacks = Callback.objects.filter(
        case__intake_by_id__in=scope.members(), created_at__gte=scope.start, created_at__lt=scope.end
    )
    return m.rate(
        callbacks.aggregate(den=Count("id"), num=Count("id", filter=Q(rating__in=SATISFIED_RATINGS)))
    )


GROUP_MEASURES: list[GroupMeasure] = [
    GroupMeasure(
        "group_timely_answer",
        _("及时接听率（坐席组）"),
        m.RATE,
        _("进入本技能组队列、排队20秒内（含）接通的呼叫数 ÷ 进入本技能组队列的呼叫数"),
        "telephony_call, telephony_queuelog",
        timely_answer,
    ),
    GroupMeasure(
        "group_volume",
        _("接听量（坐席组）"),
        m.COUNT,
        _("统计期内本技能组队列人工接通的呼叫数（队列日志“接通”事件）"),
        "telephony_queuelog",
        answered_volume,
    ),
    GroupMeasure(
        "group_dispatch_accuracy",
        _("派单准确率（坐席组）"),
        m.RATE,
        _("本组坐席统计期内的派单中，此后未因退件改派或改派而撤销的派单数 ÷ 本组坐席的派单数"),
        "cases_caseevent",
        dispatch_accuracy,
    ),
    GroupMeasure(
        "group_online_resolution",
        _("在线办结率（坐席组）"),
        m.RATE,
        _("本组坐席受理的工单中，受理时即解答归档的工单数 ÷ 本组坐席受理的工单数（不含暂存、不予受理）"),
        "cases_case",
        online_resolution,
    ),
    GroupMeasure(
        "group_satisfaction",
        _("满意率（坐席组）"),
        m.RATE,
        _("本组坐席受理的工单在统计期内的回访中，（非常满意 + 满意 + 基本满意）的回访数 ÷ 回访总数"),
        "cases_callback, cases_case",
        group_satisfaction,
    ),
]
GROUP_REGISTRY: dict[str, GroupMeasure] = {x.key: x for x in GROUP_MEASURES}
