"""Flow templates from another package (`flows` imports `cases`, never the reverse): the package registers one
`FlowHook` in its `AppConfig.ready()`.

- `pin(case)` runs inside the transaction that creates a case: the case keeps the template version chosen now;
- `check(action, case=, user=, status=, transition=)` runs after the backbone allowed the action
  (`lifecycle.check`) and raises `ServiceError` / `NotAllowed` when the case's template refuses it;
- `narrow(case, user, actions)` returns the backbone's allowed actions as the template admits and orders them;
- `units(case, status, units)` judges the units a dispatch sends the case to (each `(unit kind, role)`) against
  the unit step it enters: a single step takes exactly one acting unit, a serial step returns the order in which
  the units act (the next unit's assignment is created when the one before finishes); raises `ServiceError`;
- `step(case, status, unit_kind=)` describes the template's step a case in `status` is at (its time limit, which
  the case services hand to the sla clocks, and its dispatch mode, which auto-dispatch reads), None without one.

Without a registered hook (or for a case without a template) the backbone alone decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from hotline.orgs.models import User

    from .lifecycle import Transition
    from .models import Case


# Dispatch modes a template step may name (the values of `flows.models.DispatchMode`).
DISPATCH_AUTO_REALTIME = "auto_realtime"
DISPATCH_AUTO_SCHEDULED = "auto_scheduled"
DISPATCH_MANUAL = "manual"
# Limit units a template step may name (`flows.models.LimitUnit`): working days, working hours.
LIMIT_WORKDAYS = "workdays"
LIMIT_HOURS = "hours"


@dataclass(frozen=True)
class StepInfo:
    """The template's step a case is at: `code` tells two statuses of one step apart from two steps."""

    code: str
    name: str
    limit_amount: int | None = None
    limit_unit: str = LIMIT_WORKDAYS
    dispatch_mode: str = ""


class FlowHook(Protocol):
    def pin(self, case: Case) -> None: ...

    def check(
        self,
        action: str,
        *,
        case: Case,
        user: User,
        status: str,
        transition: Transition,
        target: str | None = None,
    ) -> None: ...

    def narrow(self, case: Case, user: User, actions: list[str]) -> list[str]: ...

    def units(self, case: Case, status: str, units: Sequence[tuple[str, str]]) -> list[int] | None: ...

    def step(self, case: Case, status: str, *, unit_kind: str = "") -> StepInfo | None: ...


_HOOK: list[FlowHook] = []


def register_flow_hook(hook: FlowHook) -> None:
    _HOOK[:] = [hook]


def pin(case: Case) -> None:
    for hook in _HOOK:
        hook.pin(case)


def check(
    action: str, *, case: Case, user: User, status: str, transition: Transition, target: str | None = None
) -> None:
    """`target`: the status the action moves the case to when the service knows it (None: unchanged or not
    known yet) — a parallel step's join is judged only when the case would leave the step."""
    for hook in _HOOK:
        hook.check(action, case=case, user=user, status=status, transition=transition, target=target)


def narrow(case: Case, user: User, actions: list[str]) -> list[str]:
    for hook in _HOOK:
        actions = hook.narrow(case, user, actions)
    return actions


def units(case: Case, status: str, units: Sequence[tuple[str, str]]) -> list[int] | None:
    """The order (indexes into `units`, copies left out) in which the units of a dispatch act one after another at
    a serial step the case enters in `status`; None when they act at once. Refuses (`ServiceError`) what the
    step does not admit: more than one acting unit at a single step, a unit whose level is not in a serial
    step's order, a serial step's main unit not last."""
    for hook in _HOOK:
        return hook.units(case, status, units)
    return None


def step(case: Case, status: str, *, unit_kind: str = "") -> StepInfo | None:
    """The template's step `case` is at in `status` (for parallel branches, the one whose unit level is
    `unit_kind` when given); None for a case without a template."""
    for hook in _HOOK:
        return hook.step(case, status, unit_kind=unit_kind)
    return None
