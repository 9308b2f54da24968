"""What the citizens package reads of cases, registered in cases/apps.py (citizens does not import cases):
the case rows for a citizen's contact history and screen pop, and the source of the contact history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Q, QuerySet
from django.urls import reverse

from hotline.citizens.history import ContactEntry
from hotline.citizens.models import Citizen

from .lifecycle import FINISHED_STATUSES
from .masking import without_secret_callers
from .models import Case
from .selectors import case_visible


class CitizenCaseRows:
    finished_statuses = FINISHED_STATUSES

    def visible(self, *, user: Any) -> QuerySet[Case]:
        # Secret callers' cases are left out for those who may not know the caller (ORG-4).
        return without_secret_callers(case_visible(user=user), user)

    def of_citizen(self, *, user: Any, citizen: Citizen | None, numbers: Sequence[str]) -> QuerySet[Case]:
        match = Q(pk__in=[])
        if citizen is not None:
            match |= Q(citizen_id=citizen.pk)
        if numbers:
            match |= Q(citizen_phone__in=list(numbers))
        return self.visible(user=user).filter(match)


class CaseSource:
    """The citizen's cases (by profile or by number), as the user may see them."""

    name = "case"

    def entries(
        self, *, user: Any, citizen: Citizen | None, numbers: Sequence[str], limit: int
    ) -> list[ContactEntry]:
        qs = CitizenCaseRows().of_citizen(user=user, citizen=citizen, numbers=numbers)
        qs = qs.order_by("-created_at", "-id")[:limit]
        return [
            ContactEntry(
                at=case.created_at,
                source=self.name,
                channel=case.channel,
                channel_display=case.get_channel_display(),
                title=case.title,
                status=case.status,
                status_display=case.get_status_display(),
                ref=str(case.pk),
                link=reverse("case-detail", args=[case.pk]),
                number=case.citizen_phone,
            )
            for case in qs.only("pk", "created_at", "channel", "title", "status", "citizen_phone")
        ]
