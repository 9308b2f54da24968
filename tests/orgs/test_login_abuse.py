"""Login abuse: axes counts the proxy-rule address (a rotated X-Forwarded-For changes nothing), and password
spraying (many user names from one address) locks the address."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import Client, override_settings
from rest_framework.test import APIClient

TOKEN = "/api/v1/auth/token/"
PROXY = ["10.0.0.0/8"]


def token(client: APIClient, username: str, password: str, xff: str = ""):
    headers = {"HTTP_X_FORWARDED_FOR": xff} if xff else {}
    return client.post(TOKEN, {"username": username, "password": password}, **headers)


@override_settings(HOTLINE_TRUSTED_PROXIES=PROXY)
def test_lockout_counts_the_proxy_rule_address_whatever_the_client_forwards(people):
    client = APIClient(REMOTE_ADDR="10.0.0.1")
    for i in range(5):
        assert token(client, "agent", "wrong", xff=f"192.0.2.{i}, 203.0.113.9").status_code == 400
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.9"}
    assert token(client, "agent", "pw-123456", xff="192.0.2.77, 203.0.113.9").status_code != 200
    # Another client behind the same proxy is not locked out of that account.
    assert token(client, "agent", "pw-123456", xff="203.0.113.10").status_code == 200


def test_rotating_forwarded_for_without_trusted_proxies_changes_nothing(people):
    client = APIClient(REMOTE_ADDR="198.51.100.7")
    for i in range(5):
        token(client, "agent", "wrong", xff=f"192.0.2.{i}")
    assert token(client, "agent", "pw-123456", xff="192.0.2.200").status_code != 200


@override_settings(HOTLINE_LOGIN_SPRAY_LIMIT=10)
def test_password_spraying_locks_the_address(people):
    sprayer = APIClient(REMOTE_ADDR="198.51.100.7")
    names = [f"user{i}" for i in range(8)] + ["agent", "dispatcher"]
    for name in names:
        assert token(sprayer, name, "Summer2026!").status_code == 400
    # Locked now: even a right password from that address is refused, on the API and the login screen.
    assert token(sprayer, "monitor", "pw-123456").status_code == 400
    screen = Client(REMOTE_ADDR="198.51.100.7")
    response = screen.post("/login/", {"username": "monitor", "password": "pw-123456"})
    assert response.status_code != 302 and "_auth_user_id" not in screen.session
    # Another address is not affected.
    assert token(APIClient(REMOTE_ADDR="198.51.100.8"), "monitor", "pw-123456").status_code == 200


@override_settings(HOTLINE_LOGIN_SPRAY_LIMIT=10)
@pytest.mark.parametrize("mistakes", [1, 3])
def test_a_few_agents_mistyping_behind_one_address_lock_nothing(people, mistakes):
    office = APIClient(REMOTE_ADDR="198.51.100.20")
    for name in ["agent", "dispatcher", "monitor", "leader"]:
        for _ in range(mistakes):
            token(office, name, "typo")
    assert token(office, "east", "pw-123456").status_code == 200
