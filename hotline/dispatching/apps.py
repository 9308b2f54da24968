from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DispatchingConfig(AppConfig):
    name = "hotline.dispatching"
    label = "dispatching"
    verbose_name = _("智能派单")

    def ready(self) -> None:
        from hotline.cases import advice
        from hotline.cases.events import connect_queued
        from hotline.common import registry

        from . import events, selectors, services

        # Off the request (a model prediction may take tens of ms): the case-events job runs it after commit.
        connect_queued(
            events.on_case_event,
            dispatch_uid="dispatching",
            wants=events.wants,
            around=selectors.reads_shared,
        )
        advice.register_dispatch_advisor(services.stored_advice)
        registry.register_job(
            registry.PeriodicJob(
                "dispatching-retrain",
                services.scheduled_training,
                "hotline.dispatching.tasks.retrain_task",
                24 * 3600.0,
            )
        )
        # Cases whose flow template dispatches "automatic scheduled" are sent at the office's times: the job looks
        # every minute whether one of them has come.
        registry.register_job(
            registry.PeriodicJob(
                "dispatching-scheduled",
                services.scheduled_dispatch_run,
                "hotline.dispatching.tasks.scheduled_dispatch_task",
                60.0,
            )
        )
        registry.register_warm_up("dispatch_model", services.warm_up)
        # The permission and menu registries arrive with the `seams` branch (issue 12): register once they exist.
        permission = getattr(registry, "Permission", None)
        register_permissions = getattr(registry, "register_permissions", None)
        menu_entry = getattr(registry, "MenuEntry", None)
        register_menu_entry = getattr(registry, "register_menu_entry", None)
        if permission is not None and register_permissions is not None:
            from .permissions import may_manage

            register_permissions(
                permission(
                    "dispatching.manage", may_manage, _("只有热线办派单员或系统管理员可以维护派单目录")
                )
            )
        if menu_entry is not None and register_menu_entry is not None:
            register_menu_entry(
                menu_entry(
                    key="dispatching",
                    label=_("派单目录"),
                    url_name="dispatching:catalogue",
                    order=65,
                    permission="dispatching.manage" if permission is not None else None,
                    active_prefix="dispatching:",
                )
            )
