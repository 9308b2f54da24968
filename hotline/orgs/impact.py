"""What retiring or merging a unit touches in other packages, for the retire screen and the service's refusal.

`orgs` imports no domain package; a package that keeps work per unit (cases: open assignments) registers a
provider here in its `AppConfig.ready()`. A provider returns the count of the unit's open work and a label.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .models import Unit


@dataclass(frozen=True)
class OpenWork:
    label: str  # e.g. "在办工单（待签收、办理中、已下派、退件待审核）"
    count: int


Provider = Callable[[Unit], OpenWork]
PROVIDERS: list[Provider] = []


def register_open_work(provider: Provider) -> None:
    if provider not in PROVIDERS:
        PROVIDERS.append(provider)


def open_work(unit: Unit) -> list[OpenWork]:
    return [provider(unit) for provider in PROVIDERS]
