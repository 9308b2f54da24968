"""ORG-4 in one place: what a user may see of a case's caller.

Every output that shows a caller — the case page and API, lists, search, duplicates, hot clusters, supervision,
exports and prints — asks this module, so a screen and the file exported from it always agree.

Two rules:
- secrecy (保密来电人, a secrecy level of rank >= 1): only the hotline office and city-level leaders see who the
  caller is; everyone else sees "（保密）" for every personal field, no profile link, and no number;
- numbers: roles that do not work with citizens directly see them masked (138****5678).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from hotline.common.crypto import mask_phone
from hotline.common.registry import user_may
from hotline.orgs.models import User
from hotline.orgs.selectors import sees_everything

from .models import Case


def hidden_text() -> str:
    return _("（保密）")


def secret_caller_q(prefix: str = "") -> Q:
    """Cases whose caller is secret (a secrecy level of rank >= 1)."""
    return Q(**{f"{prefix}secrecy__rank__gte": 1})


def sees_secret_callers(user: User) -> bool:
    return sees_everything(user)


def sees_numbers(user: User) -> bool:
    return user_may(user, "citizens.personal_data")


def is_secret(case: Case) -> bool:
    return secrecy_is_secret(case.secrecy_id)


def secrecy_is_secret(secrecy_id: int | None) -> bool:
    """Whether a case of secrecy level `secrecy_id` has a secret caller (no query: the levels are cached)."""
    if not secrecy_id:
        return False
    from .selectors import DICT_ITEMS  # cached: a list of cases costs no query per row

    level = DICT_ITEMS.get(secrecy_id)
    return bool(level and level.rank >= 1)


def caller_hidden(case: Case, user: User) -> bool:
    return is_secret(case) and not sees_secret_callers(user)


def number_masked(case: Case, user: User) -> bool:
    return caller_hidden(case, user) or not sees_numbers(user)


def without_secret_callers(qs: QuerySet[Any], user: User, prefix: str = "") -> QuerySet[Any]:
    """`qs` less the cases (or rows of cases, through `prefix`) whose caller `user` may not know."""
    return qs if sees_secret_callers(user) else qs.exclude(secret_caller_q(prefix))


def phone(value: str, *, masked: bool) -> str:
    return mask_phone(value) if masked and value else value


@dataclass(frozen=True)
class Caller:
    citizen: int | None
    name: str
    gender: str
    phone: str
    email: str
    address: str
    work_unit: str
    post_code: str
    notes: str
    hidden: bool  # a secret caller this user may not know
    masked: bool  # the number is masked

    @property
    def unmasked(self) -> bool:
        """Does this show the user personal data in the clear (so that the view is audited)?"""
        return not self.hidden and not self.masked and bool(self.phone or self.name)

    def as_fields(self) -> dict[str, Any]:
        """The case's `citizen_*` fields (and `citizen`) as this user sees them."""
        return {("citizen" if k == "citizen" else f"citizen_{k}"): v for k, v in asdict(self).items()}


def caller(case: Case, user: User) -> Caller:
    if caller_hidden(case, user):
        return Caller(
            citizen=None,
            name=hidden_text(),
            gender="",
            phone=hidden_text() if case.citizen_phone else "",
            email="",
            address=hidden_text() if case.citizen_address else "",
            work_unit="",
            post_code="",
            notes="",
            hidden=True,
            masked=True,
        )
    masked = not sees_numbers(user)
    return Caller(
        citizen=case.citizen_id,
        name=case.citizen_name,
        gender=case.citizen_gender,
        phone=phone(case.citizen_phone, masked=masked),
        email=case.citizen_email,
        address=case.citizen_address,
        work_unit=case.citizen_work_unit,
        post_code=case.citizen_post_code,
        notes=case.citizen_notes,
        hidden=False,
        masked=masked,
    )


def record_view(
    *, user: User, callers: list[Caller], what: str, filters: Mapping[str, Any] | None = None
) -> None:
    """ORG-3: a list, search, export or print that shows any caller unmasked is audited (who, filter, rows)."""
    shown = sum(1 for c in callers if c.unmasked)
    if shown:
        from hotline.common.audit import audit_access

        audit_access(
            actor=user,
            object_type="cases.case",
            summary=f"{what}：{len(callers)} 行，其中完整个人信息 {shown} 行",
            filters=filters,
            rows=len(callers),
        )
