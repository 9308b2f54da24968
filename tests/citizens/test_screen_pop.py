"""CIT-5 screen pop and CIT-3 contact history."""

from __future__ import annotations

from hotline.citizens import services
from hotline.citizens.models import BlacklistDirection, ScreenPopLayout
from hotline.common.models import AuditLog, DictKind
from tests.conftest import as_user, dict_item, dispatched_to, submitted_case


def test_known_number(api, city, people):
    c1 = dispatched_to(city, people, city.xingfu, citizen_phone="13812345678", citizen_name="王女士")
    c2 = submitted_case(
        city, people, citizen_phone="13812345678", case_type=dict_item(DictKind.CASE_TYPE, "consult")
    )
    services.contact_create(
        citizen=c1.citizen, actor=people.agent, data=services.ContactInput(name="王先生", phone="13900001111")
    )
    services.blacklist_add(
        actor=people.dispatcher,
        data=services.BlacklistInput(
            number="13812345678", reason="多次辱骂", direction=BlacklistDirection.BOTH
        ),
    )
    ScreenPopLayout.objects.create(prefix="", name="默认", layout={"sections": ["profile"]})
    ScreenPopLayout.objects.create(
        prefix="138", name="138号段", layout={"sections": ["blacklist", "profile"]}
    )
    r = as_user(api, people.agent).get("/api/v1/citizens/screen-pop/", {"number": "13812345678"})
    data = r.json()
    assert data["known"] is True and data["citizen"]["name"] == "王女士"
    assert data["citizen"]["phones"] == ["13812345678"]
    assert data["contacts"][0]["name"] == "王先生"
    assert {c["id"] for c in data["open_cases"]} == {c1.pk, c2.pk}
    assert [c["id"] for c in data["recent_cases"]] == [c2.pk, c1.pk]
    assert [h["ref"] for h in data["history"]] == [str(c2.pk), str(c1.pk)]
    assert data["counts"] == {"total": 2, "complaints": 1, "consultations": 1, "open": 2}
    assert data["blacklisted"] and data["blacklist"]["reason"] == "多次辱骂"
    assert data["layout"]["name"] == "138号段" and data["layout"]["sections"] == ["blacklist", "profile"]
    assert AuditLog.objects.filter(action="view", object_id=str(c1.citizen_id), actor=people.agent).exists()
    # history endpoint
    history = as_user(api, people.agent).get(f"/api/v1/citizens/{c1.citizen_id}/history/").json()
    assert [h["ref"] for h in history] == [str(c2.pk), str(c1.pk)]


def test_unknown_number_gives_empty_profile(api, people):
    ScreenPopLayout.objects.create(prefix="0755", name="深圳", layout={"sections": ["profile"]})
    data = as_user(api, people.agent).get("/api/v1/citizens/screen-pop/", {"number": "0755-12345678"}).json()
    assert data["known"] is False
    assert data["citizen"]["id"] is None and data["citizen"]["phones"] == ["0755-12345678"]
    assert data["open_cases"] == [] and data["counts"]["total"] == 0
    assert data["layout"]["name"] == "深圳" and data["blacklisted"] is False
    assert as_user(api, people.agent).get("/api/v1/citizens/screen-pop/").status_code == 400


def test_scoped_for_units(api, city, people):
    east_case = dispatched_to(city, people, city.xingfu, citizen_phone="13812345678")
    west_case = dispatched_to(city, people, city.west_comm, citizen_phone="13812345678")
    mine = as_user(api, people.xingfu).get("/api/v1/citizens/screen-pop/", {"number": "13812345678"}).json()
    assert [c["id"] for c in mine["recent_cases"]] == [east_case.pk]
    assert mine["citizen"]["phones"] == ["138****5678"] and mine["number"] == "138****5678"
    west_street = (
        as_user(api, people.west_street).get("/api/v1/citizens/screen-pop/", {"number": "13812345678"}).json()
    )
    assert [c["id"] for c in west_street["recent_cases"]] == [west_case.pk]
    other = (
        as_user(api, people.guanshan).get("/api/v1/citizens/screen-pop/", {"number": "13812345678"}).json()
    )
    assert other["known"] is False and other["recent_cases"] == [] and other["citizen"]["name"] == ""


def test_shared_number_pop_and_intake_agree(api, city, people):
    """A number two family members registered: the pop shows the newest profile and intake files under it."""
    father = services.citizen_create(
        actor=people.agent, data=services.CitizenInput(name="张父", phones=["13812340000"])
    )
    daughter = services.citizen_create(
        actor=people.agent, data=services.CitizenInput(name="张女", phones=["13900009999", "13812340000"])
    )
    assert father.pk < daughter.pk
    pop = as_user(api, people.agent).get("/api/v1/citizens/screen-pop/", {"number": "13812340000"}).json()
    assert pop["citizen"]["id"] == daughter.pk
    case = submitted_case(city, people, citizen_phone="13812340000")
    assert case.citizen_id == daughter.pk
