"""Case events pushed to partner systems (API-6): only the partner whose unit the case was sent to, signed, masked
as its account sees it, retried after the partner comes back, never lost, given up only after the limit."""

from __future__ import annotations

import datetime as dt

import pytest

from hotline.cases import services as case_services
from hotline.cases.models import AssignmentRole
from hotline.common import clock
from hotline.common.errors import ServiceError
from hotline.integrations.delivery import deliver_due
from hotline.integrations.models import Delivery, PartnerCall, Subscription
from hotline.integrations.services import delivery_retry, partner_create, subscription_create
from hotline.integrations.webhooks import event_types
from tests.conftest import submitted_case
from tests.integrations.partner_server import PartnerServer

EVENTS = ["created", "dispatched", "status_changed", "urged", "closed"]


@pytest.fixture
def partner_site():
    servers: list[PartnerServer] = []

    def start(secret: str, code: str) -> PartnerServer:
        server = PartnerServer(secret=secret.encode(), code=code).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def dispatched_to(city, people, unit, capture):
    """Intake and dispatch, each committing on its own as in production (their events run after each commit)."""
    with capture(execute=True):
        case = submitted_case(city, people)
    with capture(execute=True):
        return case_services.case_dispatch(
            case=case,
            actor=people.dispatcher,
            expected_version=case.version,
            targets=[case_services.Target(unit, AssignmentRole.MAIN)],
        )


def _bureau(admin, unit, code, site):
    partner, creds = partner_create(actor=admin, code=code, name=code, kind="bureau", unit=unit)
    server = site(creds.secret, code)
    subscription_create(actor=admin, partner=partner, url=server.url, events=EVENTS)
    return partner, server


def test_only_the_unit_the_case_was_sent_to_gets_it_signed_and_masked(
    admin_user, city, people, partner_site, django_capture_on_commit_callbacks
):
    _, tax = _bureau(admin_user, city.tax, "tax-system", partner_site)
    _, housing = _bureau(admin_user, city.housing, "housing-system", partner_site)
    case = dispatched_to(city, people, city.tax, django_capture_on_commit_callbacks)
    assert deliver_due() == 2  # dispatched + status_changed, to tax only
    assert housing.received == [] and tax.bad_signatures == 0
    events = sorted(item["event"] for item in tax.received)
    assert events == ["dispatched", "status_changed"]
    body = tax.received[0]
    assert body["case"]["number"] == case.number
    assert body["case"]["caller"]["phone"] == "138****5678"  # a unit handler's view of the number
    assert len(set(tax.keys)) == 2
    assert PartnerCall.objects.filter(direction="out", status_code=204).count() == 2


def test_a_partner_down_loses_nothing_and_gets_it_when_back(
    admin_user, city, people, partner_site, django_capture_on_commit_callbacks
):
    _, tax = _bureau(admin_user, city.tax, "tax-system", partner_site)
    tax.down = True
    dispatched_to(city, people, city.tax, django_capture_on_commit_callbacks)
    assert deliver_due() == 0
    pending = Delivery.objects.filter(status="pending")
    assert pending.count() == 2 and {d.attempts for d in pending} == {1}
    assert {d.last_status for d in pending} == {503}
    assert deliver_due() == 0  # not due yet: backoff
    tax.down = False
    with clock.frozen_now(clock.now() + dt.timedelta(minutes=1)):
        assert deliver_due() == 2
    keys = [d.idempotency_key for d in Delivery.objects.all()]
    assert sorted(tax.keys) == sorted(keys)  # the same key as the failed attempt
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


def test_given_up_after_the_limit_then_retried_from_the_screen(
    admin_user, city, people, partner_site, django_capture_on_commit_callbacks, client
):
    partner, tax = _bureau(admin_user, city.tax, "tax-system", partner_site)
    tax.down = True
    dispatched_to(city, people, city.tax, django_capture_on_commit_callbacks)
    deliver_due()
    with clock.frozen_now(clock.now() + dt.timedelta(hours=49)):
        deliver_due()
    assert set(Delivery.objects.values_list("status", flat=True)) == {"dead"}
    client.force_login(admin_user)
    page = client.get(f"/integrations/partners/{partner.pk}/")
    assert page.context["backlog"]["dead"] == 2
    tax.down = False
    assert delivery_retry(actor=admin_user, partner=partner) == 2
    assert deliver_due() == 2 and len(tax.received) == 2


def test_two_overlapping_drains_send_each_delivery_once(
    admin_user, city, people, partner_site, django_capture_on_commit_callbacks
):
    _, tax = _bureau(admin_user, city.tax, "tax-system", partner_site)
    dispatched_to(city, people, city.tax, django_capture_on_commit_callbacks)
    assert deliver_due() + deliver_due() == 2
    assert len(tax.received) == 2


def test_subscription_rules(admin_user, city):
    partner, _ = partner_create(actor=admin_user, code="civic", name="civic")
    with pytest.raises(ServiceError) as refused:
        subscription_create(actor=admin_user, partner=partner, url="ftp://x", events=["nope"])
    assert set(refused.value.field_errors) == {"url", "events", "partner"}
    with pytest.raises(ServiceError):
        partner_create(actor=admin_user, code="b", name="b", kind="bureau")  # a bureau system needs its unit
    assert not Subscription.objects.exists()


def test_event_types():
    assert event_types(action="submit", from_status="draft", to_status="submitted") == {
        "created",
        "status_changed",
    }
    assert event_types(action="urge", from_status="handling", to_status="handling") == {"urged"}
    assert "closed" in event_types(action="office_close", from_status="callback", to_status="closed")
    assert event_types(action="dispatch", from_status="submitted", to_status="dispatched") == {
        "dispatched",
        "status_changed",
    }
