from __future__ import annotations

from typing import Any

from .models import User


def request_user(request: Any) -> User:
    """The signed-in user of a Django or DRF request (views are login-protected, so never anonymous)."""
    user = request.user
    assert isinstance(user, User)
    return user
