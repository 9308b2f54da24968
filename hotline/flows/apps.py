from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FlowsConfig(AppConfig):
    name = "hotline.flows"
    label = "flows"
    verbose_name = _("流程模板")

    def ready(self) -> None:
        from hotline.cases import flowhooks
        from hotline.common import registry

        from . import permissions, services, views

        flowhooks.register_flow_hook(services.FlowHook())
        registry.register_permissions(
            registry.Permission("flows.manage", permissions.may_manage, permissions.REFUSAL)
        )
        registry.register_menu_entry(
            registry.MenuEntry(
                key="flows",
                label=_("流程模板"),
                url_name="flows:list",
                order=69,
                permission="flows.manage",
                active_prefix="flows:",
            )
        )
        registry.register_case_panel(
            registry.CasePanel(
                key="flows-position",
                order=10,
                template="flows/_case_position.html",
                context=views.case_position_context,
            )
        )
