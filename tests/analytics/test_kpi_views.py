"""The assessment screens: office actions, a unit leader's view of its own subtree, notes answered by their unit
only, export; another unit gets 404."""

from __future__ import annotations

from io import BytesIO

from django.urls import reverse
from openpyxl import load_workbook

from hotline.analytics.kpi.models import AssessmentPeriod, ImprovementNote, Score
from hotline.common import clock
from tests.analytics.reports_fixture import RUN_AT, build
from tests.analytics.test_kpi import scheme


def test_office_runs_a_period_and_units_see_their_own_rows(city, people, client):
    build(city, people)
    s = scheme(1, ("on_time_completion", 100, 100, 0))
    client.force_login(people.dispatcher)
    response = client.post(
        reverse("analytics:kpi-period-create"),
        {"scheme": s.pk, "name": "十一月", "first_day": "2026-11-01", "last_day": "2026-12-31"},
    )
    period = AssessmentPeriod.objects.get(name="十一月")
    assert response.status_code == 302
    assert (
        client.post(reverse("analytics:kpi-period-create"), {"scheme": s.pk, "first_day": "x"}).status_code
        == 400
    )
    with clock.frozen_now(RUN_AT):
        assert client.post(reverse("analytics:kpi-compute", args=[period.pk])).status_code == 302
    assert Score.objects.get(period=period, unit=city.east).grade == "D"  # 50.00
    client.post(reverse("analytics:kpi-note", args=[period.pk]), {"unit": city.east.pk, "text": "请整改"})
    note = ImprovementNote.objects.get(period=period)
    html = client.get(reverse("analytics:kpi-period", args=[period.pk])).content.decode()
    assert "西湖区" in html and "东湖区" in html
    export = client.get(reverse("analytics:kpi-period", args=[period.pk]), {"export": "xlsx"})
    rows = list(load_workbook(BytesIO(export.content)).active.iter_rows(values_only=True))
    east = next(r for r in rows if r[0] == "东湖区")
    assert east[2] == 50.0 and "D" in east

    # a unit leader: own subtree only, no office actions, answers its note
    client.force_login(people.east_leader)
    html = client.get(reverse("analytics:kpi-period", args=[period.pk])).content.decode()
    assert "东湖区" in html and "西湖区" not in html
    for name in ("kpi-compute", "kpi-publish", "kpi-note", "kpi-adjust"):
        assert client.post(reverse(f"analytics:{name}", args=[period.pk])).status_code == 404, name
    client.post(reverse("analytics:kpi-note-reply", args=[note.pk]), {"reply": "已整改"})
    note.refresh_from_db()
    assert note.reply == "已整改"
    client.force_login(people.liyuan_leader)  # a sub-unit is not the unit the note was sent to
    assert client.post(reverse("analytics:kpi-note-reply", args=[note.pk]), {"reply": "x"}).status_code == 404
    client.force_login(people.east)  # a handler does not read figures
    assert client.get(reverse("analytics:kpi-period", args=[period.pk])).status_code == 403

    client.force_login(people.dispatcher)
    assert client.post(reverse("analytics:kpi-publish", args=[period.pk])).status_code == 302
    with clock.frozen_now(RUN_AT):
        response = client.post(reverse("analytics:kpi-compute", args=[period.pk]))
    assert response.status_code == 303  # refused: frozen
    assert AssessmentPeriod.objects.get(pk=period.pk).frozen
    assert client.get(reverse("analytics:kpi")).status_code == 200
