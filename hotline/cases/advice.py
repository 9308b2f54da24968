"""Dispatch advice from other packages (the dispatch catalogue and its learned model live in `dispatching`, which
imports `cases`, never the reverse): an advisor is `advisor(case) -> (unit, reason) | None`, registered in its
package's `AppConfig.ready()`. `services.default_main_unit` asks the advisors first, in registration order, and
falls back to the location rule (DSP-3) when none answers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hotline.orgs.models import Unit

    from .models import Case

logger = logging.getLogger(__name__)

Advisor = Callable[["Case"], "tuple[Unit, str] | None"]
_ADVISORS: dict[str, Advisor] = {}


def register_dispatch_advisor(advisor: Advisor) -> None:
    _ADVISORS[f"{advisor.__module__}.{advisor.__qualname__}"] = advisor


def advise(case: Case) -> tuple[Unit, str] | None:
    for advisor in list(_ADVISORS.values()):
        try:
            answer = advisor(case)
        except Exception:  # an advisor's failure must not block the dispatcher's page
            logger.exception("dispatch advisor %r failed", advisor)
            continue
        if answer is not None and answer[0] is not None and answer[0].is_active:
            return answer
    return None
