"""The citizen screens: screen pop (intake card and page), search, profile, blacklist, import — scoped and masked."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from hotline.citizens import services
from hotline.citizens.models import BlacklistDirection, BlacklistEntry, Citizen, ScreenPopLayout
from hotline.common.models import AuditLog, DictKind
from tests.conftest import dict_item, dispatched_to, submitted_case

PHONE = "13800001234"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _pop(html: str) -> str:
    """The screen pop itself (the page also echoes the number the user typed, in the search box)."""
    return html[html.index('id="pop-result"') :]


def test_screen_pop_page_is_masked_for_a_community_handler(city, people):
    dispatched_to(city, people, city.xingfu, citizen_phone=PHONE, citizen_name="王女士")
    html = _pop(client_for(people.xingfu).get("/citizens/pop/", {"phone": PHONE}).content.decode())
    assert 'data-testid="screen-pop"' in html and "王女士" in html
    assert "138****1234" in html and PHONE not in html
    assert not AuditLog.objects.filter(action="view", actor=people.xingfu).exists()
    partial = (
        client_for(people.xingfu)
        .get("/citizens/pop/", {"phone": PHONE, "partial": "1"}, HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert "<html" not in partial and "138****1234" in partial and PHONE not in partial
    # The agent sees the full number, and that view is audited (ORG-4).
    html = _pop(client_for(people.agent).get("/citizens/pop/", {"phone": PHONE}).content.decode())
    assert PHONE in html
    assert AuditLog.objects.filter(action="view", actor=people.agent, summary__contains="来电弹屏").exists()


def test_intake_card_is_the_full_screen_pop_with_layout_sections(city, people):
    case = dispatched_to(city, people, city.xingfu, citizen_phone=PHONE, citizen_name="王女士")
    submitted_case(city, people, citizen_phone=PHONE, case_type=dict_item(DictKind.CASE_TYPE, "consult"))
    services.contact_create(
        citizen=case.citizen, actor=people.agent, data=services.ContactInput(name="王先生", relation="丈夫")
    )
    client = client_for(people.agent)
    html = client.get("/partials/citizen/", {"citizen_phone": PHONE}).content.decode()
    for testid in (
        "citizen-found",
        "pop-counts",
        "pop-contacts",
        "pop-open-cases",
        "pop-recent-cases",
        "pop-history",
    ):
        assert f'data-testid="{testid}"' in html, testid
    assert case.number in html and "王先生" in html and "data-fill-citizen" in html
    assert 'data-testid="pop-complaints">1<' in html and 'data-testid="pop-consultations">1<' in html
    # The 138 area layout shows the blacklist first and only the profile and open cases; a blacklist warning is
    # shown even when a layout leaves it out.
    ScreenPopLayout.objects.create(
        prefix="138", name="138号段", layout={"sections": ["open_cases", "profile"]}
    )
    services.blacklist_add(
        actor=people.dispatcher,
        data=services.BlacklistInput(number=PHONE, reason="多次辱骂", direction=BlacklistDirection.INBOUND),
    )
    html = client.get("/partials/citizen/", {"citizen_phone": PHONE}).content.decode()
    assert "多次辱骂" in html and "pop-history" not in html and "pop-counts" not in html
    assert html.index("pop-blacklist") < html.index("pop-open-cases") < html.index("citizen-found")


def test_unknown_number_prompts_for_a_new_caller(city, people):
    html = (
        client_for(people.agent).get("/partials/citizen/", {"citizen_phone": "13900009999"}).content.decode()
    )
    assert 'data-testid="citizen-new"' in html and "新来电人" in html
    assert (
        client_for(people.agent).get("/partials/citizen/", {"citizen_phone": "139"}).content.decode().strip()
        == ""
    )


def test_citizen_list_and_profile_are_scoped(city, people):
    case = dispatched_to(city, people, city.xingfu, citizen_phone=PHONE, citizen_name="王女士")
    pk = case.citizen_id
    listing = client_for(people.xingfu).get("/citizens/", {"phone": PHONE}).content.decode()
    assert "王女士" in listing and "138****1234" in listing
    assert "王女士" not in client_for(people.west).get("/citizens/").content.decode()
    # Another district's handler may not see this citizen.
    assert client_for(people.west).get(f"/citizens/{pk}/").status_code == 404
    page = client_for(people.xingfu).get(f"/citizens/{pk}/").content.decode()
    assert "138****1234" in page and PHONE not in page and case.title in page
    full = client_for(people.agent).get(f"/citizens/{pk}/").content.decode()
    assert PHONE in full and 'data-testid="citizen-history"' in full and case.title in full
    assert AuditLog.objects.filter(action="view", actor=people.agent, summary__contains="档案详情").exists()


def test_contacts_added_by_editors_only(city, people):
    case = submitted_case(city, people, citizen_phone=PHONE)
    url = f"/citizens/{case.citizen_id}/contacts/"
    r = client_for(people.agent).post(url, {"name": "李四", "relation": "儿子", "phone": "13911112222"})
    assert r.status_code == 302 and case.citizen.contacts.get().name == "李四"
    assert client_for(people.monitor).post(url, {"name": "张三"}).status_code == 403
    contact = case.citizen.contacts.get()
    assert client_for(people.agent).post(f"/citizens/contacts/{contact.pk}/delete/").status_code == 302
    assert not case.citizen.contacts.exists()


def test_blacklist_add_and_remove(city, people):
    client = client_for(people.dispatcher)
    r = client.post(
        "/citizens/blacklist/",
        {"number": "13912345678", "reason": "骚扰", "direction": "both", "treatment": "voicemail"},
    )
    assert r.status_code == 302
    entry = BlacklistEntry.objects.get(number="13912345678")
    assert "骚扰" in client.get("/citizens/blacklist/").content.decode()
    bad = client.post("/citizens/blacklist/", {"number": "", "reason": ""}, follow=True).content.decode()
    assert "请填写号码" in bad
    assert client_for(people.agent).get("/citizens/blacklist/").status_code == 403
    assert client.post(f"/citizens/blacklist/{entry.pk}/remove/").status_code == 302
    assert not BlacklistEntry.objects.exists()


# The embedded worker closes stale connections between jobs (as it must on PostgreSQL): run it in a transactional test.
@pytest.mark.django_db(transaction=True)
def test_import_shows_the_per_row_error_report(city, people):
    csv = "姓名,电话,性别\n张三,13800138000,男\n,12,女\n".encode()
    upload = SimpleUploadedFile("citizens.csv", csv, content_type="text/csv")
    client = client_for(people.agent)
    queued = client.post("/citizens/import/citizens/", {"file": upload})
    assert queued.status_code == 302 and "?job=" in queued["Location"]
    waiting = client.get(queued["Location"]).content.decode()
    assert 'data-status="queued"' in waiting and "every 2s" in waiting  # the page polls the job
    from django.core.management import call_command

    call_command("run_worker", "--once")  # the embedded worker runs the queued import
    html = client.get(queued["Location"]).content.decode()
    assert 'data-status="done"' in html and "every 2s" not in html  # polling stops
    assert 'data-testid="import-report"' in html and 'data-testid="import-errors"' in html
    assert 'data-testid="import-created">1<' in html and 'data-testid="import-rejected">1<' in html
    assert "请填写姓名" in html
    assert Citizen.objects.filter(name="张三").exists()
    assert client_for(people.xingfu).get("/citizens/import/citizens/").status_code == 403
    assert client_for(people.agent).get("/citizens/import/blacklist/").status_code == 403
    assert client_for(people.agent).get("/citizens/import/nothing/").status_code == 404
