"""Inputs schemathesis found answering 500: numbers longer than int() converts, OPTIONS on selector-backed views."""

from rest_framework.test import APIClient


def test_a_query_of_5000_digits_is_an_answer_not_a_500(city, people):
    client = APIClient()
    client.force_login(people.dispatcher)
    assert client.get("/api/v1/kb/search/", {"q": "0" * 5002}).status_code < 500
    assert client.get("/api/v1/cases/", {"unit": "9" * 5002}).status_code == 400


def test_options_on_a_view_without_a_serializer_class(city, people):
    client = APIClient()
    client.force_login(people.dispatcher)
    response = client.options("/api/v1/citizens/blacklist/", {"number": "0"}, format="json")
    assert response.status_code == 200 and response.json()["name"]
