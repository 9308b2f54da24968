import logging
from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)


class IntakeConfig(AppConfig):
    name = "hotline.intake"
    label = "intake"
    verbose_name = _("市民渠道")

    def ready(self) -> None:
        from hotline.cases.advice import register_dispatch_advisor
        from hotline.cases.events import case_transitioned
        from hotline.common.registry import (
            CasePanel,
            MenuEntry,
            PeriodicJob,
            Permission,
            register_case_panel,
            register_job,
            register_menu_entry,
            register_permissions,
        )

        from .case_panel import mail_answer_panel_context
        from .chat import may_view_queue
        from .mail import poll_configured_mailbox
        from .sms.outbound import extension_advice
        from .sms.outbound import may_send as may_send_sms

        register_permissions(Permission("intake.chat", may_view_queue, _("只有话务员和班长可以使用在线客服")))
        register_menu_entry(
            MenuEntry(
                "intake.chat",
                _("在线客服"),
                "intake-chat",
                25,
                "intake.chat",
                active_prefix="intake-chat",
                testid="nav-chat",
            )
        )
        register_permissions(Permission("intake.sms", may_send_sms, _("您无权使用短信平台")))
        register_dispatch_advisor(extension_advice)
        register_menu_entry(
            MenuEntry(
                "intake.sms",
                _("市民渠道"),
                "intake-sms",
                27,
                "intake.sms",
                active=(
                    "intake-sms",
                    "intake-sms-settings",
                    "intake-sms-summary",
                    "intake-sms-groups",
                    "intake-sms-group",
                    "intake-sms-group-send",
                    "intake-texts",
                ),
                testid="nav-channels",
            )
        )
        register_case_panel(
            CasePanel(
                key="intake-mail-answer",
                order=30,
                template="intake/_case_mail_answer_slot.html",
                context=mail_answer_panel_context,
            )
        )
        case_transitioned.connect(on_case_transitioned, dispatch_uid="intake-channel-clocks")
        register_job(
            PeriodicJob(
                "intake-mailbox",
                _logged_poll(poll_configured_mailbox),
                "hotline.intake.tasks.poll_mailbox_task",
                60.0,
            )
        )


def on_case_transitioned(sender: Any, *, case: Any, from_status: str, to_status: str, **kwargs: Any) -> None:
    """A citizen request leaving the agents' queue stops its channel clock; an SMS request reaching its callback
    gets the callback SMS (the citizen rates it by replying 1–5)."""
    from hotline.cases.models import CaseStatus, Channel
    from hotline.common.errors import ServiceError

    from . import mail_answers, services

    if from_status == CaseStatus.DRAFT and to_status != CaseStatus.DRAFT:
        services.channel_first_reply(case=case)
    if case.channel == Channel.WECHAT:  # the follower is told of each new stage, after commit
        from .wechat import progress

        progress.on_transition(case=case, from_status=from_status, to_status=to_status)
    if to_status == CaseStatus.CALLBACK and case.channel == Channel.SMS:
        services.callback_sms_send(case=case)
    if kwargs.get("action") == "archive" and case.answer and case.channel in mail_answers.MAIL_CHANNELS:
        try:  # the agent answered a mailbox request at once: the answer goes to the citizen by e-mail
            mail_answers.mail_answer_send(case=case, actor=kwargs.get("actor"), text=case.answer)
        except ServiceError as exc:
            logger.warning("case %s: no e-mail answer: %s", case.number, exc.message)


def _logged_poll(poll: Any) -> Any:
    def run() -> None:
        count = poll()
        if count:
            logger.info("mailbox: %d requests", count)

    return run
