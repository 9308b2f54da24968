"""INT-5 duplicate screening: same number, same name, similar content within 15 days; hot clusters."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hotline.cases import duplicates
from hotline.cases.events import run_queued
from hotline.cases.models import RequestKey
from hotline.common import clock
from tests.conftest import CONTENT, as_user, dispatched_to, submitted_case

SIMILAR = (
    "东湖区梨园街道幸福社区12栋楼下有家烧烤店，每天营业到凌晨两点，油烟和噪音太大了，"
    "居民根本没法休息，和店主沟通过好几次都没有用，请有关部门来查处这家烧烤店。"
)
OTHER = (
    "西湖区西湖街道的公交站台顶棚被大风吹坏了，下雨天等车的乘客全身淋湿，已经坏了一个多月，"
    "希望公交公司尽快派人修好站台顶棚，方便市民出行，谢谢。"
)


def test_similarity_separates_same_matter_from_other():
    a, b, c = duplicates.terms(CONTENT), duplicates.terms(SIMILAR), duplicates.terms(OTHER)
    assert duplicates.similarity(a, b) >= duplicates.WORD_THRESHOLD
    assert duplicates.similarity(a, c) < 0.1
    assert abs(sum(w * w for w in a.values()) - 1) < 1e-9


@pytest.mark.django_db(transaction=True)  # the duplicate index is written after the intake commits
def test_intake_indexes_the_request(city, people):
    case = submitted_case(city, people)
    run_queued()  # the case-events job (the worker, every second) indexes the requests
    keys = RequestKey.objects.filter(case=case)
    assert keys.count() == 2 + len(duplicates.terms(duplicates.request_text(case.title, case.content)))
    assert keys.filter(key=duplicates.phone_key("13812345678")).exists()


@pytest.mark.django_db(transaction=True)  # the duplicate index is written after the intake commits
def test_candidates_by_phone_name_and_content(city, people):
    by_content = submitted_case(city, people, citizen_phone="13900000001", citizen_name="赵大海")
    by_phone = submitted_case(city, people, citizen_phone="13812345678", citizen_name="钱多多", content=OTHER)
    by_name = submitted_case(city, people, citizen_phone="13900000002", citizen_name="孙悟空", content=OTHER)
    unrelated = submitted_case(city, people, citizen_phone="13900000003", citizen_name="李白", content=OTHER)
    run_queued()  # the case-events job (the worker, every second) indexes the requests
    report = duplicates.find_duplicates(
        user=people.agent, content=SIMILAR, phone="138 1234 5678", name="孙悟空"
    )
    found = {c.case.pk: c for c in report.candidates}
    assert set(found) == {by_content.pk, by_phone.pk, by_name.pk}
    assert unrelated.pk not in found
    assert found[by_content.pk].similar and found[by_content.pk].score >= duplicates.THRESHOLD
    assert found[by_phone.pk].same_phone and not found[by_phone.pk].similar
    assert found[by_name.pk].same_name
    assert (report.same_phone, report.same_name, report.similar) == (1, 1, 1)
    assert report.candidates[0].case == by_content  # similar content first


@pytest.mark.django_db(transaction=True)  # the duplicate index is written after the intake commits
def test_window_of_15_days_and_exclusion(city, people):
    old = submitted_case(city, people)
    run_queued()  # the case-events job (the worker, every second) indexes the requests
    found = duplicates.find_duplicates(user=people.agent, content=SIMILAR).candidates
    assert [candidate.case.pk for candidate in found] == [old.pk]
    with clock.frozen_now(clock.now() + dt.timedelta(days=16)):
        assert duplicates.find_duplicates(user=people.agent, content=SIMILAR).candidates == []
    assert (
        duplicates.find_duplicates(user=people.agent, content=SIMILAR, exclude_case=old.pk).candidates == []
    )


def test_honorific_names_do_not_count_as_same_name(city, people):
    submitted_case(city, people, citizen_phone="13900000001", citizen_name="王女士", content=OTHER)
    report = duplicates.find_duplicates(user=people.agent, content="无关内容" * 5, name="王女士")
    assert report.same_name == 0


def test_check_is_a_few_indexed_queries(city, people):
    for i in range(5):
        submitted_case(city, people, citizen_phone=f"1390000000{i}")
    with CaptureQueriesContext(connection) as queries:
        duplicates.find_duplicates(user=people.agent, content=SIMILAR, phone="13900000001", name="张三丰")
    assert len(queries) <= 6
    assert all("cases_case" not in q["sql"] or "IN (" in q["sql"] or "COUNT" in q["sql"] for q in queries)


@pytest.mark.django_db(transaction=True)  # the duplicate index is written after the intake commits
def test_api_get_and_post_scoped(api, city, people):
    case = dispatched_to(city, people, city.xingfu)
    run_queued()  # the case-events job (the worker, every second) indexes the requests
    r = as_user(api, people.agent).post("/api/v1/cases/duplicates/", {"content": SIMILAR, "phone": ""})
    assert r.status_code == 200
    body = r.json()
    assert body["counts"]["similar"] == 1 and body["candidates"][0]["id"] == case.pk
    assert body["candidates"][0]["link"] == f"/cases/{case.pk}/" and body["candidates"][0]["score"] > 0.35
    r = as_user(api, people.agent).get("/api/v1/cases/duplicates/", {"phone": "13812345678"})
    assert r.json()["counts"]["same_phone"] == 1
    # A unit of another district sees no candidates of others; numbers masked for units.
    assert (
        as_user(api, people.west).get("/api/v1/cases/duplicates/", {"content": SIMILAR}).json()["candidates"]
        == []
    )
    mine = as_user(api, people.xingfu).get("/api/v1/cases/duplicates/", {"content": SIMILAR}).json()
    assert mine["candidates"][0]["citizen_phone"] == "138****5678"
    assert as_user(api, people.agent).get("/api/v1/cases/duplicates/").status_code == 400


@pytest.mark.django_db(transaction=True)  # the duplicate index is written after the intake commits
def test_hot_clusters(api, city, people):
    group = [
        submitted_case(city, people, citizen_phone=f"1390000000{i}", content=text)
        for i, text in enumerate([CONTENT, SIMILAR, CONTENT + "今晚又吵到三点。"])
    ]
    submitted_case(city, people, citizen_phone="13900000009", content=OTHER)
    run_queued()  # the case-events job (the worker, every second) indexes the requests
    clusters = duplicates.hot_clusters(user=people.dispatcher, days=7, min_size=3)
    assert len(clusters) == 1 and {c.pk for c in clusters[0].cases} == {c.pk for c in group}
    assert clusters[0].terms
    r = as_user(api, people.dispatcher).get("/api/v1/cases/hot-clusters/", {"days": 7, "min_size": 3})
    assert r.json()[0]["size"] == 3
    assert as_user(api, people.xingfu).get("/api/v1/cases/hot-clusters/").status_code == 403

    # The grouping is kept a while; a member merged since drops out at once (and so the group, now too small).
    from hotline.cases.merge import case_merge

    case_merge(case=group[2], into=group[0], actor=people.dispatcher, expected_version=None)
    assert duplicates.hot_clusters(user=people.dispatcher, days=7, min_size=3) == []
    assert [len(c.cases) for c in duplicates.hot_clusters(user=people.dispatcher, days=7, min_size=2)] == [2]


def test_backfill_indexes_bulk_loaded_cases(city, people):
    case = submitted_case(city, people)
    RequestKey.objects.all().delete()
    assert duplicates.index_backfill() == 1
    assert duplicates.index_backfill() == 0
    assert RequestKey.objects.filter(case=case).exists()


TOPICS = (
    "小区门口的路灯坏了很久，晚上出行很不安全，老人摔倒过好几次，希望尽快派人维修路灯。",
    "楼上住户装修每天早上七点就开始电钻施工，噪音很大，孩子上网课受影响，希望管一管装修时间。",
    "菜市场旁边的下水道堵塞，污水漫到马路上，臭味很重，已经一个星期没人处理，请尽快疏通。",
    "公司拖欠三个月工资一直不发，老板电话也不接，工友们生活困难，请劳动部门帮忙讨薪。",
    "学校门口的斑马线被挖掉了，接送孩子过马路非常危险，希望交通部门尽快重新施划斑马线。",
)


@pytest.mark.django_db(transaction=True)  # the duplicate index is written after the intake commits
def test_common_words_left_out_of_the_scan_change_no_score(city, people):
    """The scan skips the window's commonest words; every score it returns must still be the full damped cosine,
    and every request at or above the threshold must be among them."""
    preamble = "来电人反映滨江区江城街道幸福社区的情况，"
    cases = [
        submitted_case(
            city, people, citizen_phone=f"139{i:08d}", content=preamble + TOPICS[i % len(TOPICS)] * 2
        )
        for i in range(60)
    ]
    run_queued()  # the case-events job (the worker, every second) indexes the requests
    query_text = preamble + TOPICS[0] + "已经反映过多次。"
    query = duplicates.terms(query_text)
    since = clock.now() - dt.timedelta(days=duplicates.WINDOW_DAYS)
    scored, damp = duplicates._word_scores(query=query, since=since, exclude=[], limit=200)
    assert any(d < 1 for d in damp.values()), "the preamble's words should be damped in this window"
    stored: dict[int, dict[int, float]] = {}
    for case_id, key, weight in RequestKey.objects.filter(weight__gt=0).values_list(
        "case_id", "key", "weight"
    ):
        stored.setdefault(case_id, {})[key] = weight
    by_key = {duplicates.hashed("w", w): q * damp[w] for w, q in query.items()}
    brute = {cid: sum(w * vec.get(k, 0.0) for k, w in by_key.items()) for cid, vec in stored.items()}
    got = dict(scored)
    for cid, score in got.items():
        assert abs(score - brute[cid]) < 1e-9
    assert {cid for cid, s in brute.items() if s >= duplicates.WORD_THRESHOLD} <= set(got)
    assert {c.pk for c in cases[:: len(TOPICS)]} <= {
        cid for cid, s in got.items() if s >= duplicates.WORD_THRESHOLD
    }


@pytest.mark.django_db(transaction=True)  # the worker closes stale connections between rounds
def test_worker_and_task_prune_old_keys(city, people):
    from django.core.management import call_command

    from hotline.cases.tasks import prune_duplicate_index_task

    with clock.frozen_now(clock.now() - dt.timedelta(days=200)):
        old = submitted_case(city, people)
    recent = submitted_case(city, people)
    call_command("run_worker", "--once")
    assert not RequestKey.objects.filter(case=old).exists()
    assert RequestKey.objects.filter(case=recent).exists()
    with clock.frozen_now(clock.now() + dt.timedelta(days=121)):
        assert prune_duplicate_index_task() > 0
    assert not RequestKey.objects.exists()


@pytest.mark.django_db(transaction=True)  # the duplicate index is written after the intake commits
def test_intake_segments_no_text_the_case_events_job_does(city, people, monkeypatch):
    """The day's case-number row is locked from the number to the commit: no word segmentation inside. Issue 12
    moved the duplicate keys onto the case event: the request segments nothing, the case-events job does."""

    depths: list[int] = []
    real = duplicates._segmenter

    def spy() -> object:
        depths.append(len(connection.atomic_blocks))
        return real()

    monkeypatch.setattr(duplicates, "_segmenter", spy)
    duplicates._terms.cache_clear()
    submitted_case(city, people, content=CONTENT + "（测试分词在事务之外）")
    assert depths == [] and not RequestKey.objects.exists()
    run_queued()
    assert depths and RequestKey.objects.exists()


def test_the_index_follows_the_commit_and_rewriting_it_is_idempotent(
    city, people, django_capture_on_commit_callbacks
):
    """Issue 12: the keys are written after the intake commits (not inside its transaction), by the case-events
    job's receiver; writing them again (a repeated event, a backfill) leaves the same rows."""
    from hotline.cases.models import Case, CaseEvent

    with django_capture_on_commit_callbacks(execute=True):
        case = submitted_case(city, people)
        assert not RequestKey.objects.filter(case=case).exists()
    assert not RequestKey.objects.filter(case=case).exists()  # not in the request: the job writes them
    run_queued()
    keys = sorted(RequestKey.objects.filter(case=case).values_list("key", "weight"))
    assert len(keys) == 2 + len(duplicates.terms(duplicates.request_text(case.title, case.content)))
    duplicates.index_case(case)
    created = CaseEvent.objects.filter(case=case, action="create").select_related("case")
    duplicates.on_case_events(sender=Case, events=[*created, *created])
    assert sorted(RequestKey.objects.filter(case=case).values_list("key", "weight")) == keys


@pytest.mark.django_db(transaction=True)  # the case events are queued by the intake's commit
def test_the_check_sees_a_new_request_within_the_case_events_jobs_cadence(city, people):
    """Issue 12: the duplicate keys follow the commit on the case event. A request just registered is found by the
    next screening once the case-events job has run: the worker runs it every second (under Celery, beat runs it
    and each commit kicks it), and its create event is queued for the index receiver."""
    from hotline.cases.events import _QUEUED
    from hotline.cases.models import CaseEvent
    from hotline.common.registry import periodic_jobs

    job = next(j for j in periodic_jobs() if j.name == "case-events")
    assert job.seconds <= 1.0 and job.run is run_queued
    index = _QUEUED["duplicates-index"]
    case = submitted_case(city, people, citizen_phone="13900000077", citizen_name="周小川")
    created = CaseEvent.objects.get(case=case, action="create")
    assert created.queued and index.many and index.wants is not None and index.wants(created)
    run_queued()
    report = duplicates.find_duplicates(user=people.agent, content=SIMILAR, phone="13900000077")
    found = {c.case.pk: c for c in report.candidates}
    assert case.pk in found and found[case.pk].same_phone and found[case.pk].similar


@pytest.mark.django_db(transaction=True)  # the duplicate index is written after the intake commits
def test_check_reads_as_cases_only_the_candidates_it_shows(city, people, monkeypatch):
    """Word candidates far from the request in meaning (their stored vectors) are judged on the vectors alone:
    no case row of theirs is read. One close in meaning is read, judged on its text and shown."""
    import numpy as np

    from hotline.cases import similarity
    from hotline.cases.models import RequestEmbedding

    alike = [submitted_case(city, people, citizen_phone=f"1390000002{i}", content=CONTENT) for i in range(4)]
    run_queued()  # the case-events job (the worker, every second) indexes the requests
    query, far = np.zeros(384, dtype=np.float32), np.zeros(384, dtype=np.float32)
    query[0], far[1] = 1.0, 1.0
    RequestEmbedding.objects.filter(case_id__in=[c.pk for c in alike]).update(vector=similarity.pack(far))
    monkeypatch.setattr(similarity, "embed", lambda title, content: query)

    def case_reads(queries: CaptureQueriesContext) -> list[str]:
        return [q["sql"] for q in queries if '"cases_case"."content"' in q["sql"]]

    with CaptureQueriesContext(connection) as queries:
        report = duplicates.find_duplicates(user=people.agent, content=CONTENT, phone="13700000000")
    assert report.similar == 0 and report.candidates == []
    assert case_reads(queries) == []  # four word candidates, none read

    # its request rewritten and embedded again (a new text key: the process's vector index reads it again)
    RequestEmbedding.objects.filter(case_id=alike[0].pk).update(
        vector=similarity.pack(query), text_key=b"rewritten"
    )
    with CaptureQueriesContext(connection) as queries:
        report = duplicates.find_duplicates(user=people.agent, content=CONTENT, phone="13700000000")
    assert [c.case.pk for c in report.candidates] == [alike[0].pk] and report.similar == 1
    read_ids = {int(n) for sql in case_reads(queries) for n in re.findall(r"\d+", sql.split(" IN (")[-1])}
    assert alike[0].pk in read_ids and not read_ids & {c.pk for c in alike[1:]}


@pytest.mark.django_db(transaction=True)  # the duplicate index is written after the intake commits
def test_every_candidate_is_counted_but_only_those_shown_are_read_as_cases(city, people, monkeypatch):
    """Six requests the same in meaning: all six are counted, the best `limit` are shown, and only those are read
    as whole cases (with their type and unit); the rest are ranked on their ids, times and secrecy alone."""
    import numpy as np

    from hotline.cases import similarity
    from hotline.cases.models import RequestEmbedding

    alike = [submitted_case(city, people, citizen_phone=f"1390000004{i}", content=CONTENT) for i in range(6)]
    run_queued()  # the case-events job (the worker, every second) indexes the requests
    query = np.zeros(384, dtype=np.float32)
    query[0] = 1.0
    RequestEmbedding.objects.filter(case_id__in=[c.pk for c in alike]).update(vector=similarity.pack(query))
    monkeypatch.setattr(similarity, "embed", lambda title, content: query)
    with CaptureQueriesContext(connection) as queries:
        report = duplicates.find_duplicates(user=people.agent, content=CONTENT, phone="13900000043", limit=2)
    assert report.similar == 6 and report.same_phone == 1
    # the same number first, then the newest of the equally close
    assert [c.case.pk for c in report.candidates] == [alike[3].pk, alike[5].pk]
    assert report.candidates[0].same_phone and report.candidates[0].case.case_type.code == "complaint"
    whole = [q["sql"] for q in queries if '"cases_case"."citizen_name"' in q["sql"]]
    assert len(whole) == 1
    read_ids = {int(n) for n in re.findall(r"\d+", whole[0].split(" IN (")[-1])}
    assert read_ids == {alike[3].pk, alike[5].pk}


@pytest.mark.django_db(transaction=True)  # the duplicate index is written after the intake commits
def test_candidates_come_from_the_vectors_held_in_the_process(city, people, monkeypatch):
    """A request close in meaning is found without a single word key (one matrix product over the window's vectors
    held per process); one stored after the first check is found by the next (incremental refresh); one whose
    vector is not written yet is still found by its words."""
    import numpy as np

    from hotline.cases import similarity
    from hotline.cases.models import RequestEmbedding

    query = np.zeros(384, dtype=np.float32)
    query[0] = 1.0
    monkeypatch.setattr(similarity, "embed", lambda title, content: query)
    first = submitted_case(city, people, citizen_phone="13900000031")
    run_queued()  # the case-events job (the worker, every second) indexes the requests
    RequestEmbedding.objects.filter(case_id=first.pk).update(vector=similarity.pack(query))
    RequestKey.objects.filter(case_id=first.pk).delete()  # no word can find it
    report = duplicates.find_duplicates(user=people.agent, content=CONTENT)
    assert [c.case.pk for c in report.candidates] == [first.pk] and report.similar == 1
    assert duplicates.VECTORS.count == 1

    second = submitted_case(city, people, citizen_phone="13900000032")
    run_queued()  # the case-events job (the worker, every second) indexes the requests
    RequestEmbedding.objects.filter(case_id=second.pk).update(vector=similarity.pack(query))
    RequestKey.objects.filter(case_id=second.pk).delete()
    waiting = submitted_case(city, people, citizen_phone="13900000033")  # its vector not written yet
    run_queued()  # the case-events job (the worker, every second) indexes the requests
    assert RequestEmbedding.objects.get(case_id=waiting.pk).vector is None
    report = duplicates.find_duplicates(user=people.agent, content=CONTENT)
    assert {c.case.pk for c in report.candidates} == {first.pk, second.pk, waiting.pk}
    assert report.similar == 3 and duplicates.VECTORS.count == 2
