"""Flow templates from another package (`flows` imports `cases`, never the reverse): the package registers one
`FlowHook` in its `AppConfig.ready()`.

- `pin(case)` runs inside the transaction that creates a case: the case keeps the template version chosen now;
- `check(action, case=, user=, status=, transition=)` runs after the backbone allowed the action
  (`lifecycle.check`) and raises `ServiceError` / `NotAllowed` when the case's template refuses it;
- `narrow(case, user, actions)` returns the backbone's allowed actions as the template admits and orders them.

Without a registered hook (or for a case without a template) the backbone alone decides.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from hotline.orgs.models import User

    from .lifecycle import Transition
    from .models import Case


class FlowHook(Protocol):
    def pin(self, case: Case) -> None: ...

    def check(self, action: str, *, case: Case, user: User, status: str, transition: Transition) -> None: ...

    def narrow(self, case: Case, user: User, actions: list[str]) -> list[str]: ...


_HOOK: list[FlowHook] = []


def register_flow_hook(hook: FlowHook) -> None:
    _HOOK[:] = [hook]


def pin(case: Case) -> None:
    for hook in _HOOK:
        hook.pin(case)


def check(action: str, *, case: Case, user: User, status: str, transition: Transition) -> None:
    for hook in _HOOK:
        hook.check(action, case=case, user=user, status=status, transition=transition)


def narrow(case: Case, user: User, actions: list[str]) -> list[str]:
    for hook in _HOOK:
        actions = hook.narrow(case, user, actions)
    return actions
