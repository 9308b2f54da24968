"""The same delivery arriving twice at the same moment (two workers, a channel's retry racing the first try)
makes one request: the unique delivery row decides. PostgreSQL only (SQLite serialises writers anyway)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from hotline.cases import services as case_services
from hotline.cases.models import Case, Channel
from hotline.intake import services
from hotline.intake.models import ChannelMessage

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs concurrent writers (PostgreSQL)")
def test_two_simultaneous_deliveries_make_one_request(city, channel_templates):
    barrier = threading.Barrier(4)
    results: list[services.Submitted] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            barrier.wait()
            results.append(
                services.channel_request_submit(
                    delivery=services.Delivery(
                        channel=Channel.APP, account="app", external_id="7:same-request", sender="13700001111"
                    ),
                    data=case_services.CaseInput(
                        case_type=services.case_type("complaint"),  # type: ignore[arg-type]
                        content="幸福社区12栋门口的下水道堵了三天，污水漫到人行道上。",
                        citizen_phone="13700001111",
                    ),
                    ack_sms="13700001111",
                )
            )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert Case.objects.filter(channel=Channel.APP).count() == 1 and ChannelMessage.objects.count() == 1
    assert sorted(r.created for r in results) == [False, False, False, True]
    assert len({r.case.pk for r in results if r.case}) == 1
    assert connection.vendor == "postgresql"
