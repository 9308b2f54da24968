from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from .models import User


class UserWithUnitBackend(ModelBackend):
    """Loads the signed-in user together with their unit: every scoped query reads it."""

    def get_user(self, user_id: Any) -> User | None:
        user = User._default_manager.select_related("unit").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
