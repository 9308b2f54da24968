from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "hotline.sla"
    label = "sla"
    verbose_name = _("时限与督办")

    def ready(self) -> None:
        from . import checks, signals  # noqa: F401 - registers the calendar check and cache invalidation
