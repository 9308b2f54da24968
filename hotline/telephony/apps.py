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
