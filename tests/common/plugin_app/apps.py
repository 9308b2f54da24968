from __future__ import annotations

from typing import Any

from django.apps import AppConfig


def _is_dispatcher(user: Any) -> bool:
    return user.has_role("dispatcher")


def _panel(request: Any, user: Any) -> dict[str, Any] | None:
    waiting = request.GET.get("plugin_waiting", "3")
    return {"waiting": waiting} if waiting != "0" else None  # None: nothing to show, no panel


class PluginAppConfig(AppConfig):
    name = "tests.common.plugin_app"
    label = "plugin_app"

    def ready(self) -> None:
        from hotline.common.registry import (
            HomePanel,
            MenuEntry,
            Permission,
            register_home_panel,
            register_menu_entry,
            register_permissions,
        )

        register_permissions(Permission("plugin_app.dispatch_desk", _is_dispatcher, "not a dispatcher"))
        register_menu_entry(
            MenuEntry(
                "plugin_app", "派单规则", "plugin-rules", 45, "plugin_app.dispatch_desk", testid="nav-plugin"
            )
        )
        register_home_panel(
            HomePanel("plugin_app.waiting", 50, "plugin_app/panel.html", _panel, "plugin_app.dispatch_desk")
        )
