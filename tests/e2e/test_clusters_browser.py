"""Hot clusters: the office sees three similar open requests as one group and merges one of them from there."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from hotline.cases.events import run_queued
from hotline.cases.models import CaseStatus
from tests.conftest import dispatched_to, fresh, submitted_case
from tests.e2e.test_case_loop_browser import Desk

pytestmark = pytest.mark.django_db(transaction=True)


def test_office_merges_a_member_of_a_hot_cluster(browser, live_server, city, people, screenshot_dir):
    first = dispatched_to(city, people, city.xingfu)
    second = submitted_case(city, people, citizen_phone="13911112222")
    submitted_case(city, people, citizen_phone="13933334444")
    run_queued()  # the case-events job (the worker, every second) indexes the requests

    office = Desk(browser, live_server.url, "dispatcher", screenshot_dir)
    page = office.page
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("link", name="热点聚类").click()
    cluster = page.get_by_test_id("cluster")
    expect(cluster).to_have_count(1)
    expect(cluster.get_by_test_id("cluster-merge")).to_have_count(2)  # the dispatched case stays where it is
    office.shot("clusters-01-group")
    row = cluster.locator("tr").filter(has=page.get_by_role("link", name=second.number))
    row.get_by_label("并入工单").select_option(label=first.number)
    row.get_by_role("button", name="并入").click()
    expect(page.get_by_text("已并入")).to_be_visible()
    assert fresh(second).status == CaseStatus.MERGED
    assert page.url.endswith("/cases/clusters/")
    expect(page.get_by_test_id("cluster")).to_have_count(0)  # two open requests left: below the group size
