import logging
from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)


class IntegrationsConfig(AppConfig):
    name = "hotline.integrations"
    label = "integrations"
    verbose_name = _("接口与外部系统")

    def ready(self) -> None:
        from hotline.cases.events import case_transitioned
        from hotline.common.registry import PeriodicJob, register_job

        from .delivery import deliver_due
        from .webhooks import on_case_transitioned

        case_transitioned.connect(on_case_transitioned, dispatch_uid="integrations-webhooks")

        from hotline.common.registry import MenuEntry, register_menu_entry, register_permissions

        from .permissions import PERMISSIONS

        register_permissions(*PERMISSIONS)
        register_menu_entry(
            MenuEntry(
                "integrations.partners",
                _("接入系统"),
                "integ-partners",
                890,
                "integrations.manage",
                active_prefix="integ-",
            )
        )
        register_job(
            PeriodicJob(
                "integrations-deliver", _logged(deliver_due), "hotline.integrations.tasks.deliver_task", 5.0
            )
        )


def _logged(deliver_due: Any) -> Any:
    def run() -> None:
        sent = deliver_due()
        if sent:
            logger.info("pushed %d case events to partners", sent)

    return run
