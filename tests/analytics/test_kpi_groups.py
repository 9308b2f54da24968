"""Agent-group scores: each agent-group measure against hand-computed rows (a group with no calls, an abandoned
call, a case reopened and called back twice, a dispatch undone by a reassignment), graded by the scheme's bands,
frozen on publication, shown and exported to the centre only."""

from __future__ import annotations

import datetime as dt
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from hotline.analytics import group_measures as gm
from hotline.analytics.kpi import services as kpi
from hotline.analytics.kpi.models import GroupScore
from hotline.cases import services
from hotline.cases.models import AssignmentRole
from hotline.common import clock
from hotline.common.errors import ServiceError
from hotline.telephony import services as tel
from hotline.telephony.models import Call, CallStatus, Disposition, Queue, QueueEvent, QueueLog
from tests.analytics.reports_fixture import RUN_AT, SH, T0, build
from tests.analytics.test_kpi import period_of, scheme
from tests.conftest import fresh

DAY = dt.datetime(2026, 11, 24, 9, tzinfo=SH)


def _call(queue, name, minute, *, wait, answered):
    enqueued = DAY + dt.timedelta(minutes=minute)
    call = Call.objects.create(
        call_id=name, caller="13800000000", dialed="12345", queue=queue, status=CallStatus.ENDED,
        disposition=Disposition.ANSWERED if answered else Disposition.ABANDONED,
        started_at=enqueued - dt.timedelta(seconds=10), enqueued_at=enqueued,
        answered_at=enqueued + dt.timedelta(seconds=wait) if answered else None,
        ended_at=enqueued + dt.timedelta(seconds=wait + 60),
    )  # fmt: skip
    QueueLog.objects.create(call=call, queue=queue, event=QueueEvent.ENQUEUE, at=enqueued)
    event = QueueEvent.CONNECT if answered else QueueEvent.ABANDON
    QueueLog.objects.create(
        call=call, queue=queue, event=event, wait_ms=wait * 1000, at=enqueued + dt.timedelta(seconds=wait)
    )


@pytest.fixture
def groups(city, people):
    month = build(city, people)
    general = Queue.objects.create(code="general", name="综合组")
    enterprise = Queue.objects.create(code="enterprise", name="企业组")
    tel.agent_create(
        agent_id="1001", password="secret1", extension="1001", skills=[general], user=people.agent, actor=None
    )
    tel.agent_create(
        agent_id="1002", password="secret2", extension="1002", skills=[enterprise], user=people.dispatcher,
        actor=None,
    )  # fmt: skip
    _call(general, "g1", 0, wait=15, answered=True)  # within 20 s
    _call(general, "g2", 5, wait=30, answered=True)
    _call(general, "g3", 10, wait=45, answered=False)  # abandoned
    # C was dispatched to 西湖区 by mistake: reassigned to 东湖区 (that dispatch is undone)
    with clock.frozen_now(T0 + dt.timedelta(days=6)):
        services.case_reassign(
            case=fresh(month.c), actor=people.dispatcher, expected_version=None,
            targets=[services.Target(city.east, AssignmentRole.MAIN)], opinion="派错单位",
        )  # fmt: skip
    return month, general, enterprise


def figures(queue, key):
    scope = gm.GroupScope(
        start=dt.datetime(2026, 11, 1, tzinfo=SH),
        end=dt.datetime(2027, 1, 1, tzinfo=SH),
        now=RUN_AT,
        queue=queue,
    )
    f = gm.GROUP_REGISTRY[key].compute(scope)
    return f.value, f.numerator, f.denominator


def test_each_group_measure_by_hand(groups):
    month, general, enterprise = groups
    assert figures(general, "group_timely_answer") == (33.3, 1, 3)  # g1 of g1, g2, g3
    assert figures(enterprise, "group_timely_answer") == (None, 0, 0)  # no calls: "—", not 0 or 100
    assert figures(general, "group_volume")[0] == 2 and figures(enterprise, "group_volume")[0] == 0
    # the agent registered A, B, C, D, G (E is a draft, F is October); only D was answered at intake
    assert figures(general, "group_online_resolution") == (20.0, 1, 5)
    # A was reopened (dissatisfied, redone, then satisfied): both callbacks count; B satisfied
    assert figures(general, "group_satisfaction") == (66.7, 2, 3)
    # the dispatcher (enterprise group) dispatched A, B, C in the period; C's dispatch was undone
    assert figures(enterprise, "group_dispatch_accuracy") == (66.7, 2, 3)
    assert figures(general, "group_dispatch_accuracy") == (None, 0, 0)
    assert figures(enterprise, "group_online_resolution") == (None, 0, 0)


def test_group_scores_graded_frozen_and_shown_to_the_centre_only(groups, city, people, client):
    month, general, enterprise = groups
    s = scheme(
        1,
        ("on_time_completion", 10, 100, 0),
        ("group_timely_answer", 30, 100, 0),
        ("group_volume", 10, 4, 0),
        ("group_dispatch_accuracy", 20, 100, 0),
        ("group_online_resolution", 20, 50, 0),
        ("group_satisfaction", 20, 100, 0),
    )
    s.bands = [{"grade": "A", "min": 45}, {"grade": "B", "min": 0}]
    s.save()
    period = period_of(s, people)
    with clock.frozen_now(RUN_AT):
        kpi.compute(period=period, user=people.dispatcher)
    scores = {g.queue.code: g for g in GroupScore.objects.filter(period=period).select_related("queue")}
    g, e = scores["general"], scores["enterprise"]
    assert [d["points"] for d in g.details] == ["33.30", "50.00", None, "40.00", "66.70"]
    # (33.3×30 + 50×10 + 40×20 + 66.7×20) ÷ 80 = 45.4125; enterprise (0×10 + 66.7×20) ÷ 30 = 44.4667
    assert (str(g.total), g.grade, g.rank) == ("45.41", "A", 1)
    assert (str(e.total), e.grade, e.rank) == ("44.47", "B", 2)
    # the units are scored on their own indicator only (东湖区: A on time, B late → 50)
    unit_score = period.scores.get(unit=city.east)
    assert [d["measure"] for d in unit_score.details] == ["on_time_completion"]

    client.force_login(people.dispatcher)
    page = client.get(reverse("analytics:kpi-period", args=[period.pk])).content.decode()
    assert 'data-testid="kpi-group-scores"' in page and "综合组" in page and "派单准确率（坐席组）" in page
    book = load_workbook(
        BytesIO(client.get(reverse("analytics:kpi-period", args=[period.pk]), {"export": "xlsx"}).content)
    )
    rows = [list(r) for r in book["坐席组考核"].iter_rows(values_only=True)]
    assert ["综合组", 33.3, 50.0, None, 40.0, 66.7, 45.41, "A", 1] in rows
    client.force_login(people.east_leader)  # a district sees its own units' scores, never the office's groups
    page = client.get(reverse("analytics:kpi-period", args=[period.pk])).content.decode()
    assert 'data-testid="kpi-group-scores"' not in page and "综合组" not in page

    kpi.publish(period=period, user=people.dispatcher)
    g.total = 99
    with pytest.raises(ServiceError):
        g.save()
    with pytest.raises(ServiceError), clock.frozen_now(RUN_AT):
        kpi.compute(period=period, user=people.dispatcher)
    assert str(GroupScore.objects.get(pk=g.pk).total) == "45.41"


def test_an_unknown_group_measure_is_refused(city, people):
    s = scheme(1, ("group_nonsense", 10, 100, 0))
    with pytest.raises(ServiceError):
        period_of(s, people)
