from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "hotline.cases"
    label = "cases"
    verbose_name = _("工单")

    def ready(self) -> None:
        from hotline.orgs.impact import register_open_work

        from .unit_impact import open_assignments

        register_open_work(open_assignments)
