"""Reacting to case events (after commit): a suggestion when a case reaches the office, the outcome when it is
dispatched."""

from __future__ import annotations

from typing import Any

from hotline.cases.lifecycle import Action
from hotline.cases.models import CaseStatus

from . import services


def wants(event: Any) -> bool:
    """The events `on_case_event` acts on (the case-events job calls it for no other)."""
    return (event.to_status == CaseStatus.SUBMITTED and event.action != Action.DISPATCH) or event.action in (
        Action.DISPATCH,
        Action.REASSIGN,
    )


def on_case_event(
    sender: Any, *, case: Any, action: str, from_status: str, to_status: str, actor: Any, **kwargs: Any
) -> None:
    if to_status == CaseStatus.SUBMITTED and action != Action.DISPATCH:
        services.suggestion_for_submitted(case=case)
    elif action in (Action.DISPATCH, Action.REASSIGN):
        services.suggestion_record_outcome(case=case, actor=actor)
