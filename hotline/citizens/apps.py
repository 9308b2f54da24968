from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class CitizensConfig(AppConfig):
    name = "hotline.citizens"
    label = "citizens"
    verbose_name = _("市民")

    def ready(self) -> None:
        # Duplicate screening indexes every request when it is registered or rewritten (its timeline event is
        # written in the same transaction). Connected here because cases/apps.py has no ready() of its own yet.
        from hotline.cases.duplicates import on_case_event
        from hotline.cases.models import CaseEvent

        post_save.connect(on_case_event, sender=CaseEvent, dispatch_uid="duplicates-index")
