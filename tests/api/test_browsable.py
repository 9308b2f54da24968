"""The browsable API (a logged-in person opening /api/v1/... in a browser) never answers 500."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

LISTS = [
    "/api/v1/cases/",
    "/api/v1/worklist/",
    "/api/v1/extensions/",
    "/api/v1/citizens/",
    "/api/v1/citizens/blacklist/",
    "/api/v1/kb/items/",
    "/api/v1/kb/reviews/",
    "/api/v1/kb/my-submissions/",
    "/api/v1/kb/favourites/",
]


@pytest.mark.parametrize("url", LISTS)
def test_list_pages_render_in_the_browser(city, people, url):
    client = APIClient()
    client.force_login(people.dispatcher)
    response = client.get(url, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
