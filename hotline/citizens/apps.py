import logging
from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)


class CitizensConfig(AppConfig):
    name = "hotline.citizens"
    label = "citizens"
    verbose_name = _("市民")

    def ready(self) -> None:
        from hotline.common.registry import PeriodicJob, register_job

        from .jobs import import_run_due

        # Bulk imports queued by the screens and the API; under Celery each import is its own task instead.
        register_job(PeriodicJob("citizens-imports", _logged_imports(import_run_due), None, 5.0))

        from hotline.common.registry import MenuEntry, register_menu_entry, register_permissions

        from .permissions import PERMISSIONS

        register_permissions(*PERMISSIONS)
        register_menu_entry(
            MenuEntry(
                "citizens",
                _("市民档案"),
                "citizen-list",
                70,
                active=("citizen-list", "citizen-detail", "citizen-pop", "citizen-blacklist"),
            )
        )


def _logged_imports(import_run_due: Any) -> Any:
    def run() -> None:
        imported = import_run_due()
        if imported:
            logger.info("ran %d bulk imports", imported)

    return run
