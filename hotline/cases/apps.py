from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "hotline.cases"
    label = "cases"
    verbose_name = _("工单")

    def ready(self) -> None:
        from hotline.orgs.impact import register_open_work

        from .unit_impact import open_assignments

        register_open_work(open_assignments)

        # Duplicate screening indexes every request when it is registered or rewritten: the case-events job does
        # it (off the request, a batch of cases in one statement; every second, or kicked after commit under
        # Celery), so the check sees a new request within the job's cadence. The write is idempotent.
        from .duplicates import on_case_events, wants_index
        from .events import connect_queued

        connect_queued(on_case_events, dispatch_uid="duplicates-index", many=True, wants=wants_index)

        from hotline.common.registry import PeriodicJob, register_choices, register_job, register_warm_up

        from .duplicates import index_prune, terms

        register_warm_up("jieba", lambda: terms("小区门口道路积水严重影响出行，物业不管"))
        from .lifecycle import Action
        from .models import CaseStatus

        register_choices("case_status", CaseStatus)

        from hotline.citizens import history

        from .citizen_rows import CaseSource, CitizenCaseRows

        history.register_case_rows(CitizenCaseRows())
        history.register(CaseSource())
        register_choices("case_action", Action)
        from .services import number_sequences_prune

        register_job(
            PeriodicJob(
                "case-number-sequences-prune",
                number_sequences_prune,
                "hotline.cases.tasks.prune_number_sequences_task",
                24 * 3600.0,
            )
        )
        from .events import run_queued

        # Receivers of case events that run off the request (dispatch suggestions, partner webhooks): every
        # second in the embedded worker; under Celery, beat every few seconds plus a kick after each commit.
        register_job(PeriodicJob("case-events", run_queued, "hotline.cases.tasks.case_events_task", 1.0))

        from .duplicates import embed_pending

        # Embeddings of requests registered or rewritten (marked after commit), a few seconds after intake.
        register_job(
            PeriodicJob("duplicates-embed", embed_pending, "hotline.cases.tasks.embed_pending_task", 2.0)
        )
        register_job(
            PeriodicJob(
                "duplicates-prune", index_prune, "hotline.cases.tasks.prune_duplicate_index_task", 24 * 3600.0
            )
        )

        from hotline.common.registry import (
            MenuEntry,
            register_home_panel,
            register_menu_entry,
            register_permissions,
        )

        from .home import PANELS
        from .permissions import PERMISSIONS

        register_permissions(*PERMISSIONS)
        for entry in (
            MenuEntry("cases.new", _("受理登记"), "case-new", 20, "cases.intake", accesskey="n"),
            MenuEntry("cases.search", _("工单查询"), "case-search", 30, accesskey="s"),
            MenuEntry("cases.board", _("在办看板"), "case-board", 40),
            MenuEntry("cases.clusters", _("热点聚类"), "case-clusters", 80, "cases.clusters"),
        ):
            register_menu_entry(entry)
        for panel in PANELS:
            register_home_panel(panel)
