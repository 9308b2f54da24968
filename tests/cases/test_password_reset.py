"""INT-6: a citizen resets a forgotten query password with a code sent to the phone or e-mail given at intake; staff
may only have the code sent, and never see the code or the new password."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache

from hotline.cases import services
from hotline.cases.models import CaseEvent, QueryPasswordReset
from hotline.common import clock
from hotline.common.crypto import check_code
from hotline.common.errors import ServiceError
from hotline.notify.models import Outbox
from tests.conftest import as_user, fresh, submitted_case

pytestmark = pytest.mark.django_db
CODE_RE = re.compile(r"验证码(\d{6})")


@pytest.fixture(autouse=True)
def _no_throttle_history():
    cache.clear()  # DRF throttles count in the default cache
    yield
    cache.clear()


def _code(address: str) -> str:
    """The code as the citizen gets it: the stored body (which staff can read) shows ******."""
    from hotline.notify.services import delivery_text

    message = Outbox.objects.filter(address=address, template="query_password_code").latest("id")
    assert not CODE_RE.search(message.body) and "验证码******" in message.body
    match = CODE_RE.search(delivery_text(message))
    assert match, message.body
    return match.group(1)


def _later(minutes: float) -> dt.datetime:
    return clock.now() + dt.timedelta(minutes=minutes)


def test_code_to_the_phone_then_a_new_password_for_the_citizen_only(city, people):
    case = submitted_case(city, people)
    sent = services.query_password_code_request(number=case.number, contact="138 1234 5678")
    assert sent.channel == "sms" and sent.masked_address == "138****5678"
    message = Outbox.objects.get(template="query_password_code")
    assert message.channel == "sms" and message.address == "13812345678" and case.number in message.body
    assert message.next_attempt_at <= clock.now()  # not held back by the SMS quiet hours
    code = _code("13812345678")
    reset = QueryPasswordReset.objects.get(case=case)
    assert code not in reset.code_hash and check_code(code, reset.code_hash)

    password = services.query_password_reset(number=case.number, code=code)
    assert re.fullmatch(r"\d{8}", password) and check_code(password, fresh(case).query_password)
    # Neither the code nor the password is on the timeline staff read.
    opinions = " ".join(CaseEvent.objects.filter(case=case).values_list("opinion", flat=True))
    assert code not in opinions and password not in opinions
    assert "来电人凭验证码重置了查询密码" in opinions
    # A code works once.
    with pytest.raises(ServiceError) as again:
        services.query_password_reset(number=case.number, code=code)
    assert "code" in again.value.field_errors


def test_code_by_email_when_given_at_intake(city, people):
    case = submitted_case(city, people, citizen_email="Wang@Example.org")
    sent = services.query_password_code_request(number=case.number, contact="wang@example.org")
    assert sent.channel == "email" and sent.masked_address == "W***@Example.org"
    assert Outbox.objects.get(template="query_password_code").channel == "email"


@pytest.mark.parametrize("contact", ["13900000000", "other@example.org", "12345"])
def test_a_contact_not_given_at_intake_gets_nothing_and_learns_nothing(city, people, contact):
    case = submitted_case(city, people, citizen_email="wang@example.org")
    assert services.query_password_code_request(number=case.number, contact=contact).channel == ""
    assert services.query_password_code_request(number="NO-SUCH", contact="13812345678").channel == ""
    assert not Outbox.objects.filter(template="query_password_code").exists()


def test_public_cases_have_no_password_to_reset(city, people):
    case = submitted_case(city, people, is_public=True)
    assert services.query_password_code_request(number=case.number, contact="13812345678").channel == ""
    with pytest.raises(ServiceError):
        services.query_password_code_send(case=case, actor=people.agent)


def test_wrong_codes_lock_the_code(city, people):
    case = submitted_case(city, people)
    services.query_password_code_request(number=case.number, contact="13812345678")
    code = _code("13812345678")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    before = fresh(case).query_password
    for _ in range(5):
        with pytest.raises(ServiceError):
            services.query_password_reset(number=case.number, code=wrong)
    assert (
        QueryPasswordReset.objects.get(case=case).attempts == 5
    )  # each wrong try is kept despite the refusal
    with pytest.raises(ServiceError) as locked:
        services.query_password_reset(number=case.number, code=code)
    assert locked.value.code == "locked"
    assert fresh(case).query_password == before  # unchanged


def test_codes_expire_and_only_the_newest_counts(city, people):
    case = submitted_case(city, people)
    services.query_password_code_request(number=case.number, contact="13812345678")
    first = _code("13812345678")
    with clock.frozen_now(_later(16)):
        with pytest.raises(ServiceError):
            services.query_password_reset(number=case.number, code=first)
        services.query_password_code_request(number=case.number, contact="13812345678")
        second = _code("13812345678")
    with clock.frozen_now(_later(18)):
        if first != second:
            with pytest.raises(ServiceError):
                services.query_password_reset(number=case.number, code=first)
        services.query_password_reset(number=case.number, code=second)


def test_sending_is_rate_limited_per_case(city, people):
    case = submitted_case(city, people)
    services.query_password_code_request(number=case.number, contact="13812345678")
    # Within a minute: nothing more is sent, and the citizen's answer is the same.
    assert services.query_password_code_request(number=case.number, contact="13812345678").channel == ""
    with pytest.raises(ServiceError) as staff:
        services.query_password_code_send(case=case, actor=people.agent)
    assert staff.value.code == "rate_limited"
    for minutes in (2, 4, 6, 8):
        with clock.frozen_now(_later(minutes)):
            assert services.query_password_code_request(number=case.number, contact="13812345678").channel
    with clock.frozen_now(_later(10)):  # five a day
        assert services.query_password_code_request(number=case.number, contact="13812345678").channel == ""
    with clock.frozen_now(_later(24 * 60 + 5)):
        assert services.query_password_code_request(number=case.number, contact="13812345678").channel
    assert Outbox.objects.filter(template="query_password_code").count() == 6


def test_staff_send_a_code_and_never_see_a_password(city, people, api):
    case = submitted_case(city, people)
    client = as_user(api, people.agent)
    response = client.post(
        f"/api/v1/cases/{case.pk}/reset-password/", {"version": case.version}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert "query_password" not in body and body["code_sent_to"] == "138****5678"
    code = _code("13812345678")
    assert code not in response.content.decode()
    # Another unit's user does not see the case.
    other = as_user(api, people.tax).post(f"/api/v1/cases/{case.pk}/reset-password/", {}, format="json")
    assert other.status_code == 404
    # A case without a mobile number or e-mail: a clear refusal.
    landline = submitted_case(city, people, citizen_phone="02787654321")
    refused = as_user(api, people.agent).post(
        f"/api/v1/cases/{landline.pk}/reset-password/", {}, format="json"
    )
    assert refused.status_code == 400 and refused.json()["code"] == "no_contact"


def test_staff_screen_says_where_the_code_went(client, city, people):
    case = submitted_case(city, people)
    client.force_login(people.agent)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="send-reset-code"' in page
    response = client.post(f"/cases/{case.pk}/act/reset-password/", {"version": case.version}, follow=True)
    text = response.content.decode()
    assert "138****5678" in text and _code("13812345678") not in text and "新的查询密码" not in text


def test_public_api(city, people, api):
    case = submitted_case(city, people)
    sent = api.post(
        "/api/v1/public/query-password/code/",
        {"number": case.number, "contact": "13812345678"},
        format="json",
    )
    assert sent.status_code == 202
    miss = api.post(
        "/api/v1/public/query-password/code/",
        {"number": case.number, "contact": "13900000000"},
        format="json",
    )
    assert miss.status_code == 202 and miss.json() == sent.json()  # the same answer
    bad = api.post(
        "/api/v1/public/query-password/reset/", {"number": case.number, "code": "12ab"}, format="json"
    )
    assert bad.status_code == 400 and "code" in bad.json()["errors"]
    code = _code("13812345678")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    refused = api.post(
        "/api/v1/public/query-password/reset/", {"number": case.number, "code": wrong}, format="json"
    )
    assert refused.status_code == 400 and "code" in refused.json()["errors"]
    done = api.post(
        "/api/v1/public/query-password/reset/", {"number": case.number, "code": code}, format="json"
    )
    assert done.status_code == 200
    password = done.json()["query_password"]
    lookup = api.post(
        "/api/v1/public/case-status/", {"number": case.number, "password": password}, format="json"
    )
    assert lookup.status_code == 200


def test_public_api_is_throttled_per_address(city, people, api):
    for _ in range(20):
        assert (
            api.post("/api/v1/public/query-password/code/", {"number": "X", "contact": "1"}).status_code
            == 202
        )
    assert api.post("/api/v1/public/query-password/code/", {"number": "X", "contact": "1"}).status_code == 429


def test_portal_page_is_throttled_per_address(client, city, people):
    for _ in range(30):
        assert (
            client.post(
                "/portal/query-password/", {"step": "code", "number": "X", "contact": "1"}
            ).status_code
            == 200
        )
    limited = client.post("/portal/query-password/", {"step": "code", "number": "X", "contact": "1"})
    assert limited.status_code == 429 and "操作过于频繁" in limited.content.decode()
