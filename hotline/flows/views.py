"""Screens of flow templates (FLW-1, FLW-2, FLW-4): list, editor, publishing, the graph; the case-page panel."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.safestring import mark_safe

from hotline.cases.models import Case

from . import selectors, svg


def case_position_context(request: HttpRequest, user: Any, case: Case) -> dict[str, Any] | None:
    """The case page's card: the case's template version and where it stands in it (None: no template)."""
    position = selectors.case_position(case=case)
    if position is None:
        return None
    return {
        "position": position,
        "svg": mark_safe(svg.render(position.flow, current=position.current_codes, compact=True)),  # noqa: S308
    }
