"""CIT-4 blacklist: one indexed lookup by number and direction, expiry, management rights."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hotline.citizens import services
from hotline.citizens.models import BlacklistDirection, BlacklistTreatment
from hotline.citizens.selectors import blacklist_lookup
from hotline.common import clock
from hotline.common.errors import ServiceError
from tests.conftest import as_user


def add(people, number, direction, **kw):
    return services.blacklist_add(
        actor=people.dispatcher,
        data=services.BlacklistInput(number=number, reason="骚扰", direction=direction, **kw),
    )


def test_lookup_by_direction_and_expiry(people):
    add(people, "13812345678", BlacklistDirection.INBOUND)
    add(people, "13912345678", BlacklistDirection.BOTH, treatment=BlacklistTreatment.ANNOUNCEMENT)
    add(people, "13712345678", BlacklistDirection.OUTBOUND, expires_at=clock.now() + dt.timedelta(days=1))
    with CaptureQueriesContext(connection) as queries:
        assert blacklist_lookup("+86 138 1234 5678", BlacklistDirection.INBOUND) is not None
    assert len(queries) == 1
    assert blacklist_lookup("13812345678", BlacklistDirection.OUTBOUND) is None
    assert blacklist_lookup("13912345678", BlacklistDirection.OUTBOUND).treatment == "announcement"
    assert blacklist_lookup("13712345678", BlacklistDirection.OUTBOUND) is not None
    with clock.frozen_now(clock.now() + dt.timedelta(days=2)):
        assert blacklist_lookup("13712345678", BlacklistDirection.OUTBOUND) is None
    assert blacklist_lookup("13000000000") is None


def test_validation(people):
    with pytest.raises(ServiceError) as exc:
        services.blacklist_add(
            actor=people.dispatcher,
            data=services.BlacklistInput(number="abc", reason="", treatment=BlacklistTreatment.AGENT_GROUP),
        )
    assert set(exc.value.field_errors) == {"number", "reason", "treatment_target"}


def test_api_rights_and_check(api, people):
    r = as_user(api, people.agent).post(
        "/api/v1/citizens/blacklist/", {"number": "13812345678", "reason": "x"}
    )
    assert r.status_code == 403
    r = as_user(api, people.dispatcher).post(
        "/api/v1/citizens/blacklist/", {"number": "13812345678", "reason": "骚扰", "direction": "both"}
    )
    assert r.status_code == 201
    check = as_user(api, people.agent).get(
        "/api/v1/citizens/blacklist/check/", {"number": "13812345678", "direction": "outbound"}
    )
    assert check.json()["blacklisted"] is True
    listed = as_user(api, people.dispatcher).get("/api/v1/citizens/blacklist/").json()
    assert listed["count"] == 1
    assert (
        as_user(api, people.dispatcher).delete(f"/api/v1/citizens/blacklist/{r.json()['id']}/").status_code
        == 204
    )
