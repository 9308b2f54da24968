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
                active=("analytics:measures",),
            )
        )
        # --- reports (issue 15, RPT-1 / STAT-2) ---
        register_menu_entry(
            MenuEntry(
                "analytics.reports",
                _("统计报表"),
                "analytics:reports",
                67,
                "analytics.view",
                active=("analytics:reports", "analytics:report-run", "analytics:report-save"),
            )
        )
        # --- assessment (issue 15, KPI-1..3) ---
        register_menu_entry(
            MenuEntry(
                "analytics.kpi",
                _("绩效考核"),
                "analytics:kpi",
                68,
                "analytics.view",
                active=("analytics:kpi", "analytics:kpi-period"),
            )
        )
        # --- scheduled reports (issue 15, RPT-1) ---
        from hotline.common.registry import PeriodicJob, register_job

        from .reports.schedules import run_due

        register_job(
            PeriodicJob(
                "analytics-scheduled-reports",
                run_due,
                "hotline.analytics.tasks.scheduled_reports_task",
                300.0,
            )
        )
        # --- the supervision page's figures (sla reads them through the registry) ---
        from hotline.common.registry import register_figures

        from . import supervision

        register_figures("supervision.card_ledger", supervision.card_ledger)
        register_figures("supervision.time_limits", supervision.time_limit_supervision)
        register_figures("supervision.formulas", supervision.formulas)
        for panel in PANELS:
            register_home_panel(panel)
        from .live import connect_receivers

        connect_receivers()
        # --- daily facts (issue 15, scale): every case event marks its case's day; the job recomputes it ---
        from hotline.cases.events import connect_queued
        from hotline.common.registry import PeriodicJob, register_job

        from .facts.build import mark_case_days, refresh

        connect_queued(mark_case_days, dispatch_uid="analytics-facts", many=True)
        register_job(PeriodicJob("analytics-facts", refresh, "hotline.analytics.tasks.facts_task", 5.0))
