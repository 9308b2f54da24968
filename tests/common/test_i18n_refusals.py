"""Composed service refusals (a field's label, a status, an action, a row number put into a sentence) answer in the
user's language: the sentence and its parts go through gettext (issue 11, item 17; issue 12)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from rest_framework.test import APIClient

from hotline.cases import services
from hotline.cases.models import Assignment, AssignmentRole
from hotline.citizens import importexport, jobs
from hotline.common.errors import ServiceError
from tests.conftest import dispatched_to

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def _restore_language() -> Iterator[None]:
    before = translation.get_language()
    yield
    translation.activate(before or settings.LANGUAGE_CODE)


def client_for(user, language: str | None = None) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def signed(city, people) -> Assignment:
    case = dispatched_to(city, people, city.housing)
    assignment = Assignment.objects.get(case=case, unit=city.housing, role=AssignmentRole.MAIN)
    services.assignment_sign_for(assignment=assignment, actor=people.housing, expected_version=None)
    return assignment


def test_a_status_refusal_with_the_action_it_refuses_answers_in_english(city, people):
    assignment = signed(city, people)
    url = f"/api/v1/assignments/{assignment.pk}/sign-for/"
    chinese = client_for(people.housing).post(url, {}, format="json")
    assert chinese.status_code == 400 and chinese.json()["detail"] == "本单位环节当前为“办理中”，不能签收"
    english = client_for(people.housing, "en").post(url, {}, format="json")
    assert english.status_code == 400
    detail = english.json()["detail"]
    assert detail.startswith("Your unit's step is “") and detail.endswith("not possible now: Sign for")
    assert not HAN.search(detail), detail


def test_a_missing_text_names_the_field_in_english(city, people):
    assignment = signed(city, people)
    url = f"/api/v1/assignments/{assignment.pk}/report/"
    english = client_for(people.housing, "en").post(url, {"result": "  "}, format="json")
    assert english.status_code == 400
    assert english.json()["errors"] == {"result": ["Handling result is required"]}
    chinese = client_for(people.housing).post(url, {"result": ""}, format="json")
    assert chinese.json()["errors"] == {"result": ["请填写办理结果"]}


def test_a_knowledge_base_refusal_answers_in_english(people):
    answer = client_for(people.agent, "en").post(
        "/api/v1/kb/spaces/", {"name": "政策", "code": "policy"}, format="json"
    )
    assert answer.status_code == 403
    assert answer.json()["detail"] == "Only system administrators may create a knowledge space"


def test_an_extension_beyond_the_longest_deadline_is_refused_in_english(city, people):
    assignment = signed(city, people)
    with translation.override("en"), pytest.raises(ServiceError) as refused:
        services.assignment_request_extension(
            assignment=assignment,
            actor=people.housing,
            expected_version=None,
            requested_due_at=assignment.due_at.replace(year=assignment.due_at.year + 1),
            reason="需要协调",
        )
    assert refused.value.message.startswith("An extension may not go beyond the longest allowed deadline (")
    assert refused.value.field_errors["requested_due_at"][0].startswith("At most until ")


def test_citizen_import_row_errors_are_written_in_the_submitters_language(people):
    rows = "姓名,性别,电话\n张三,男,13800000001\n李四,未知,13800000002\n王五,女,13800000001\n"
    answer = client_for(people.agent, "en").post(
        "/api/v1/citizens/import/",
        {"file": SimpleUploadedFile("c.csv", rows.encode())},
        format="multipart",
    )
    assert answer.status_code == 202, answer.content
    # the background job runs later, outside the request (here: with Chinese active), in the submitter's language
    translation.activate("zh-hans")
    jobs.import_run(job_id=answer.json()["job"])
    errors = client_for(people.agent).get(answer.json()["url"]).json()["errors"]
    messages = {e["row"]: e["message"] for e in errors}
    assert messages == {3: "Gender must be “男”, “女” or empty", 4: "Same phone number as row 2"}


def test_a_file_refusal_of_the_citizen_import_answers_in_english(people):
    with translation.override("en"), pytest.raises(ServiceError) as refused:
        importexport.import_citizens(
            upload=SimpleUploadedFile("c.csv", "姓名,地址\n张三,幸福路\n".encode()),
            file_name="c.csv",
            actor=people.agent,
        )
    assert refused.value.message == "Missing columns: 电话"
