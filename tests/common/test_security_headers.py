"""Issue 10, security headers: every response (page, API, anonymous portal, error) carries a Content-Security-Policy
that allows scripts from this origin only and a Permissions-Policy; no template has an inline script or an
inline event handler the policy would block. (The Chromium test tests/e2e/test_csp_browser.py opens the pages.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

import hotline

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)


def test_every_kind_of_response_carries_the_policies(people):
    staff = Client()
    staff.force_login(people.agent)
    answers = [
        staff.get("/"),
        staff.get("/api/v1/cases/"),
        staff.get("/cases/987654321/"),  # 404 page
        Client().get("/portal/kb/"),
        Client().get("/login/"),
        Client().get("/api/v1/cases/"),  # 401/403
    ]
    for response in answers:
        csp = response.get("Content-Security-Policy", "")
        script_src = re.search(r"script-src ([^;]+)", csp)
        assert script_src and "'self'" in script_src.group(1), (response.status_code, csp)
        assert "unsafe-inline" not in script_src.group(1) and "unsafe-eval" not in script_src.group(1)
        assert response.get("Permissions-Policy"), response.status_code
        assert response.get("X-Content-Type-Options") == "nosniff"


def test_no_template_has_inline_script_or_handler():
    offenders = []
    for template in Path(hotline.__file__).parent.rglob("templates/**/*.html"):
        text = template.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER):
            for match in pattern.finditer(text):
                if 'type="application/json"' in match.group(0) or "type='application/json'" in match.group(0):
                    continue  # data, not code
                offenders.append(
                    (str(template.relative_to(Path(hotline.__file__).parent)), match.group(0)[:60])
                )
    assert offenders == []
