"""One intake contract (issue 12 item 3): the intake screen, the API and a citizen channel all produce
`CaseInput` and the cases service validates it, with the citizens package's own rules for the caller's profile —
so the three refuse the same input with the same field errors and normalise it the same way."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from django.test import Client

from hotline.cases import services
from hotline.cases.forms import CaseFieldsForm, IntakeForm
from hotline.cases.intake_fields import INTAKE_FIELD_NAMES, STRUCTURED_FIELDS
from hotline.cases.models import Case, Channel
from hotline.cases.serializers import CaseFieldsInput, EditInput, IntakeInput
from hotline.citizens.models import Citizen
from hotline.citizens.services import citizen_upsert_from_intake
from hotline.common.errors import ServiceError
from tests.conftest import CONTENT, as_user, case_input

# A valid resident ID number (GB 11643-1999 check digit X).
ID_CARD = "11010519491231002X"


def _screen(city: Any, people: Any, **fields: str) -> tuple[Any, str]:
    client = Client()
    client.force_login(people.agent)
    data = {
        "case_type": "complaint",
        "content": CONTENT,
        "citizen_phone": "13812345678",
        "channel": "phone",
        "location_unit": city.xingfu.pk,
        "bureau": city.housing.pk,
        "action": "submit",
        **fields,
    }
    response = client.post("/cases/new/", data)
    return response, response.content.decode()


def _api(api: Any, people: Any, city: Any, **fields: str) -> Any:
    data = {
        "case_type": "complaint",
        "content": CONTENT,
        "citizen_phone": "13812345678",
        "location_unit": city.xingfu.pk,
        "bureau": city.housing.pk,
        "action": "submit",
        **fields,
    }
    return as_user(api, people.agent).post("/api/v1/cases/", data, format="json")


def _channel(city: Any, **fields: str) -> services.IntakeResult:
    data = dataclasses.replace(case_input(city, channel=Channel.WEB, citizen_phone="13812345678"), **fields)
    requester = services.Requester(channel=Channel.WEB, account="portal", external_id="u-1")
    return services.case_request_from_channel(data=data, requester=requester)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("citizen_post_code", "abcdef", "邮编应为6位数字"),
        ("citizen_email", "not-an-address", "电子邮箱格式不正确"),
        ("citizen_id_card", "110105194912310021", "身份证号码校验位错误"),
        ("citizen_phone", "12345678901", "电话号码格式不正确"),
        ("citizen_address", "路" * 201, "不能超过200个字"),
    ],
)
def test_screen_api_and_channel_refuse_the_same_input_alike(city, people, api, field, value, message):
    response, html = _screen(city, people, **{field: value})
    assert response.status_code == 200
    assert f'data-testid="error-{field}"' in html and message in html

    answer = _api(api, people, city, **{field: value})
    assert answer.status_code == 400, answer.content
    assert any(message in m for m in answer.json()["errors"][field])

    with pytest.raises(ServiceError) as refused:
        _channel(city, **{field: value})
    assert any(message in m for m in refused.value.field_errors[field])
    assert Case.objects.count() == 0 and Citizen.objects.count() == 0


def test_screen_intake_refuses_post_code_abcdef_next_to_the_field(city, people):
    """The bug of issue 12: the screen accepted a post code the API refused."""
    response, html = _screen(city, people, citizen_post_code="abcdef")
    assert response.status_code == 200 and Case.objects.count() == 0
    field_block = html.split('data-testid="error-citizen_post_code"', 1)[1][:200]
    assert "邮编应为6位数字" in field_block


DIRTY = {
    "citizen_phone": "+86 138 1234 5678",
    "citizen_id_card": ID_CARD.lower(),
    "citizen_post_code": " 100010 ",
    "citizen_email": " wang@example.cn ",
    "citizen_name": " 王女士 ",
}


def _check_normalised(case: Case) -> None:
    assert case.citizen_phone == "13812345678"
    assert case.citizen_post_code == "100010"
    assert case.citizen_email == "wang@example.cn"
    assert case.citizen_name == "王女士"
    citizen = Citizen.objects.get()
    assert case.citizen == citizen
    assert (citizen.phone, citizen.post_code, citizen.email, citizen.name) == (
        "13812345678",
        "100010",
        "wang@example.cn",
        "王女士",
    )


def test_a_dirty_caller_profile_is_normalised_alike_through_the_screen(city, people):
    response, _ = _screen(city, people, **DIRTY)
    assert response.status_code == 302
    case = Case.objects.get()
    _check_normalised(case)
    assert Citizen.objects.get().id_card == ID_CARD


def test_a_dirty_caller_profile_is_normalised_alike_through_the_api(city, people, api):
    assert _api(api, people, city, **DIRTY).status_code == 201
    _check_normalised(Case.objects.get())
    assert Citizen.objects.get().id_card == ID_CARD


def test_a_dirty_caller_profile_is_normalised_alike_through_a_channel(city, people):
    fields = {k: v for k, v in DIRTY.items() if k != "citizen_id_card"}
    result = _channel(city, **fields)
    _check_normalised(result.case)
    assert result.case.intake_by is None


def test_the_profile_written_at_intake_goes_through_citizen_clean(db):
    citizen = citizen_upsert_from_intake(
        phone="0086 139 0000 1111", actor=None, id_card=ID_CARD.lower(), name=" 李四 ", post_code=" 200000 "
    )
    citizen.refresh_from_db()
    assert (citizen.phone, citizen.name, citizen.post_code, citizen.id_card) == (
        "13900001111",
        "李四",
        "200000",
        ID_CARD,
    )
    with pytest.raises(ServiceError) as refused:
        citizen_upsert_from_intake(phone="13900002222", actor=None, post_code="abcdef")
    assert refused.value.field_errors == {"post_code": ["邮编应为6位数字"]}
    assert Citizen.objects.count() == 1


def test_a_draft_rewritten_through_the_service_is_checked_by_the_same_contract(city, people):
    case = services.case_intake(actor=people.agent, data=case_input(city), action="save_draft").case
    with pytest.raises(ServiceError) as refused:
        services.case_edit(
            case=case,
            actor=people.agent,
            expected_version=case.version,
            data=case_input(city, citizen_post_code="abcdef"),
        )
    assert refused.value.field_errors == {"citizen_post_code": ["邮编应为6位数字"]}


def test_form_and_serializer_are_built_from_the_one_field_list():
    assert set(services.CaseInput.__dataclass_fields__) == {*INTAKE_FIELD_NAMES, *STRUCTURED_FIELDS}
    assert tuple(CaseFieldsForm.base_fields) == INTAKE_FIELD_NAMES
    assert tuple(IntakeForm.base_fields)[: len(INTAKE_FIELD_NAMES)] == INTAKE_FIELD_NAMES
    api_fields = tuple(CaseFieldsInput().fields)
    assert api_fields == (*INTAKE_FIELD_NAMES, *STRUCTURED_FIELDS)
    for serializer in (IntakeInput, EditInput):
        assert set(api_fields) <= set(serializer().fields)
