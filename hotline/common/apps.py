from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommonConfig(AppConfig):
    name = "hotline.common"
    label = "common"
    verbose_name = _("公共")

    def ready(self) -> None:
        from .permissions import PERMISSIONS
        from .registry import MenuEntry, register_menu_entry, register_permissions

        register_permissions(*PERMISSIONS)
        # The shell's entries: the home page first, the admin site last (packages take the orders between).
        register_menu_entry(MenuEntry("home", _("工作台"), "home", 10))
        register_menu_entry(MenuEntry("admin", _("系统管理"), "admin:index", 900, "common.admin_site"))
