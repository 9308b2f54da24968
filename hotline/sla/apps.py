import logging
from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)


class SlaConfig(AppConfig):
    name = "hotline.sla"
    label = "sla"
    verbose_name = _("时限与督办")

    def ready(self) -> None:
        from django.conf import settings

        from hotline.common.registry import (
            PeriodicJob,
            register_choices,
            register_job,
            register_warm_up,
            register_workday_calendar,
        )

        from . import calendar, checks, signals  # noqa: F401 - registers the calendar check and cache invalidation
        from .models import Stage
        from .sweep import sweep

        register_workday_calendar(calendar.current)
        register_warm_up("calendar", calendar.current)
        register_choices("sla_stage", Stage)
        register_job(
            PeriodicJob(
                "sla-sweep",
                _logged_sweep(sweep),
                "hotline.sla.tasks.sweep_task",
                settings.HOTLINE_SWEEP_SECONDS,
            )
        )

        from hotline.common.registry import MenuEntry, register_menu_entry, register_permissions

        from .permissions import PERMISSIONS

        register_permissions(*PERMISSIONS)
        register_menu_entry(MenuEntry("sla.supervision", _("督办统计"), "supervision", 60, "sla.supervision"))


def _logged_sweep(sweep: Any) -> Any:
    def run() -> None:
        from django.conf import settings

        result = sweep(workers=getattr(settings, "HOTLINE_SWEEP_WORKERS", 1))
        if result.alerts:
            logger.info("sweep raised %s", dict(result.alerts))

    return run
