"""API tokens expire, die with a password change, and their owner can list and revoke them (API and screen)."""

from __future__ import annotations

import datetime as dt

from django.test import Client, override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

TOKEN = "/api/v1/auth/token/"


def issue(username: str = "agent", password: str = "pw-123456") -> str:
    response = APIClient().post(TOKEN, {"username": username, "password": password})
    assert response.status_code == 200, response.content
    assert response.json()["expires_at"]
    return response.json()["token"]


def me(key: str) -> int:
    return APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code


def test_token_works_then_expires_and_a_new_one_is_issued(people):
    key = issue()
    assert me(key) == 200
    Token.objects.filter(key=key).update(created=Token.objects.get(key=key).created - dt.timedelta(days=31))
    assert me(key) == 401
    fresh = issue()
    assert fresh != key and me(fresh) == 200


@override_settings(HOTLINE_API_TOKEN_DAYS=1)
def test_expiry_is_configurable(people):
    key = issue()
    Token.objects.filter(key=key).update(created=Token.objects.get(key=key).created - dt.timedelta(hours=25))
    assert me(key) == 401


def test_a_password_change_revokes_the_token(people):
    key = issue()
    people.agent.set_password("a-new-password-1")
    people.agent.save()
    assert me(key) == 401
    # Saving the user without touching the password keeps a token.
    other = issue("dispatcher")
    people.dispatcher.full_name = "新名字"
    people.dispatcher.save()
    assert me(other) == 200


def test_a_user_lists_and_revokes_their_own_token_only(people):
    key = issue()
    other = issue("dispatcher")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    (listed,) = client.get("/api/v1/auth/tokens/").json()
    assert listed["prefix"] == key[:8] and not listed["expired"] and key not in str(listed)
    assert client.delete(f"/api/v1/auth/tokens/{other[:8]}/").status_code == 404  # not theirs
    assert client.delete(f"/api/v1/auth/tokens/{key[:8]}/").status_code == 204
    assert me(key) == 401 and me(other) == 200


def test_the_token_screen_shows_and_revokes(people):
    key = issue()
    client = Client()
    client.force_login(people.agent)
    page = client.get("/account/tokens/").content.decode()
    assert key[:8] in page and key not in page
    response = client.post("/account/tokens/", {"prefix": key[:8]})
    assert response.status_code == 302 and me(key) == 401
    assert "没有有效的令牌" in client.get("/account/tokens/").content.decode()


@override_settings(
    PASSWORD_HASHERS=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
)
def test_a_login_that_upgrades_the_password_hash_keeps_the_token(people):
    """Several clients of one account log in at once; the first login re-hashes the password (same password)."""
    from django.contrib.auth.hashers import make_password

    user = people.agent
    user.password = make_password("demo12345", hasher="md5")
    user.save()
    token = Token.objects.create(user=user)
    response = APIClient().post("/api/v1/auth/token/", {"username": user.username, "password": "demo12345"})
    assert response.status_code == 200 and response.json()["token"] == token.key
    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_sha256$")  # the hash was upgraded
    assert Token.objects.filter(key=token.key).exists()
