from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "hotline.analytics"
    label = "analytics"
    verbose_name = _("运行指标")

    def ready(self) -> None:
        from hotline.common.registry import (
            MenuEntry,
            register_home_panel,
            register_menu_entry,
            register_permissions,
        )

        from .home import PANELS
        from .permissions import PERMISSIONS

        register_permissions(*PERMISSIONS)
        register_menu_entry(
            MenuEntry(
                "analytics",
                _("运行指标"),
                "analytics:measures",
                66,
                "analytics.view",
                active_prefix="analytics:",
            )
        )
        for panel in PANELS:
            register_home_panel(panel)
        from .live import connect_receivers

        connect_receivers()
