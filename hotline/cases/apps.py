from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "hotline.cases"
    label = "cases"
    verbose_name = _("工单")

    def ready(self) -> None:
        from hotline.orgs.impact import register_open_work

        from .unit_impact import open_assignments

        register_open_work(open_assignments)

        # Duplicate screening indexes every request when it is registered or rewritten, in the transaction
        # that writes its timeline event (screening at the next intake must already see it).
        from .duplicates import on_case_event
        from .models import CaseEvent

        post_save.connect(on_case_event, sender=CaseEvent, dispatch_uid="duplicates-index")
