"""Registries that domain packages fill in their `AppConfig.ready()`, so that `common` (and the places that
list things: the embedded worker, Celery beat, template filters) import no domain package.

- periodic jobs: each package registers its jobs once, with one interval; `manage.py run_worker` (no broker)
  and Celery beat (production) both read this list;
- listeners: loops `manage.py run_worker` runs in threads (work handed over through the push broker);
- choice labels: template filters show a status, action or stage by the label of the package's choices;
- the working-day calendar: `sla` owns it (data), `common.workdays` reads it through here;
- warm-ups: what a fresh server process loads before its first request (common.serving);
- permissions: each package's predicates (who may do what, defined in its `permissions.py`), by name, so that the
  menu, templates and other packages can ask without importing the package;
- menu entries: the main menu of `base.html`, each entry shown to the users its permission admits;
- home panels: the sections of the home page (`common.views.home`), each rendered by its package;
- case panels: cards of the case page contributed by other packages (a flow template's position, …);
- figures: computations analytics owns and a lower package shows (the sla supervision tables).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from django.db import models
from django.urls import reverse

from .errors import NotAllowed

if TYPE_CHECKING:
    from django.http import HttpRequest

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    """A job run every `seconds`: `run()` in the embedded worker, the Celery task named `task` under beat.

    `task=None`: only the embedded worker polls for it (under Celery the work is queued when it arises)."""

    name: str
    run: Callable[[], Any]
    task: str | None
    seconds: float


_JOBS: dict[str, PeriodicJob] = {}


def register_job(job: PeriodicJob) -> None:
    _JOBS[job.name] = job


def periodic_jobs() -> list[PeriodicJob]:
    return sorted(_JOBS.values(), key=lambda job: job.seconds)


_LISTENERS: dict[str, Callable[[Any], object]] = {}


def register_listener(name: str, run: Callable[[Any], object]) -> None:
    """A loop the embedded worker runs in a thread beside its periodic jobs: `run(stop)` returns once the
    `threading.Event` `stop` is set (e.g. delivering outbox rows as soon as their transaction commits, the
    periodic job staying the backstop)."""
    _LISTENERS[name] = run


def listeners() -> list[tuple[str, Callable[[Any], object]]]:
    return sorted(_LISTENERS.items())


_WARM_UPS: dict[str, Callable[[], object]] = {}


def register_warm_up(name: str, work: Callable[[], object]) -> None:
    """Something slow a fresh server process should load before its first request (common.serving.warm_up)."""
    _WARM_UPS[name] = work


def warm_ups() -> list[tuple[str, Callable[[], object]]]:
    return list(_WARM_UPS.items())


_CHOICES: dict[str, type[models.Choices]] = {}


def register_choices(kind: str, choices: type[models.Choices]) -> None:
    _CHOICES[kind] = choices


def choice_label(kind: str, value: str | None) -> str:
    """The label of `value` in the choices registered as `kind`; the value itself if unknown."""
    choices = _CHOICES.get(kind)
    if not value or choices is None:
        return value or ""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


class WorkdayCalendar(Protocol):
    def is_workday(self, day: dt.date) -> bool: ...

    def shift_working_days(self, start: dt.datetime, days: int) -> dt.datetime: ...


_calendar: list[Callable[[], WorkdayCalendar]] = []


def register_workday_calendar(current: Callable[[], WorkdayCalendar]) -> None:
    _calendar[:] = [current]


def workday_calendar() -> WorkdayCalendar:
    if not _calendar:
        raise RuntimeError("no working-day calendar registered (the sla app provides it)")
    return _calendar[0]()


# --------------------------------------------------------------------------- permissions


@dataclass(frozen=True)
class Permission:
    """A named predicate: `may(user, **context)` answers, `require(user, **context)` refuses with NotAllowed.

    Defined in the owning package's `permissions.py`; its services call `require`, its views and API call it as
    `may(user)` (or by name through `user_may`), the menu and the home page through their entries' `permission`.
    `name` is "<package>.<what>"; `refusal` is the (translatable) message of the NotAllowed."""

    name: str
    test: Callable[..., bool]
    refusal: Any = ""

    def __call__(self, user: Any, **context: Any) -> bool:
        return bool(
            user is not None and getattr(user, "is_authenticated", False) and self.test(user, **context)
        )

    def require(self, user: Any, **context: Any) -> None:
        if not self(user, **context):
            raise NotAllowed(self.refusal or "您无权执行此操作")


_PERMISSIONS: dict[str, Permission] = {}


def register_permissions(*permissions: Permission) -> None:
    for permission in permissions:
        _PERMISSIONS[permission.name] = permission


def permission(name: str) -> Permission:
    """The registered permission `name`; an unknown name is a programming error (KeyError), never a silent no."""
    try:
        return _PERMISSIONS[name]
    except KeyError:
        raise KeyError(f"no permission registered as {name!r}") from None


def user_may(user: Any, name: str, **context: Any) -> bool:
    return permission(name)(user, **context)


def permissions() -> list[Permission]:
    return sorted(_PERMISSIONS.values(), key=lambda p: p.name)


# --------------------------------------------------------------------------- main menu


@dataclass(frozen=True)
class MenuEntry:
    """One entry of the main menu. `permission=None`: every signed-in user sees it.

    The entry is marked active on the pages named in `active` (default: its own `url_name`) or whose URL name
    starts with `active_prefix`. `accesskey` and `testid` become the link's attributes."""

    key: str
    label: Any
    url_name: str
    order: int
    permission: str | None = None
    active: tuple[str, ...] = ()
    active_prefix: str = ""
    accesskey: str = ""
    testid: str = ""


@dataclass(frozen=True)
class MenuItem:
    entry: MenuEntry
    href: str
    active: bool


_MENU: dict[str, MenuEntry] = {}


def register_menu_entry(entry: MenuEntry) -> None:
    _MENU[entry.key] = entry


def menu_entries() -> list[MenuEntry]:
    return sorted(_MENU.values(), key=lambda e: (e.order, e.key))


def menu_for(user: Any, current: str | None) -> list[MenuItem]:
    """The entries `user` may see, in order, the one of the current page (URL name `current`) marked active."""
    items = []
    for entry in menu_entries():
        if entry.permission is not None and not user_may(user, entry.permission):
            continue
        names = entry.active or (entry.url_name,)
        active = bool(current) and (
            current in names or bool(entry.active_prefix and str(current).startswith(entry.active_prefix))
        )
        items.append(MenuItem(entry, reverse(entry.url_name), active))
    return items


# --------------------------------------------------------------------------- home panels


@dataclass(frozen=True)
class HomePanel:
    """A section of the home page, rendered from `template` with what `context(request, user)` returns.

    `context` returning None hides the panel (nothing to show this user); `permission` is checked first.
    `slot="header"` puts it beside the page title (buttons), `"main"` in the page body, by `order`."""

    key: str
    order: int
    template: str
    context: Callable[[HttpRequest, Any], dict[str, Any] | None]
    permission: str | None = None
    slot: str = "main"


_PANELS: dict[str, HomePanel] = {}


def register_home_panel(panel: HomePanel) -> None:
    _PANELS[panel.key] = panel


def home_panels() -> list[HomePanel]:
    return sorted(_PANELS.values(), key=lambda p: (p.order, p.key))


# --------------------------------------------------------------------------- case-page panels


@dataclass(frozen=True)
class CasePanel:
    """A card on the case page (`cases` renders them, in `order`, below the case's own cards), rendered from
    `template` with what `context(request, user, case)` returns; None hides it. The case page is already scoped:
    a panel only sees cases its user may see."""

    key: str
    order: int
    template: str
    context: Callable[[HttpRequest, Any, Any], dict[str, Any] | None]
    permission: str | None = None


_CASE_PANELS: dict[str, CasePanel] = {}


def register_case_panel(panel: CasePanel) -> None:
    _CASE_PANELS[panel.key] = panel


def case_panels() -> list[CasePanel]:
    return sorted(_CASE_PANELS.values(), key=lambda p: (p.order, p.key))


def render_case_panels(request: HttpRequest, user: Any, case: Any) -> list[str]:
    """The HTML of every case panel `user` may see that has something to show; a failing panel is logged and
    left out (it must not take the case page down)."""
    from django.template.loader import render_to_string
    from django.utils.safestring import mark_safe

    out: list[str] = []
    for panel in case_panels():
        if panel.permission is not None and not user_may(user, panel.permission):
            continue
        try:
            context = panel.context(request, user, case)
            if context is None:
                continue
            html = render_to_string(panel.template, context, request=request)
        except Exception:
            logger.exception("case panel %s failed", panel.key)
            continue
        out.append(mark_safe(html))  # noqa: S308 - rendered by our own templates
    return out


# --- figures: computed by the package that owns every figure (analytics), read by a package below it (the sla
# supervision page, API and export), which may not import it.
_FIGURES: dict[str, Callable[..., Any]] = {}


def register_figures(name: str, compute: Callable[..., Any]) -> None:
    _FIGURES[name] = compute


def figures(name: str) -> Callable[..., Any]:
    try:
        return _FIGURES[name]
    except KeyError:
        raise LookupError(f"no package registered the figures {name!r}") from None
