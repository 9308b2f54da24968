"""Every text the platform sends a citizen, in one place: the message templates of the citizen channels (SMS and
e-mail receipts and codes, WeChat conversation replies, online-chat lines, the mailbox answer) and the citizen
texts of the phone intake (受理回执, 答复告知, 并单告知, 查询密码重置验证码). Staff edit them on one screen
(市民渠道 → 市民文案); each has its shipped default (restorable), and an edit may use only the placeholders its
default uses, must keep the essential ones (a receipt without {number} would tell the citizen nothing), and may
not put a secret ({password}, {code}) in the subject, which the outbox stores unsealed.

`text(code, context)` renders a conversation text from an in-process cache (refreshed on save, within a minute in
other processes), falling back to the default when the office has switched the template off or it is missing:
a WeChat follower always gets an answer.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hotline.common.audit import audit_record
from hotline.common.errors import NotAllowed, ServiceError
from hotline.common.refcache import RefCache
from hotline.notify import defaults as notify_defaults
from hotline.notify.models import MessageTemplate
from hotline.orgs.models import Role

from . import defaults

NOTIFY_CITIZEN_CODES = ("citizen_received", "citizen_answered", "co_requester_merged", "query_password_code")
SECRETS = frozenset({"password", "code"})
OPTIONAL = frozenset(
    {"minutes", "reply", "agent", "rating", "subject", "password_note", "min", "type", "count"}
)
MAX_BODY = 2000
GROUPS = [
    ("sms", gettext_lazy("短信与网站/APP回执")),
    ("wechat", gettext_lazy("微信公众号")),
    ("chat", gettext_lazy("在线客服")),
    ("email", gettext_lazy("电子邮件")),
    ("phone", gettext_lazy("电话受理与查询密码")),
]
EDIT_ROLES = (Role.ADMIN, Role.MONITOR)
TEMPLATES: RefCache[MessageTemplate] = RefCache(MessageTemplate)


@dataclass(frozen=True)
class Default:
    code: str
    name: str
    subject: str
    body: str
    group: str

    @property
    def placeholders(self) -> frozenset[str]:
        return placeholders(self.subject) | placeholders(self.body)

    @property
    def required(self) -> frozenset[str]:
        return placeholders(self.body) - OPTIONAL


def _group(code: str) -> str:
    if code.startswith("wechat_"):
        return "wechat"
    if code.startswith("chat_"):
        return "chat"
    if code == "channel_mail_answer":
        return "email"
    if code.startswith("channel_"):
        return "sms"
    return "phone"


def _defaults() -> dict[str, Default]:
    rows = list(defaults.TEMPLATES) + [t for t in notify_defaults.TEMPLATES if t[0] in NOTIFY_CITIZEN_CODES]
    return {code: Default(code, name, subject, body, _group(code)) for code, name, subject, body in rows}


DEFAULTS = _defaults()


def placeholders(text: str) -> frozenset[str]:
    """The {names} in a template; ValueError for unbalanced braces or positional / indexed fields."""
    names = set()
    for _literal, field, _spec, _conv in string.Formatter().parse(text):
        if field is None:
            continue
        if not field.isidentifier():
            raise ValueError(field)
        names.add(field)
    return frozenset(names)


def may_edit_texts(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_role(*EDIT_ROLES))


def text(code: str, context: dict[str, Any] | None = None) -> str:
    """A conversation text: the office's version if active, else the default; unknown placeholders stay visible."""
    row = TEMPLATES.get_by(code=code)
    body = row.body if row is not None and row.is_active else DEFAULTS[code].body
    values = {**{name: "" for name in OPTIONAL}, **(context or {})}
    try:
        return body.format_map(_Keep(values))
    except (ValueError, IndexError, KeyError):  # saved before validation existed: the default is safe
        return DEFAULTS[code].body.format_map(_Keep(values))


class _Keep(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def validate(code: str, *, subject: str, body: str) -> dict[str, list[str]]:
    """Field errors of an edit (empty: fine)."""
    default = DEFAULTS[code]
    errors: dict[str, list[str]] = {}
    allowed = "、".join("{" + p + "}" for p in sorted(default.placeholders)) or _("无")
    for name, value, limit in (("subject", subject, 200), ("body", body, MAX_BODY)):
        if not value.strip():
            errors.setdefault(name, []).append(_("不能为空"))
            continue
        if len(value) > limit:
            errors.setdefault(name, []).append(_("最多%(n)s字") % {"n": limit})
        try:
            used = placeholders(value)
        except ValueError:
            errors.setdefault(name, []).append(_("花括号不成对或占位符写法不正确（例如 {number}）"))
            continue
        if unknown := used - default.placeholders:
            errors.setdefault(name, []).append(
                _("不能使用占位符%(bad)s；可用：%(allowed)s")
                % {"bad": "、".join("{" + p + "}" for p in sorted(unknown)), "allowed": allowed}
            )
        if name == "subject" and used & SECRETS:
            errors.setdefault(name, []).append(_("标题不能包含验证码或查询密码（标题不加密保存）"))
        if name == "body" and (missing := default.required - used):
            errors.setdefault(name, []).append(
                _("必须保留占位符%(names)s") % {"names": "、".join("{" + p + "}" for p in sorted(missing))}
            )
    return errors


@dataclass
class Row:
    default: Default
    template: MessageTemplate | None

    @property
    def changed(self) -> bool:
        t = self.template
        return t is not None and (t.subject, t.body) != (self.default.subject, self.default.body)


def rows() -> list[tuple[str, Any, list[Row]]]:
    """The screen's groups, each with its texts (current row, default)."""
    current = {t.code: t for t in MessageTemplate.objects.filter(code__in=list(DEFAULTS))}
    grouped: list[tuple[str, Any, list[Row]]] = []
    for key, label in GROUPS:
        items = [Row(d, current.get(d.code)) for d in DEFAULTS.values() if d.group == key]
        grouped.append((key, label, sorted(items, key=lambda r: r.default.code)))
    return grouped


def text_save(*, actor: Any, code: str, subject: str, body: str, is_active: bool = True) -> MessageTemplate:
    if not may_edit_texts(actor):
        raise NotAllowed(_("只有系统管理员和班长可以修改市民文案"))
    if code not in DEFAULTS:
        raise ServiceError(_("没有这条文案"), code="not_found")
    subject, body = subject.strip(), body.strip()
    if errors := validate(code, subject=subject, body=body):
        raise ServiceError(_("文案有误，请按提示修改"), field_errors=errors)
    default = DEFAULTS[code]
    with transaction.atomic():
        template, _created = MessageTemplate.objects.select_for_update().get_or_create(
            code=code, defaults={"name": default.name, "subject": subject, "body": body}
        )
        before = {"subject": template.subject, "body": template.body, "is_active": template.is_active}
        template.subject, template.body, template.is_active = subject, body, is_active
        template.save()  # post_save refreshes the conversation texts' cache
        after = {"subject": subject, "body": body, "is_active": is_active}
        audit_record(
            actor=actor,
            action="citizen_text",
            obj=template,
            summary=default.name,
            changes={k: [before[k], after[k]] for k in after if before[k] != after[k]},
        )
    return template


def text_reset(*, actor: Any, code: str) -> MessageTemplate:
    default = DEFAULTS.get(code)
    if default is None:
        raise ServiceError(_("没有这条文案"), code="not_found")
    return text_save(actor=actor, code=code, subject=default.subject, body=default.body)


def seed_missing() -> int:
    """Create the rows of texts that have none (after a flush in tests, or a text added in a release)."""
    existing = set(MessageTemplate.objects.filter(code__in=list(DEFAULTS)).values_list("code", flat=True))
    missing = [
        MessageTemplate(code=d.code, name=d.name, subject=d.subject, body=d.body)
        for d in DEFAULTS.values()
        if d.code not in existing
    ]
    MessageTemplate.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)
