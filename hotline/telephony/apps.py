from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelephonyConfig(AppConfig):
    name = "hotline.telephony"
    label = "telephony"
    verbose_name = _("呼叫中心")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from hotline.cases.models import CaseEvent

        from .services import on_case_event

        post_save.connect(on_case_event, sender=CaseEvent, dispatch_uid="telephony-call-case")

        from hotline.citizens import history

        from .history import CallSource

        history.register(CallSource())  # calls in the contact history (CIT-3) and the screen pop

        from hotline.common.registry import MenuEntry, register_menu_entry, register_permissions

        from .permissions import _registered

        register_permissions(*_registered())

        from hotline.common.registry import PeriodicJob, register_job

        from .services import recordings_expire

        register_job(
            PeriodicJob(
                "telephony-recordings-expire",
                recordings_expire,
                "hotline.telephony.tasks.recordings_expire_task",
                3600.0,
            )
        )
        register_menu_entry(
            MenuEntry(
                "telephony.monitor",
                _("班长监控"),
                "tel-monitor",
                88,
                "telephony.supervise",
                active=("tel-monitor", "tel-cdr"),
                testid="nav-tel-monitor",
            )
        )
        register_menu_entry(
            MenuEntry(
                "telephony.ivr",
                _("语音导航"),
                "tel-ivr-list",
                880,
                "telephony.ivr",
                active=("tel-ivr-list", "tel-ivr-edit"),
                testid="nav-tel-ivr",
            )
        )
