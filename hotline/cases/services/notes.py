"""Timeline entries other packages record on a case without changing its status (an emergency hand-over and the
police platform's feedback): written by `cases`, with the audit row, in the caller's transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from hotline.orgs.models import User

from ..lifecycle import Action
from ..models import Case, CaseEvent
from .core import _event

__all__ = ["ANNOTATIONS", "case_annotate"]

ANNOTATIONS = frozenset({Action.EMERGENCY_TRANSFER, Action.EMERGENCY_FEEDBACK})


def case_annotate(
    *, case: Case, actor: User | None, action: str, opinion: str = "", data: dict[str, Any] | None = None
) -> CaseEvent:
    if action not in ANNOTATIONS:
        raise ValueError(f"{action} is not an annotation")
    with transaction.atomic():
        return _event(case, actor=actor, action=action, from_status=case.status, opinion=opinion, data=data)
