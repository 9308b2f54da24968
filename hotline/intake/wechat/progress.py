"""Progress notices to a WeChat follower: when their request moves to another stage (受理登记 → 审核派单 → 单位签收 →
单位办理 → 结果审核 → 回访评价 → 办结), the follower who made it gets the text of the `wechat_progress` template
through the customer-service message API (the office edits it with the other citizen texts) — or, when the office
has set one, as a template message (模板消息, notice_templates), recorded with WeChat's answer.

Subscribed to `case_transitioned` (intake's apps.py); sent only after the transition commits (a Celery task when a
broker is configured, else right after commit). A notice that fails (the account not configured, WeChat
refusing — e.g. the follower silent for more than 48 hours) is logged; the case is not affected.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction

from hotline.cases import lifecycle
from hotline.cases.models import Case, CaseStatus, Channel
from hotline.notify.services import TemplateMissing, render

from .. import citizen
from ..models import WeChatAccount
from . import notice_templates

logger = logging.getLogger(__name__)
TEMPLATE = "wechat_progress"
REPLY_STATUSES = {CaseStatus.CALLBACK, CaseStatus.CLOSED}


def on_transition(*, case: Any, from_status: str, to_status: str) -> None:
    """Queue a notice when a WeChat request changes stage (not for the draft staying a draft)."""
    if case.channel != Channel.WECHAT or not (case.origin or {}).get("requester_id"):
        return
    before = lifecycle.STAGE_OF_STATUS.get(from_status, 0)
    after = lifecycle.STAGE_OF_STATUS.get(to_status, 0)
    if to_status not in (CaseStatus.NOT_ACCEPTED, CaseStatus.MERGED) and before == after:
        return
    stage = _stage_text(to_status)
    if settings.CELERY_BROKER_URL:
        from ..tasks import wechat_progress_task

        transaction.on_commit(lambda: wechat_progress_task.delay(case.pk, stage))
    else:
        transaction.on_commit(lambda: send_progress(case.pk, stage))


def _stage_text(status: str) -> str:
    if status == CaseStatus.NOT_ACCEPTED:
        return "不予受理"
    if status == CaseStatus.MERGED:
        return "已与同一事项合并办理"
    return lifecycle.STAGES[lifecycle.STAGE_OF_STATUS.get(status, 0)]


def progress_text(case: Case, stage: str) -> str:
    reply = citizen.case_reply(case) if case.status in REPLY_STATUSES else ""
    context = {"number": case.number, "stage": stage, "reply": f"办理结果：{reply}" if reply else ""}
    return render(TEMPLATE, context)[1].strip()


def send_progress(case_pk: int, stage: str) -> bool:
    from .client import WeChatApiError, send_text

    case = Case.objects.filter(pk=case_pk).first()
    if case is None:
        return False
    origin = case.origin or {}
    account = WeChatAccount.objects.filter(app_id=origin.get("requester_account", ""), is_active=True).first()
    if account is None:
        logger.warning("case %s: no WeChat account for the progress notice", case.number)
        return False
    open_id = str(origin.get("requester_id", ""))
    if (template := notice_templates.active_template(TEMPLATE)) is not None:
        reply = citizen.case_reply(case) if case.status in REPLY_STATUSES else ""
        context = {
            "number": case.number,
            "stage": stage,
            "reply": reply,
            "title": case.title,
            "type": case.case_type.name if case.case_type_id else "",
        }
        record = notice_templates.send(
            account=account, row=template, open_id=open_id, context=context, case=case
        )
        if record.status != "sent":
            logger.warning(
                "case %s: WeChat template notice %s: %s", case.number, record.status, record.errcode
            )
        return record.status == "sent"
    try:
        text = progress_text(case, stage)
        send_text(account, open_id=open_id, text=text)
    except TemplateMissing:
        return False  # switched off by the office
    except WeChatApiError as exc:
        logger.warning("case %s: WeChat progress notice not sent: %s", case.number, exc)
        return False
    return True
