from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BulletinsConfig(AppConfig):
    name = "hotline.bulletins"
    label = "bulletins"
    verbose_name = _("内部公告")

    def ready(self) -> None:
        from hotline.common.registry import MenuEntry, register_menu_entry

        register_menu_entry(
            MenuEntry(
                "bulletins.inbox",
                _("内部公告"),
                "bulletin-inbox",
                85,
                active_prefix="bulletin-",
                testid="nav-bulletins",
            )
        )
