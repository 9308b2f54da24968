import logging
from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)


class NotifyConfig(AppConfig):
    name = "hotline.notify"
    label = "notify"
    verbose_name = _("消息通知")

    def ready(self) -> None:
        from hotline.common.registry import PeriodicJob, register_job, register_listener

        from .services import deliver_due, listen_for_delivery

        register_job(
            PeriodicJob(
                "notify-deliver", _logged_delivery(deliver_due), "hotline.notify.tasks.deliver_task", 5.0
            )
        )
        # Right after commit: the rows queue_messages hands over (the job above stays the backstop and retries).
        register_listener("notify-deliver-now", listen_for_delivery)


def _logged_delivery(deliver_due: Any) -> Any:
    def run() -> None:
        sent = deliver_due()
        if sent:
            logger.info("delivered %d messages", sent)

    return run
