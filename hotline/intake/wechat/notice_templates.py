"""WeChat template messages (模板消息) for the notices a follower gets (WX-1: progress notices).

The office picks a template in the official account's back office (e.g. 工单处理进度通知 with fields first,
keyword1…, remark) and tells the platform its template id and which text fills each field, using the notice's
{placeholders}: `keyword1={number}`, `keyword2={stage}`. While a notice has an active template it is sent through
POST /cgi-bin/message/template/send (client.send_template); without one it stays a customer-service text
(the `wechat_progress` citizen text). Every send is recorded with WeChat's answer: a token error is retried once
with a fresh token by the client; 43004 (the follower unsubscribed) is recorded as such and not retried.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hotline.common import clock
from hotline.common.audit import audit_record
from hotline.common.errors import NotAllowed, ServiceError

from .. import texts
from ..models import (
    WeChatAccount,
    WeChatNoticeTemplate,
    WeChatTemplateDelivery,
    WeChatTemplateSend,
    WeChatTemplateSendStatus,
)

# The notices that may go as template messages, with the placeholders each offers.
NOTICES = {
    "wechat_progress": (gettext_lazy("办理进度通知"), ("number", "stage", "reply", "title", "type", "time")),
}
KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
TEMPLATE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
LINE_RE = re.compile(r"^\s*([^=＝:：\s]+)\s*[=＝:：]\s*(.*?)\s*$")
MAX_FIELDS = 12
MAX_VALUE = 200
# WeChat's limits for the newer field kinds (thing: 20 characters, phrase: 5, character_string / number: 32).
KIND_LIMITS = (("thing", 20), ("phrase", 5), ("character_string", 32), ("number", 32), ("letter", 32))


def parse_fields(value: str) -> list[list[str]]:
    """`key=text` lines → [[key, text], …] (order kept, a key once)."""
    pairs: list[list[str]] = []
    for line in (value or "").splitlines():
        if not line.strip():
            continue
        match = LINE_RE.match(line)
        if match is None:
            raise ServiceError(
                _("每行写一个字段：字段名=内容"), field_errors={"fields": [_("每行写一个字段：字段名=内容")]}
            )
        pairs.append([match[1], match[2]])
    return pairs


def validate(code: str, *, template_id: str, fields: list[list[str]], url: str) -> dict[str, list[str]]:
    _name, allowed = NOTICES[code]
    errors: dict[str, list[str]] = {}
    if not TEMPLATE_ID_RE.match(template_id):
        errors["template_id"] = [_("模板ID由字母、数字、下划线或短横线组成（最多64位）")]
    problems: list[str] = []
    if not fields:
        problems.append(_("至少填写一个字段"))
    if len(fields) > MAX_FIELDS:
        problems.append(_("最多%(n)s个字段") % {"n": MAX_FIELDS})
    seen: set[str] = set()
    allowed_text = "、".join("{" + p + "}" for p in allowed)
    for key, value in fields:
        if not KEY_RE.match(key):
            problems.append(_("字段名%(key)s无效（如 first、keyword1、thing2、remark）") % {"key": key[:40]})
        elif key in seen:
            problems.append(_("字段%(key)s重复") % {"key": key})
        seen.add(key)
        if not value or len(value) > MAX_VALUE:
            problems.append(_("字段%(key)s的内容不能为空，最多%(n)s字") % {"key": key[:40], "n": MAX_VALUE})
            continue
        try:
            used = texts.placeholders(value)
        except ValueError:
            problems.append(_("字段%(key)s：花括号不成对或占位符写法不正确") % {"key": key[:40]})
            continue
        if unknown := used - set(allowed):
            problems.append(
                _("字段%(key)s不能使用%(bad)s；可用：%(allowed)s")
                % {
                    "key": key[:40],
                    "bad": "、".join("{" + p + "}" for p in sorted(unknown)),
                    "allowed": allowed_text,
                }
            )
    if problems:
        errors["fields"] = problems
    if url and not re.match(r"^https?://[^\s]{1,290}$", url):
        errors["url"] = [_("跳转链接须以 http:// 或 https:// 开头")]
    return errors


def notice_template_save(
    *, actor: Any, code: str, template_id: str, fields: str, url: str = "", is_active: bool = True
) -> WeChatNoticeTemplate:
    """Set (or change) the template message a notice goes as; audited like the citizen texts."""
    if not texts.may_edit_texts(actor):
        raise NotAllowed(_("只有系统管理员和班长可以修改市民文案"))
    if code not in NOTICES:
        raise ServiceError(_("没有这条文案"), code="not_found")
    template_id, url = (template_id or "").strip(), (url or "").strip()
    pairs = parse_fields(fields)
    if errors := validate(code, template_id=template_id, fields=pairs, url=url):
        raise ServiceError(_("模板消息设置有误，请按提示修改"), field_errors=errors)
    with transaction.atomic():
        row = WeChatNoticeTemplate.objects.select_for_update().filter(code=code).first()
        before = (
            {"template_id": row.template_id, "fields": row.fields, "url": row.url, "is_active": row.is_active}
            if row
            else {}
        )
        row = row or WeChatNoticeTemplate(code=code)
        row.template_id, row.fields, row.url, row.is_active = template_id, pairs, url, is_active
        row.save()
        after = {"template_id": template_id, "fields": pairs, "url": url, "is_active": is_active}
        audit_record(
            actor=actor,
            action="wechat_template",
            obj=row,
            summary=str(NOTICES[code][0]),
            changes={k: [before.get(k), v] for k, v in after.items() if before.get(k) != v},
        )
    return row


def fields_text(row: WeChatNoticeTemplate | None) -> str:
    return "\n".join(f"{k}={v}" for k, v in (row.fields if row else []))


def active_template(code: str) -> WeChatNoticeTemplate | None:
    return WeChatNoticeTemplate.objects.filter(code=code, is_active=True).first()


def _cut(key: str, value: str) -> str:
    for prefix, limit in KIND_LIMITS:
        if key.startswith(prefix):
            return value[:limit]
    return value[:MAX_VALUE]


class _Keep(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(text: str, code: str, context: dict[str, Any]) -> str:
    try:
        return text.format_map(_Keep({**{name: "" for name in NOTICES[code][1]}, **context}))
    except (ValueError, IndexError):
        return text


def render_data(row: WeChatNoticeTemplate, context: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {key: {"value": _cut(key, _fill(value, row.code, context))} for key, value in row.fields}


def send(
    *,
    account: WeChatAccount,
    row: WeChatNoticeTemplate,
    open_id: str,
    context: dict[str, Any],
    case: Any = None,
) -> WeChatTemplateSend:
    """Send the notice as the template message `row` and record WeChat's answer (never raises for WeChat's
    refusals: the record says what happened)."""
    from .client import UNSUBSCRIBED, WeChatApiError, send_template

    context = {"time": timezone.localtime(clock.now()).strftime("%Y-%m-%d %H:%M"), **context}
    data = render_data(row, context)
    url = _fill(row.url, row.code, context) if row.url else ""
    record = WeChatTemplateSend(
        account=account,
        code=row.code,
        template_id=row.template_id,
        open_id=open_id[:64],
        case=case,
        data=data,
    )
    try:
        record.msg_id, record.attempts = send_template(
            account, open_id=open_id, template_id=row.template_id, data=data, url=url
        )
        record.status = WeChatTemplateSendStatus.SENT
    except WeChatApiError as exc:
        record.status = (
            WeChatTemplateSendStatus.UNSUBSCRIBED
            if exc.code == UNSUBSCRIBED
            else WeChatTemplateSendStatus.FAILED
        )
        record.errcode, record.errmsg, record.attempts = exc.code, exc.message[:200], exc.attempts
    record.at = clock.now()
    record.save()
    return record


def recent_sends(limit: int = 20) -> list[WeChatTemplateSend]:
    return list(WeChatTemplateSend.objects.select_related("case").order_by("-at", "-id")[:limit])


def delivery_of(status: str) -> str:
    """WeChat's Status text → our delivery result: "success", "failed:user block" (the follower refuses the
    account's template messages), anything else "failed…" ("failed: system failed")."""
    plain = "".join(status.split()).lower()
    if plain == "success":
        return WeChatTemplateDelivery.DELIVERED
    if plain.startswith("failed:userblock"):
        return WeChatTemplateDelivery.BLOCKED
    return WeChatTemplateDelivery.FAILED


def template_delivery_record(*, account: WeChatAccount, open_id: str, msg_id: str, status: str) -> int:
    """WeChat's TEMPLATESENDJOBFINISH push: the result is recorded on the send whose msgid (and follower) it
    names. Idempotent: the first report counts, a repeated push changes nothing. Returns the rows updated (0 for
    an unknown msgid or a repeat)."""
    msg_id, status = msg_id.strip()[:32], status.strip()[:64]
    if not msg_id or not status:
        return 0
    return WeChatTemplateSend.objects.filter(
        account=account, msg_id=msg_id, open_id=open_id[:64], delivery_reported_at__isnull=True
    ).update(delivery=delivery_of(status), delivery_status=status, delivery_reported_at=clock.now())
