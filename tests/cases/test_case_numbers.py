"""Public case numbers (INT-6): YYYYMMDD + a 6-digit daily sequence. On PostgreSQL a sequence per day, taken
without a lock held to the end of the intake's transaction (issue 12: the counter row capped intake throughput)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections, transaction

from hotline.cases.models import Case, CaseNumberCounter
from hotline.cases.services import next_case_number, number_sequences_prune
from tests.conftest import submitted_case

postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL sequences")


def test_numbers_follow_the_day_in_china_time(city, people):
    case = submitted_case(city, people)
    china_day = case.created_at.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    assert case.number.startswith(f"{china_day:%Y%m%d}") and len(case.number) == 14


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_number_taken_in_an_open_transaction_does_not_hold_up_the_next_intake():
    day = dt.date(2001, 2, 3)  # a past day: its sequence is dropped by the prune below
    CaseNumberCounter.objects.create(day=day, last=41)  # numbers given before the switch to sequences
    try:
        with transaction.atomic():
            assert next_case_number(day) == "20010203000042"
        with transaction.atomic():
            held = next_case_number(day)  # not committed yet
            other: list[str] = []

            def intake_elsewhere() -> None:
                try:
                    other.append(next_case_number(day))
                finally:
                    connections.close_all()

            thread = threading.Thread(target=intake_elsewhere)
            thread.start()
            thread.join(timeout=20)
            assert not thread.is_alive() and other == ["20010203000044"]
        assert held == "20010203000043"
    finally:
        assert number_sequences_prune() >= 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('cases_number_20010203')")
        assert cursor.fetchone()[0] is None


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_new_day_sequence_starts_after_the_numbers_already_given(city, people):
    day = dt.date(2001, 3, 4)
    case = submitted_case(city, people)
    Case.objects.filter(pk=case.pk).update(number="20010304000007")
    try:
        assert next_case_number(day) == "20010304000008"
    finally:
        number_sequences_prune()
