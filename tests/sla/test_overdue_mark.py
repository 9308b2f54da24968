"""The overdue mark lives in a narrow table (`cases.OverdueMark`), not in the case row (issue 11, item 20): the sweep
writes it without touching the case, and every reader of "overdue" — the case's supervision marks (API), the search
filter, the live analytics counts and the unit ranking — sees it as it saw the old column."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Q

from hotline.analytics import measures as m
from hotline.analytics.measures import Scope
from hotline.cases import selectors
from hotline.cases.models import Assignment, Case, OverdueMark
from hotline.common import clock
from hotline.common.models import AuditLog
from hotline.sla.sweep import sweep
from tests.conftest import as_user, dispatched_to, fresh

SH = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2026, 11, 23, 10, tzinfo=SH)  # Monday
LATER = dt.datetime(2026, 12, 21, 10, tzinfo=SH)  # every deadline of a case dispatched at START has passed


def test_a_carded_case_is_overdue_everywhere_without_its_row_being_written(api, city, people):
    with clock.frozen_now(START):
        carded = dispatched_to(city, people, city.west)
        calm = dispatched_to(city, people, city.west)
    before = Case.objects.filter(pk=carded.pk).values("version", "updated_at").get()
    with clock.frozen_now(LATER):
        sweep()
    assert Case.objects.filter(pk=carded.pk).values("version", "updated_at").get() == before
    assert OverdueMark.objects.filter(case=carded, at=LATER).exists()
    audit = AuditLog.objects.get(object_type="cases.case", summary="时限到期，标记为超期")
    assert audit.changes["is_overdue"] == [False, True] and carded.pk in audit.changes["cases"]
    # From here on only the mark makes it overdue: its handling deadline moved ahead, the other case's mark removed.
    later = LATER + dt.timedelta(days=30)
    Case.objects.filter(pk__in=[carded.pk, calm.pk]).update(due_at=later)
    OverdueMark.objects.filter(case=calm).delete()

    client = as_user(api, people.dispatcher)

    def search(supervision: str) -> set[int]:
        rows = client.get("/api/v1/cases/", {"supervision": supervision, "page_size": 100}).json()["results"]
        return {carded.pk, calm.pk} & {r["id"] for r in rows}

    with clock.frozen_now(LATER):
        assert client.get(f"/api/v1/cases/{carded.pk}/").json()["supervision"] == ["overdue"]
        assert client.get(f"/api/v1/cases/{calm.pk}/").json()["supervision"] == ["normal"]
        assert selectors.supervision_of(fresh(carded)) == ["overdue"]
        assert selectors.supervision_of(fresh(calm)) == ["normal"]
        assert search("overdue") == search("violation") == {carded.pk}
        assert search("normal") == {calm.pk}
        scope = Scope(start=LATER - dt.timedelta(days=60), end=LATER, now=LATER, unit=city.west)
        assert m.overdue_cases(scope).value == 1
        rows = {r["name"]: r for r in m.open_by_unit(scope).breakdown}
        assert (rows[city.west.name]["n"], rows[city.west.name]["overdue"]) == (2, 1)

    # the mark is written once: a later sweep (the red card) neither adds a row nor an audit row
    with clock.frozen_now(LATER + dt.timedelta(days=3)):
        sweep()
    assert OverdueMark.objects.filter(case=carded).count() == 1
    assert AuditLog.objects.filter(object_type="cases.case", summary="时限到期，标记为超期").count() == 1


def test_overdue_looked_up_per_case_selects_what_the_join_selected(city, people):
    """`overdue_q` looks the mark up per case (the join ORed with the deadline test hashed every mark on
    PostgreSQL): the same cases as the join's form, for cases and, prefixed, for their assignments."""
    with clock.frozen_now(START):
        marked_ahead, late, calm, marked_closed, late_closed = (
            dispatched_to(city, people, city.west) for _ in range(5)
        )
    ahead, behind = LATER + dt.timedelta(days=30), START
    Case.objects.filter(pk__in=[marked_ahead.pk, calm.pk]).update(due_at=ahead)
    Case.objects.filter(pk__in=[late.pk, marked_closed.pk, late_closed.pk]).update(due_at=behind)
    Case.objects.filter(pk__in=[marked_closed.pk, late_closed.pk]).update(status="closed")
    OverdueMark.objects.bulk_create([OverdueMark(case=c, at=START) for c in (marked_ahead, marked_closed)])
    ours = {marked_ahead.pk, late.pk, calm.pk, marked_closed.pk, late_closed.pk}

    joined = Q(overdue_mark__isnull=False) | Q(due_at__lt=LATER, status__in=selectors.IN_UNITS)
    cases = set(Case.objects.filter(selectors.overdue_q(LATER), pk__in=ours).values_list("pk", flat=True))
    assert cases == {marked_ahead.pk, late.pk, marked_closed.pk}
    assert cases == set(Case.objects.filter(joined, pk__in=ours).values_list("pk", flat=True))

    def assigned(condition: Q) -> set[int]:
        return set(Assignment.objects.filter(condition, case_id__in=ours).values_list("case_id", flat=True))

    assert assigned(selectors.overdue_q(LATER, prefix="case__")) == cases
    assert assigned(m._prefixed(joined, "case__")) == cases
    with pytest.raises(TypeError):  # a subquery cannot be prefixed after the fact: it takes `prefix` itself
        m._prefixed(selectors.overdue_q(LATER), "case__")
