"""INT-6: the citizen resets a forgotten query password with a code sent to the phone or e-mail given at intake.

The code goes out through the outbox (SMS to a mobile number, else e-mail); only its hash is stored. Staff may ask
for a code to be sent to the citizen, but never see the code or the new password: those reach the citizen alone.

Limits: a code lives 15 minutes and dies after 5 wrong tries (lockout); a case gets at most one code a minute and 5
a day, so at most 25 guesses a day reach a 6-digit code. Whether a number and contact match is not revealed to an
anonymous caller (the same answer either way); the endpoints are also throttled per address.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from hotline.common import clock, crypto
from hotline.common.errors import ServiceError
from hotline.common.validators import MOBILE_RE, normalize_phone
from hotline.orgs.models import User

from .. import lifecycle
from ..lifecycle import Action
from ..models import Case, QueryPasswordReset
from .core import _event, new_query_password

TEMPLATE = "query_password_code"
CODE_LIFETIME = dt.timedelta(minutes=15)
MAX_ATTEMPTS = 5
MIN_INTERVAL = dt.timedelta(seconds=60)
MAX_PER_DAY = 5


@dataclass
class CodeSent:
    """Where a code went (masked), or nothing when the request did not match a case or was over its limit."""

    channel: str = ""
    masked_address: str = ""


def _contact_of(case: Case, contact: str) -> tuple[str, str] | None:
    """(channel, address) when `contact` is the mobile number or e-mail given at intake."""
    contact = contact.strip()
    if not contact:
        return None
    if "@" in contact:
        if case.citizen_email and contact.lower() == case.citizen_email.strip().lower():
            return "email", case.citizen_email.strip()
        return None
    phone = normalize_phone(contact)
    if phone and phone == case.citizen_phone and MOBILE_RE.match(phone):
        return "sms", phone
    return None


def _default_contact(case: Case) -> tuple[str, str] | None:
    if case.citizen_phone and MOBILE_RE.match(case.citizen_phone):
        return "sms", case.citizen_phone
    if case.citizen_email:
        return "email", case.citizen_email.strip()
    return None


def _mask(channel: str, address: str) -> str:
    if channel == "sms":
        return crypto.mask_phone(address)
    name, _at, domain = address.partition("@")
    return f"{name[:1]}***@{domain}"


def _over_limit(case: Case, now: dt.datetime) -> str:
    recent = list(
        QueryPasswordReset.objects.filter(case=case, created_at__gte=now - dt.timedelta(days=1))
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:MAX_PER_DAY]
    )
    if recent and now - recent[0] < MIN_INTERVAL:
        return _("验证码发送过于频繁，请1分钟后再试")
    if len(recent) >= MAX_PER_DAY:
        return _("今日验证码发送次数已达上限，请明天再试或拨打12345")
    return ""


def _send(case: Case, *, channel: str, address: str, actor: User | None) -> CodeSent:
    from hotline.notify.services import TemplateMissing, build_address_message, queue_messages

    now = clock.now()
    code = f"{secrets.randbelow(1_000_000):06d}"
    try:
        message = build_address_message(
            channel=channel,
            address=address,
            template=TEMPLATE,
            context={
                "number": case.number,
                "code": code,
                "minutes": int(CODE_LIFETIME.total_seconds() // 60),
            },
            secrets=("code",),  # the outbox staff can read shows ******; only delivery reads the code
        )
    except TemplateMissing as exc:
        raise ServiceError(
            "验证码消息模板未启用，暂时无法发送，请拨打12345", code="template_missing"
        ) from exc
    message.next_attempt_at = now  # the citizen is waiting for it: not held back by the SMS quiet hours
    masked = _mask(channel, address)
    with transaction.atomic():
        # Only the newest code counts: earlier ones die when a new one is sent.
        QueryPasswordReset.objects.filter(case=case, used_at__isnull=True, expires_at__gt=now).update(
            expires_at=now
        )
        QueryPasswordReset.objects.create(
            case=case,
            channel=channel,
            code_hash=crypto.hash_code(code),
            requested_by=actor,
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
        queue_messages([message])
        _event(
            case,
            actor=actor,
            action=Action.RESET_PASSWORD,
            from_status=case.status,
            opinion=f"已向来电人发送查询密码重置验证码（{masked}）",
            data={"step": "code_sent", "channel": channel},
        )
    return CodeSent(channel=channel, masked_address=masked)


def query_password_code_request(*, number: str, contact: str) -> CodeSent:
    """The citizen asks for a reset code for case `number`, giving the phone or e-mail they gave at intake.

    A request that matches no non-public case, or goes over the case's limits, sends nothing and answers the same
    empty CodeSent, so the answer tells a stranger nothing."""
    number, contact = (number or "").strip(), (contact or "").strip()
    errors = {}
    if not number:
        errors["number"] = [_("请填写工单编号")]
    if not contact:
        errors["contact"] = [_("请填写受理时登记的手机号码或电子邮箱")]
    if errors:
        raise ServiceError(_("输入有误"), field_errors=errors)
    case = Case.objects.filter(number=number[:32]).first()
    target = _contact_of(case, contact) if case is not None and not case.is_public else None
    if case is None or target is None or _over_limit(case, clock.now()):
        return CodeSent()
    return _send(case, channel=target[0], address=target[1], actor=None)


def query_password_code_send(*, case: Case, actor: User) -> CodeSent:
    """Staff send the citizen a reset code (to the mobile number given at intake, else the e-mail); they never see
    the code, and the citizen sets the new password on the portal."""
    lifecycle.check(Action.RESET_PASSWORD, case=case, user=actor)
    if case.is_public:
        raise ServiceError(_("公开工单无需查询密码"), code="public_case")
    target = _default_contact(case)
    if target is None:
        raise ServiceError(_("来电人没有登记手机号码或电子邮箱，无法发送验证码"), code="no_contact")
    if limit := _over_limit(case, clock.now()):
        raise ServiceError(limit, code="rate_limited")
    return _send(case, channel=target[0], address=target[1], actor=actor)


def query_password_reset(*, number: str, code: str) -> str:
    """The citizen gives the code: a new query password, returned to them alone. Wrong codes count; after
    MAX_ATTEMPTS the code is locked and a new one must be requested."""
    stale = _("验证码不正确或已失效，请重新获取")
    refused = ServiceError(stale, field_errors={"code": [stale]})
    number, code = (number or "").strip(), (code or "").strip()
    if not number or not code:
        raise ServiceError(
            _("输入有误"),
            field_errors={
                **({"number": [_("请填写工单编号")]} if not number else {}),
                **({"code": [_("请填写验证码")]} if not code else {}),
            },
        )
    now = clock.now()
    with transaction.atomic():
        case = Case.objects.filter(number=number[:32]).first()
        reset = (
            QueryPasswordReset.objects.select_for_update()
            .filter(case=case, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
            if case is not None and not case.is_public
            else None
        )
        if reset is None or case is None:
            raise refused
        if reset.attempts >= MAX_ATTEMPTS:
            raise ServiceError(
                _("验证码错误次数过多，已失效，请重新获取"),
                code="locked",
                field_errors={"code": [_("验证码错误次数过多，已失效，请重新获取")]},
            )
        if not crypto.check_code(code, reset.code_hash):
            reset.attempts += 1
            reset.save(update_fields=["attempts"])
            wrong = True
        else:
            wrong = False
            password = new_query_password()
            reset.used_at = now
            reset.save(update_fields=["used_at"])
            # Only the password changes: no version bump, so no action in progress on the case is disturbed.
            Case.objects.filter(pk=case.pk).update(query_password=crypto.hash_code(password))
            _event(
                case,
                actor=None,
                action=Action.RESET_PASSWORD,
                from_status=case.status,
                opinion="来电人凭验证码重置了查询密码",
                data={"step": "reset"},
            )
    if wrong:  # the counted try is committed above; the refusal follows
        raise refused
    return password


__all__ = [
    "CodeSent",
    "query_password_code_request",
    "query_password_code_send",
    "query_password_reset",
]
