"""并单 and duplicate screening on the workbench: the intake card, the case page's merge panel, hot clusters."""

from __future__ import annotations

import pytest
from django.test import Client

from hotline.cases.events import run_queued
from hotline.cases.models import CaseStatus, CoRequester
from tests.conftest import CONTENT, dispatched_to, fresh, submitted_case


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db(transaction=True)  # the duplicate index is written after the intake commits
def test_intake_duplicate_card(city, people):
    open_case = dispatched_to(city, people, city.xingfu, citizen_phone="13812345678", citizen_name="王建国")
    run_queued()  # the case-events job (the worker, every second) indexes the requests
    client = client_for(people.agent)
    assert 'data-testid="duplicates-card"' in client.get("/cases/new/").content.decode()
    idle = client.post("/partials/duplicates/", {}).content.decode()
    assert 'data-testid="duplicates-idle"' in idle
    html = client.post(
        "/partials/duplicates/",
        {"content": CONTENT, "citizen_phone": "13812345678", "citizen_name": "王建国"},
    ).content.decode()
    assert open_case.number in html and f"/cases/{open_case.pk}/" in html
    assert 'data-testid="count-same-phone">1<' in html and 'data-testid="count-same-name">1<' in html
    assert 'data-testid="count-similar">1<' in html and "相似度 1.00" in html
    # Scoped: another district sees no candidates of this one.
    other = client_for(people.west).post("/partials/duplicates/", {"content": CONTENT}).content.decode()
    assert open_case.number not in other


@pytest.mark.django_db(transaction=True)  # the duplicate index is written after the intake commits
def test_merge_and_undo_from_the_case_page(city, people):
    target = dispatched_to(city, people, city.xingfu, citizen_phone="13812345678")
    new = submitted_case(city, people, citizen_phone="13912345678", citizen_name="赵先生")
    run_queued()  # the case-events job (the worker, every second) indexes the requests
    agent, office = client_for(people.agent), client_for(people.dispatcher)
    page = agent.get(f"/cases/{new.pk}/").content.decode()
    assert 'data-testid="merge-panel"' in page
    panel = agent.get(f"/cases/{new.pk}/merge-candidates/").content.decode()
    assert 'data-testid="merge-form"' in panel and f'value="{target.pk}"' in panel
    # Errors come back as the service's Chinese messages.
    page = agent.post(f"/cases/{new.pk}/merge/", {"target": new.pk}, follow=True).content.decode()
    assert "不能与自身并单" in page
    page = agent.post(f"/cases/{new.pk}/merge/", {"target_number": "nope"}, follow=True).content.decode()
    assert "请选择或填写要并入的工单编号" in page
    # Merge by case number.
    r = agent.post(f"/cases/{new.pk}/merge/", {"target_number": target.number, "opinion": "同一烧烤店"})
    assert r.status_code == 302 and fresh(new).status == CaseStatus.MERGED
    page = agent.get(f"/cases/{new.pk}/").content.decode()
    assert 'data-testid="merged-into"' in page and target.number in page
    assert 'data-testid="unmerge-panel"' not in page  # the agent may not undo
    target_page = client_for(people.xingfu).get(f"/cases/{target.pk}/").content.decode()
    assert 'data-testid="co-requesters"' in target_page and "139****5678" in target_page
    page = office.post(f"/cases/{new.pk}/unmerge/", {"reason": ""}, follow=True).content.decode()
    assert "请填写撤销理由" in page
    page = office.get(f"/cases/{new.pk}/").content.decode()
    assert 'data-testid="unmerge-panel"' in page
    office.post(f"/cases/{new.pk}/unmerge/", {"reason": "并错了"})
    assert fresh(new).status == CaseStatus.SUBMITTED and CoRequester.objects.get().undone_at is not None
    # A unit may not merge; another district gets 404.
    assert client_for(people.west).post(f"/cases/{target.pk}/merge/", {"target": new.pk}).status_code == 404


@pytest.mark.django_db(transaction=True)  # the duplicate index is written after the intake commits
def test_hot_clusters_page_merges_a_member(city, people):
    first = dispatched_to(city, people, city.xingfu)
    second = submitted_case(city, people, citizen_phone="13911112222")
    third = submitted_case(city, people, citizen_phone="13933334444")
    run_queued()  # the case-events job (the worker, every second) indexes the requests
    office = client_for(people.dispatcher)
    html = office.get("/cases/clusters/", {"days": 7, "min_size": 3}).content.decode()
    assert html.count('data-testid="cluster"') == 1
    assert first.number in html and second.number in html and third.number in html
    assert html.count('data-testid="cluster-merge"') == 2  # the dispatched one cannot be merged away
    r = office.post(f"/cases/{second.pk}/merge/", {"target": first.pk, "next": "/cases/clusters/?days=7"})
    assert r.status_code == 302 and r["Location"] == "/cases/clusters/?days=7"
    assert fresh(second).status == CaseStatus.MERGED
    assert client_for(people.xingfu).get("/cases/clusters/").status_code == 403


@pytest.mark.django_db(transaction=True)  # the duplicate index is written after the intake commits
def test_the_case_being_edited_is_no_duplicate_of_itself(city, people):
    """Editing a draft or returned case in the intake form (issue 11, item 1), the duplicate card screened the case
    against itself (相似度 1.00, same number, same name): the form passes its id and the partial leaves it out."""
    from hotline.cases import services
    from hotline.cases.lifecycle import Action
    from tests.conftest import case_input

    draft = services.case_intake(
        actor=people.agent,
        data=case_input(city, citizen_phone="13812345678", citizen_name="王建国"),
        action=Action.SAVE_DRAFT,
    ).case
    run_queued()  # the case-events job (the worker, every second) indexes the requests
    client = client_for(people.agent)
    form = client.get(f"/cases/{draft.pk}/edit/").content.decode()
    assert f'hx-vals=\'{{"exclude": "{draft.pk}"}}\'' in form and "exclude" in form
    typed = {"content": CONTENT, "citizen_phone": "13812345678", "citizen_name": "王建国"}
    assert draft.number in client.post("/partials/duplicates/", typed).content.decode()
    html = client.post("/partials/duplicates/", {**typed, "exclude": str(draft.pk)}).content.decode()
    assert draft.number not in html and 'data-testid="duplicates-none"' in html


@pytest.mark.django_db(transaction=True)  # the duplicate index is written after the intake commits
def test_a_bad_exclude_parameter_is_ignored_never_a_500(city, people):
    draft = submitted_case(city, people)
    run_queued()  # the case-events job (the worker, every second) indexes the requests
    client = client_for(people.agent)
    for bad in ("abc", "-1", "１２", "9" * 19, "9" * 30, "1e9", " ", "\x00"):
        answer = client.post("/partials/duplicates/", {"content": CONTENT, "exclude": bad})
        # ignored, or refused as out of bounds by the input guard (common/bounds.py) before the view
        assert answer.status_code in (200, 400), bad
        if answer.status_code == 200:
            assert draft.number in answer.content.decode(), bad
        assert client.get("/partials/duplicates/", {"content": CONTENT, "exclude": bad}).status_code in (
            200,
            400,
        )
