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
        _cache_wide_statements()


# psycopg merges parameters into the statement on the client (Django's default binding) and caches each
# statement's parsed form, but only for statements of at most 50 parameters: the case insert (52 columns, the
# hottest write, issue 12) was parsed again on every intake. 64 covers it; the cache stays bounded (LRU, 128).
WIDE_STATEMENT_PARAMS = 64


def _cache_wide_statements() -> None:
    try:
        from psycopg import _queries
    except ImportError:  # SQLite-only installs
        return
    if getattr(_queries, "MAX_CACHED_STATEMENT_PARAMS", WIDE_STATEMENT_PARAMS) < WIDE_STATEMENT_PARAMS:
        _queries.MAX_CACHED_STATEMENT_PARAMS = WIDE_STATEMENT_PARAMS
