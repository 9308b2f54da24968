"""Topic analysis: most asked with the change on the period before; emerging issues from the hot clusters."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from hotline.analytics.topics import analysis
from hotline.cases import duplicates
from hotline.cases.events import run_queued
from hotline.common import clock
from tests.analytics.reports_fixture import RUN_AT, build
from tests.conftest import submitted_case


def test_most_asked_with_the_change_on_the_period_before(city, people, client):
    build(city, people)
    with clock.frozen_now(RUN_AT):
        spec, topics = analysis.most_asked(
            {"period": "custom", "from": "2026-11-01", "to": "2026-11-30"},
            user=people.dispatcher,
            dimension="case_type",
        )
    # November: A, B complaints, C, D consultations; the 29 days before (2–31 October): F, a complaint
    assert [(t.label, t.n, t.before, t.change) for t in topics] == [
        ("咨询", 2, 0, None),
        ("投诉", 2, 1, 100.0),
    ]
    client.force_login(people.dispatcher)
    with clock.frozen_now(RUN_AT):
        page = client.get(
            reverse("analytics:topics"), {"period": "custom", "from": "2026-11-01", "to": "2026-11-30"}
        )
        assert page.status_code == 200 and "100.0%" in page.content.decode()
        assert client.get(reverse("analytics:topics"), {"dimension": "nope"}).status_code == 400
        assert client.get(reverse("analytics:topics"), {"from": "x", "period": "custom"}).status_code == 400
    client.force_login(people.east_leader)
    assert client.get(reverse("analytics:topics"), {"unit": city.west.pk}).status_code == 404


def test_an_issue_growing_in_one_district_is_emerging(city, people, django_capture_on_commit_callbacks):
    duplicates._cluster_cache.clear()
    now = clock.now()
    with django_capture_on_commit_callbacks(execute=True), clock.frozen_now(now - dt.timedelta(days=10)):
        submitted_case(city, people)
        run_queued()  # the case-events job (the worker, every second) indexes the requests
    with django_capture_on_commit_callbacks(execute=True), clock.frozen_now(now - dt.timedelta(days=2)):
        for _ in range(4):
            submitted_case(city, people)
        run_queued()
    found = analysis.emerging(user=people.dispatcher)
    assert len(found) == 1
    issue = found[0]
    assert (issue.size, issue.earlier, issue.recent, issue.district, issue.share) == (
        5,
        1,
        4,
        "东湖区",
        100.0,
    )
    assert "district=" in issue.url
    duplicates._cluster_cache.clear()
    # spread over two districts, it is not one area's issue
    with django_capture_on_commit_callbacks(execute=True), clock.frozen_now(now - dt.timedelta(days=1)):
        for _ in range(6):
            submitted_case(city, people, location_unit=city.west_comm)
        run_queued()
    assert analysis.emerging(user=people.dispatcher) == []
    duplicates._cluster_cache.clear()
