"""Issue 11, item 6: extended intake fields per bureau and case type, defined by administrators through the
API or Django admin (validated by the same service), picked up by the intake form and the intake rules."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from hotline.cases import services
from hotline.cases.extfields import ExtendedFieldInput, extended_field_create
from hotline.cases.models import ExtendedField
from hotline.common.errors import NotAllowed, ServiceError
from hotline.common.models import AuditLog, DictKind
from hotline.orgs.models import Role, User
from hotline.orgs.services import user_create
from tests.conftest import City, People, as_user, case_input, dict_item

URL = "/api/v1/extended-fields/"


@pytest.fixture
def root(city: City) -> User:
    return user_create(
        username="root", password="pw-123456", full_name="管理员", unit=city.office, roles=[Role.ADMIN]
    )


def test_api_crud_for_administrators(city: City, root: User, api: Any) -> None:
    client = as_user(api, root)
    body = {
        "key": "building_year",
        "label": "建成年份",
        "field_type": "number",
        "bureau": city.housing.pk,
        "required": True,
        "sort_order": 1,
    }
    response = client.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    assert response.json()["bureau_name"] == "市住建局"
    assert [f["key"] for f in client.get(URL).json()] == ["building_year"]
    response = client.patch(f"{URL}{pk}/", {"label": "房屋建成年份"}, format="json")
    assert response.status_code == 200 and response.json()["label"] == "房屋建成年份"
    assert response.json()["required"] is True  # PATCH keeps what it does not name
    response = client.patch(f"{URL}{pk}/", {"key": "year"}, format="json")
    assert response.status_code == 400 and "key" in response.json()["errors"]
    assert client.delete(f"{URL}{pk}/").status_code == 204
    assert ExtendedField.objects.get(pk=pk).is_active is False  # switched off, kept for saved cases
    assert client.get(URL, {"active": "1"}).json() == []
    assert AuditLog.objects.filter(object_type="cases.extendedfield", object_id=str(pk)).count() == 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"key": "Bad Key", "label": "x", "field_type": "text"}, "key"),
        ({"key": "ok", "label": "", "field_type": "text"}, "label"),
        ({"key": "ok", "label": "x", "field_type": "colour"}, "field_type"),
        ({"key": "ok", "label": "x", "field_type": "choice", "choices": []}, "choices"),
        ({"key": "ok", "label": "x", "field_type": "choice", "choices": ["a", "a"]}, "choices"),
        ({"key": "ok", "label": "x", "field_type": "text", "choices": ["a"]}, "choices"),
        ({"key": "ok", "label": "x", "field_type": "text", "bureau": "east"}, "bureau"),
        ({"key": "ok", "label": "x", "field_type": "text", "sort_order": -1}, "sort_order"),
    ],
)
def test_api_refuses_bad_definitions_with_field_errors(
    city: City, root: User, api: Any, body: dict[str, Any], field: str
) -> None:
    if body.get("bureau") == "east":
        body = {**body, "bureau": city.east.pk}  # a district is not a bureau
    response = as_user(api, root).post(URL, body, format="json")
    assert response.status_code == 400 and field in response.json()["errors"], response.json()
    assert not ExtendedField.objects.exists()


def test_keys_may_not_clash_where_both_fields_apply(city: City, root: User) -> None:
    complaint = dict_item(DictKind.CASE_TYPE, "complaint")
    extended_field_create(actor=root, data=ExtendedFieldInput(key="tax_no", label="税号", field_type="text"))
    with pytest.raises(ServiceError) as err:
        extended_field_create(
            actor=root,
            data=ExtendedFieldInput(
                key="tax_no", label="税号", field_type="text", bureau=city.tax, case_type=complaint
            ),
        )
    assert "key" in err.value.field_errors


def test_only_administrators(city: City, people: People, root: User, api: Any) -> None:
    definition = extended_field_create(
        actor=root, data=ExtendedFieldInput(key="a", label="A", field_type="text")
    )
    for user in (people.agent, people.dispatcher, people.housing):
        client = as_user(api, user)
        assert client.get(URL).status_code == 403
        assert (
            client.post(URL, {"key": "b", "label": "B", "field_type": "text"}, format="json").status_code
            == 403
        )
        assert client.patch(f"{URL}{definition.pk}/", {"label": "X"}, format="json").status_code == 403
        assert client.delete(f"{URL}{definition.pk}/").status_code == 403
    with pytest.raises(NotAllowed):
        extended_field_create(
            actor=people.agent, data=ExtendedFieldInput(key="c", label="C", field_type="text")
        )
    assert ExtendedField.objects.get(pk=definition.pk).label == "A"
    anonymous = Client()
    assert anonymous.get(URL).status_code in (401, 403)


def test_django_admin_validates_and_saves_through_the_service(city: City, root: User) -> None:
    client = Client()
    client.force_login(root)
    form = {
        "key": "tax_no",
        "label": "纳税人识别号",
        "field_type": "choice",
        "bureau": city.tax.pk,
        "case_type": "",
        "choices": "",
        "sort_order": 0,
        "is_active": "on",
    }
    response = client.post("/admin/cases/extendedfield/add/", form)
    assert response.status_code == 200 and "选项字段须有1至100个可选项" in response.content.decode()
    response = client.post("/admin/cases/extendedfield/add/", {**form, "choices": "个人\n企业"})
    assert response.status_code == 302
    definition = ExtendedField.objects.get(key="tax_no")
    assert definition.choices == ["个人", "企业"] and definition.bureau == city.tax
    assert AuditLog.objects.filter(object_type="cases.extendedfield", action="create").exists()
    page = client.get(f"/admin/cases/extendedfield/{definition.pk}/change/").content.decode()
    assert "个人\n企业" in page
    assert client.get(f"/admin/cases/extendedfield/{definition.pk}/delete/").status_code == 403


def test_the_intake_form_and_rules_pick_up_a_new_field_at_once(
    city: City, people: People, root: User, api: Any
) -> None:
    agent = Client()
    agent.force_login(people.agent)
    assert 'name="extra.building_year"' not in agent.get("/cases/new/").content.decode()
    services.case_intake(actor=people.agent, data=case_input(city))  # no extended fields yet
    response = as_user(api, root).post(
        URL,
        {
            "key": "building_year",
            "label": "建成年份",
            "field_type": "number",
            "bureau": city.housing.pk,
            "required": True,
        },
        format="json",
    )
    assert response.status_code == 201
    page = agent.get("/cases/new/").content.decode()
    assert 'name="extra.building_year"' in page and f'data-bureau="{city.housing.pk}"' in page
    with pytest.raises(ServiceError) as err:
        services.case_intake(actor=people.agent, data=case_input(city))
    assert "extra.building_year" in err.value.field_errors
    case = services.case_intake(actor=people.agent, data=case_input(city, extra={"building_year": 1998})).case
    assert case.extra == {"building_year": 1998}
    # Switched off: the form drops it and intake no longer asks for it.
    as_user(api, root).delete(f"{URL}{response.json()['id']}/")
    assert 'name="extra.building_year"' not in agent.get("/cases/new/").content.decode()
    services.case_intake(actor=people.agent, data=case_input(city))


def test_a_field_defined_in_another_process_is_accepted_at_once(city: City, people: People) -> None:
    services.case_intake(actor=people.agent, data=case_input(city))  # this process has read the table
    # Written by another process: no post_save signal reaches this process's cached copy.
    ExtendedField.objects.bulk_create(
        [ExtendedField(key="floor", label="楼层", field_type="number", bureau=city.housing)]
    )
    case = services.case_intake(actor=people.agent, data=case_input(city, extra={"floor": 12})).case
    assert case.extra == {"floor": 12}
    with pytest.raises(ServiceError) as err:
        services.case_intake(actor=people.agent, data=case_input(city, extra={"nonsense": 1}))
    assert "extra.nonsense" in err.value.field_errors
