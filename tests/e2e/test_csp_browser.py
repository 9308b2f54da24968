"""Every screen under the Content-Security-Policy in Chromium: no violation, and the behaviour moved out of the
templates (confirm dialogs, the intake counter, printing, htmx) still works."""

from __future__ import annotations

import pytest

from hotline.citizens.models import Citizen
from hotline.orgs.models import User
from tests.conftest import submitted_case
from tests.e2e.test_case_loop_browser import PASSWORD, Desk

pytestmark = pytest.mark.django_db(transaction=True)

PAGES = [
    "/",
    "/cases/new/",
    "/cases/search/?q=x",
    "/cases/board/",
    "/cases/clusters/",
    "/supervision/",
    "/citizens/",
    "/citizens/pop/",
    "/citizens/blacklist/",
    "/kb/",
    "/kb/directories/",
    "/kb/rankings/",
    "/kb/reviews/",
    "/portal/kb/",
    "/account/tokens/",
    "/cases/hot-questions/",
    "/portal/query-password/",
    "/admin/",
    "/admin/common/auditlog/",
    "/admin/orgs/unit/add/",
    "/api/v1/docs/",
]


def test_every_screen_passes_the_content_security_policy(browser, live_server, city, people, screenshot_dir):
    User.objects.create_superuser(username="root", password=PASSWORD, full_name="root", unit=city.office)
    case = submitted_case(city, people)
    citizen = Citizen.objects.get(pk=case.citizen_id)
    desk = Desk(browser, live_server.url, "root", screenshot_dir)
    violations: list[str] = []
    desk.page.on(
        "console",
        lambda m: (
            violations.append(f"{desk.page.url}: {m.text}")
            if "Content Security Policy" in m.text or "Refused to" in m.text
            else None
        ),
    )
    for path in [*PAGES, f"/cases/{case.pk}/", f"/citizens/{citizen.pk}/", f"/api/v1/cases/{case.pk}/"]:
        response = desk.page.goto(live_server.url + path)
        assert response is not None and response.status == 200, path
        assert "script-src 'self'" in (response.header_value("content-security-policy") or "")
        desk.page.wait_for_load_state("networkidle")

    # Swagger UI's initialiser is a script file now: the UI renders.
    desk.page.goto(live_server.url + "/api/v1/docs/")
    desk.page.locator(".swagger-ui .info").wait_for()

    # Intake: the moved script counts the characters and shows the extended fields.
    desk.page.goto(live_server.url + "/cases/new/")
    desk.page.locator("#id_content").fill("一二三四五")
    assert "5" in desk.page.locator("#content-count").inner_text()

    # A data-confirm form asks before submitting; dismissing the dialog submits nothing.
    desk.page.goto(live_server.url + "/citizens/blacklist/")
    desk.page.goto(live_server.url + f"/cases/{case.pk}/")
    asked: list[str] = []
    desk.page.on("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    desk.page.evaluate(
        """() => { const f = document.createElement('form'); f.method = 'post'; f.action = '/logout/';
                   f.dataset.confirm = '确定？'; document.body.appendChild(f); f.requestSubmit(); }"""
    )
    desk.page.wait_for_timeout(200)
    assert asked == ["确定？"]
    assert desk.page.url.endswith(f"/cases/{case.pk}/")  # still logged in, nothing submitted

    # htmx still runs: the notices panel is fetched on load.
    desk.page.goto(live_server.url + "/")
    desk.page.wait_for_load_state("networkidle")
    assert violations == []
    desk.close()
