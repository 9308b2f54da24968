"""The portal's data broadcast: centre-wide figures (volume by channel, type and main unit; satisfaction and
on-time completion from the measures registry) for anyone, without any case or person on the page."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from tests.conftest import dispatched_to, submitted_case

pytestmark = pytest.mark.django_db


def test_broadcast_counts_this_months_cases(city: Any, people: Any) -> None:
    cache.clear()
    first = dispatched_to(city, people, city.east, citizen_name="王小明", citizen_phone="13812345678")
    submitted_case(city, people, citizen_name="李四")
    page = Client().get("/portal/data/?period=month")
    assert page.status_code == 200
    html = page.content.decode()
    by_type = html[html.index('data-testid="broadcast-type"') :].split("</table>")[0]
    assert "投诉" in by_type and ">2<" in by_type
    by_channel = html[html.index('data-testid="broadcast-channel"') :].split("</table>")[0]
    assert "电话" in by_channel and ">2<" in by_channel
    by_unit = html[html.index('data-testid="broadcast-unit"') :].split("</table>")[0]
    assert city.east.name in by_unit
    assert "满意率" in html and "按期办结率" in html
    for personal in ("王小明", "李四", "13812345678", first.number):
        assert personal not in html
    assert Client().get("/portal/data/?period=nonsense").status_code == 200  # falls back to the month
