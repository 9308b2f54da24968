"""CIT-1/2 profiles and contacts, ORG-4 masking and the audit of unmasked views."""

from __future__ import annotations

import pytest

from hotline.citizens import services
from hotline.citizens.models import Citizen, CitizenPhone
from hotline.common import crypto
from hotline.common.errors import ServiceError
from hotline.common.models import AuditLog
from tests.conftest import as_user, dispatched_to

ID_CARD = "11010519491231002X"


def make_citizen(people, **over):
    data = services.CitizenInput(
        name=over.pop("name", "张三"),
        phones=over.pop("phones", ["13812345678", "010-62345678"]),
        id_card=over.pop("id_card", ID_CARD),
        **over,
    )
    return services.citizen_create(actor=people.agent, data=data)


def test_create_keeps_all_phones_and_encrypts_id_card(people):
    citizen = make_citizen(people, level="vip", gender="male", email="z@example.com")
    assert citizen.phone == "13812345678"
    assert list(citizen.phones.values_list("number", "is_primary")) == [
        ("13812345678", True),
        ("010-62345678", False),
    ]
    assert ID_CARD not in citizen.id_card_encrypted and citizen.id_card == ID_CARD
    assert Citizen.objects.get(id_card_hash=crypto.lookup_hash(ID_CARD)) == citizen
    assert AuditLog.objects.filter(object_type="citizens.citizen", action="create").count() == 1


def test_bad_input_reports_every_field_in_chinese(people):
    with pytest.raises(ServiceError) as exc:
        services.citizen_create(
            actor=people.agent,
            data=services.CitizenInput(name="", phones=["1381234"], id_card="110105194912310021", email="x@"),
        )
    errors = exc.value.field_errors
    assert errors["name"] == ["请填写姓名"]
    assert "电话号码格式不正确" in errors["phones"][0]
    assert "校验位" in errors["id_card"][0]
    assert errors["email"] == ["电子邮箱格式不正确"]
    assert Citizen.objects.count() == 0


def test_duplicate_id_card_refused(people):
    make_citizen(people)
    with pytest.raises(ServiceError) as exc:
        make_citizen(people, phones=["13900000000"])
    assert exc.value.field_errors["id_card"] == ["该身份证号已登记"]


def test_update_replaces_phones(people):
    citizen = make_citizen(people)
    services.citizen_update(
        citizen=citizen, actor=people.agent, data=services.CitizenInput(name="张三丰", phones=["13700000000"])
    )
    citizen.refresh_from_db()
    assert citizen.name == "张三丰" and citizen.phone == "13700000000"
    assert list(CitizenPhone.objects.filter(citizen=citizen).values_list("number", flat=True)) == [
        "13700000000"
    ]
    assert citizen.id_card == ID_CARD  # an empty ID card keeps the one on file


def test_intake_upsert_still_works_and_records_phone(city, people):
    case = dispatched_to(city, people, city.east, citizen_phone="13612345678", citizen_name="李四")
    assert case.citizen is not None
    assert CitizenPhone.objects.filter(citizen=case.citizen, number="13612345678").exists()
    # A second call from the profile's second number finds the same citizen.
    services.citizen_update(
        citizen=case.citizen,
        actor=people.agent,
        data=services.CitizenInput(name="李四", phones=["13612345678", "13612345679"]),
    )
    again = services.citizen_upsert_from_intake(phone="13612345679", actor=people.agent, name="李四")
    assert again == case.citizen


def test_api_crud_search_and_contacts(api, people):
    client = as_user(api, people.agent)
    r = client.post(
        "/api/v1/citizens/",
        {"name": "王五", "phones": ["13812345678"], "id_card": ID_CARD, "level": "sensitive"},
        format="json",
    )
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    assert r.json()["phones"] == ["13812345678"]
    bad = client.post("/api/v1/citizens/", {"name": "", "phones": ["abc"]}, format="json")
    assert bad.status_code == 400 and "name" in bad.json()["errors"]
    # search by name prefix, by any number, by the exact ID card; lists are masked
    for query in ({"query": "王"}, {"phone": "138 1234 5678"}, {"id_card": ID_CARD.lower()}):
        found = client.get("/api/v1/citizens/", query).json()["results"]
        assert [c["id"] for c in found] == [pk], query
        assert found[0]["phones"] == ["138****5678"]
    assert client.get("/api/v1/citizens/", {"id_card": "110105194912310037"}).json()["results"] == []
    r = client.post(
        f"/api/v1/citizens/{pk}/contacts/", {"name": "王小五", "relation": "儿子", "phone": "13900001111"}
    )
    assert r.status_code == 201
    contact = r.json()["id"]
    r = client.put(
        f"/api/v1/citizens/contacts/{contact}/", {"name": "王小五", "relation": "女儿", "phone": ""}
    )
    assert r.json()["relation"] == "女儿"
    detail = client.get(f"/api/v1/citizens/{pk}/").json()
    assert detail["contacts"][0]["name"] == "王小五"
    assert client.delete(f"/api/v1/citizens/contacts/{contact}/").status_code == 204
    assert client.delete(f"/api/v1/citizens/{pk}/").status_code == 204


def test_masking_per_role_and_audit_of_unmasked_views(api, city, people):
    case = dispatched_to(city, people, city.xingfu, citizen_phone="13812345678", citizen_id_card=ID_CARD)
    citizen = case.citizen
    views = AuditLog.objects.filter(action="view", object_type="citizens.citizen", object_id=str(citizen.pk))
    # The hotline agent sees everything, and the view is audited.
    data = as_user(api, people.agent).get(f"/api/v1/citizens/{citizen.pk}/").json()
    assert data["phone"] == "13812345678" and data["id_card"] == ID_CARD and not data["masked"]
    assert views.filter(actor=people.agent).count() == 1
    # The community handler of the unit working on the case sees masked numbers; nothing unmasked to audit.
    data = as_user(api, people.xingfu).get(f"/api/v1/citizens/{citizen.pk}/").json()
    assert data["phone"] == "138****5678" and data["id_card"] == "110105********002X" and data["masked"]
    assert not views.filter(actor=people.xingfu).exists()
    # A unit of another district may not see the profile at all.
    assert as_user(api, people.west).get(f"/api/v1/citizens/{citizen.pk}/").status_code == 404
    # Units may not edit profiles.
    r = as_user(api, people.xingfu).put(
        f"/api/v1/citizens/{citizen.pk}/", {"name": "x", "phones": []}, format="json"
    )
    assert r.status_code == 403


def test_another_unit_gets_404_on_citizen_writes_not_403(api, city, people):
    """Scoping comes before the role check: a unit outside the case cannot tell the profile exists (ORG-2)."""
    case = dispatched_to(city, people, city.xingfu, citizen_phone="13812345678")
    citizen = case.citizen
    contact = services.contact_create(
        citizen=citizen, actor=people.agent, data=services.ContactInput(name="王先生", phone="13700000001")
    )
    west = as_user(api, people.west)
    body = {"name": "x", "phones": []}
    assert west.put(f"/api/v1/citizens/{citizen.pk}/", body, format="json").status_code == 404
    assert west.delete(f"/api/v1/citizens/{citizen.pk}/").status_code == 404
    assert (
        west.post(f"/api/v1/citizens/{citizen.pk}/contacts/", {"name": "x"}, format="json").status_code == 404
    )
    assert (
        west.put(f"/api/v1/citizens/contacts/{contact.pk}/", {"name": "x"}, format="json").status_code == 404
    )
    assert west.delete(f"/api/v1/citizens/contacts/{contact.pk}/").status_code == 404
    from django.test import Client

    page = Client()
    page.force_login(people.west)
    assert page.post(f"/citizens/contacts/{contact.pk}/delete/").status_code == 404
    # The unit on the case still gets 403 (it sees the profile, its role may not edit it).
    assert as_user(api, people.xingfu).delete(f"/api/v1/citizens/contacts/{contact.pk}/").status_code == 403
    assert Citizen.objects.filter(pk=citizen.pk).exists() and citizen.contacts.filter(pk=contact.pk).exists()


def test_delete_refused_when_citizen_has_cases(city, people):
    case = dispatched_to(city, people, city.east)
    with pytest.raises(ServiceError, match="已有工单"):
        services.citizen_delete(citizen=case.citizen, actor=people.agent)
