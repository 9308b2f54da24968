from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "hotline.integrations"
    label = "integrations"
    verbose_name = _("接口与外部系统")
