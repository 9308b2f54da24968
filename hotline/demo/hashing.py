"""Cheaper password hashing while the demo is generated.

Seeding creates a few hundred users and hashes a query password for every non-public case; with Django's
default PBKDF2 (1,000,000 rounds, ~0.2 s per hash here) that alone would take minutes. The demo hasher writes
ordinary `pbkdf2_sha256` hashes with fewer rounds: Django's own PBKDF2 hasher verifies them (the round count is
stored in the hash) and re-hashes a user's password with the full count at the first login.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test.utils import override_settings

DEFAULT_HASHER = "django.contrib.auth.hashers.PBKDF2PasswordHasher"


class DemoPasswordHasher(PBKDF2PasswordHasher):
    iterations = 20_000


@contextmanager
def fast_password_hashing() -> Iterator[None]:
    """Use the demo hasher if the project hashes with the default PBKDF2; leave any other setup alone."""
    hashers = list(settings.PASSWORD_HASHERS)
    if not hashers or hashers[0] != DEFAULT_HASHER:
        yield
        return
    with override_settings(PASSWORD_HASHERS=[f"{__name__}.DemoPasswordHasher", *hashers]):
        yield
