from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db.models import OuterRef, Subquery

from hotline.common.db import JoinedText

from .models import User, UserRole


class UserWithUnitBackend(ModelBackend):
    """Loads the signed-in user together with their unit and roles (one query): every scoped query reads them."""

    def get_user(self, user_id: Any) -> User | None:
        roles = (
            UserRole.objects.filter(user_id=OuterRef("pk"))
            .order_by()
            .values("user_id")
            .annotate(joined=JoinedText("role"))
            .values("joined")
        )
        user = (
            User._default_manager.select_related("unit")
            .annotate(role_csv=Subquery(roles))
            .filter(pk=user_id)
            .first()
        )
        if user is None or not self.user_can_authenticate(user):
            return None
        user.__dict__["role_set"] = frozenset(filter(None, (user.role_csv or "").split(",")))
        return user
