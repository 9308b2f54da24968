"""Field validators shared by every package that takes citizen data (cases at intake, citizens, channels):
Chinese phone numbers, resident ID-card numbers (GB 11643-1999), post codes, e-mail addresses, lengths."""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
# Landline with area code (0xx-xxxxxxx / 0xxx-xxxxxxxx, dash optional) or a short service number.
LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
SERVICE_RE = re.compile(r"^(1\d{2}|9\d{4}|12\d{3})$")

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CODES = "10X98765432"


def normalize_phone(value: str) -> str:
    value = re.sub(r"[\s()]", "", value or "")
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    return value


def validate_phone(value: str) -> None:
    number = normalize_phone(value)
    if not (MOBILE_RE.match(number) or LANDLINE_RE.match(number) or SERVICE_RE.match(number)):
        raise ValidationError(_("电话号码格式不正确：%(value)s"), params={"value": value}, code="phone")


def id_card_check_code(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CODES[total % 11]


def validate_id_card(value: str) -> None:
    number = (value or "").strip().upper()
    message = _("身份证号码不正确：%(value)s")
    if not re.match(r"^\d{17}[\dX]$", number):
        raise ValidationError(message, params={"value": value}, code="id_card")
    try:
        dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise ValidationError(message, params={"value": value}, code="id_card") from exc
    if id_card_check_code(number[:17]) != number[17]:
        raise ValidationError(_("身份证号码校验位错误：%(value)s"), params={"value": value}, code="id_card")


POST_CODE_RE = re.compile(r"^\d{6}$")


def validate_post_code(value: str) -> None:
    """A mainland post code: six digits."""
    if not POST_CODE_RE.match(value or ""):
        raise ValidationError(_("邮编应为6位数字"), code="post_code")


def validate_email_address(value: str) -> None:
    """An e-mail address (Django's rules), refused with one short Chinese message."""
    from django.core.validators import validate_email

    try:
        validate_email(value)
    except ValidationError as exc:
        raise ValidationError(_("电子邮箱格式不正确"), code="email") from exc


def validate_max_length(value: str, limit: int) -> None:
    if len(value or "") > limit:
        raise ValidationError(_("不能超过%(limit)d个字"), params={"limit": limit}, code="max_length")
