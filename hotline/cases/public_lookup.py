"""INT-6: a citizen looks up a case's progress with its number and query code.

Guessing is bounded twice, both in the shared cache: per client address (the endpoint's throttle) and per case —
after `HOTLINE_LOOKUP_FAILURE_LIMIT` wrong codes for one case its lookup is locked for
`HOTLINE_LOOKUP_LOCKOUT_MINUTES`, whatever addresses the guesses come from. New codes have
`QUERY_CODE_DIGITS` digits (older six-digit codes stay valid: only their hash is stored and compared).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from hotline.common import crypto
from hotline.common.errors import NotFound, ServiceError
from hotline.common.throttles import Lockout

from .models import Case


class LookupLocked(ServiceError):
    status_code = 429
    code = "locked"

    def __init__(self, seconds: int) -> None:
        minutes = max(1, (seconds + 59) // 60)
        super().__init__(
            _("该工单查询错误次数过多，已暂时锁定，请 %(minutes)s 分钟后再试。") % {"minutes": minutes}
        )
        self.retry_after = seconds


def case_lookout() -> Lockout:
    minutes = settings.HOTLINE_LOOKUP_LOCKOUT_MINUTES
    return Lockout(
        name="case-lookup",
        limit=settings.HOTLINE_LOOKUP_FAILURE_LIMIT,
        window_seconds=minutes * 60,
        lock_seconds=minutes * 60,
    )


def public_case_lookup(*, number: str, password: str) -> Case:
    """The case a citizen may see with this number and code; NotFound when either is wrong, LookupLocked when the
    case has seen too many wrong codes (a locked case answers so even to the right code)."""
    case = Case.objects.filter(number=number.strip()).first()
    if case is None:
        raise NotFound(_("工单编号或查询密码不正确"))
    lockout = case_lookout()
    key = str(case.pk)
    if seconds := lockout.locked_for(key):
        raise LookupLocked(seconds)
    if case.is_public:
        return case
    if not crypto.check_code(password, case.query_password):
        if seconds := lockout.fail(key):
            raise LookupLocked(seconds)
        raise NotFound(_("工单编号或查询密码不正确"))
    lockout.succeed(key)
    return case
