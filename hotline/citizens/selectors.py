"""Every read of citizen records, scoped to the user (ORG-2) and masked for roles that do not need the numbers
(ORG-4)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from hotline.common import clock, crypto
from hotline.common.errors import NotFound
from hotline.common.validators import normalize_phone
from hotline.orgs.models import User
from hotline.orgs.selectors import sees_everything

from . import history
from .models import (
    BlacklistDirection,
    BlacklistEntry,
    Citizen,
    CitizenPhone,
    ImportJob,
    RelatedContact,
    ScreenPopLayout,
)
from .permissions import (  # noqa: F401 - re-exported: the predicates read by views and API
    BLACKLIST_ROLES,
    EDITOR_ROLES,
    PERSONAL_DATA_ROLES,
    may_edit_citizens,
    may_manage_blacklist,
    sees_personal_data,
)

RECENT = 10


def citizen_visible(*, user: User) -> QuerySet[Citizen]:
    """Hotline staff see every profile; a unit sees the citizens of the cases it may see."""
    if sees_everything(user) or sees_personal_data(user):
        return Citizen.objects.all()
    # A caller who asked for secrecy (保密来电人) is not found through that case: the unit gets a 404 (ORG-4).
    cases = history.case_rows().visible(user=user)
    return Citizen.objects.filter(Exists(cases.filter(citizen_id=OuterRef("pk"))))


def citizen_get(*, user: User, pk: int) -> Citizen:
    citizen = citizen_visible(user=user).filter(pk=pk).first()
    if citizen is None:
        raise NotFound(_("市民档案不存在或无权查看"))
    return citizen


def citizen_search(
    *, user: User, query: str = "", phone: str = "", id_card: str = "", level: str = ""
) -> QuerySet[Citizen]:
    """By name (prefix), number (any of the citizen's numbers, exact), ID card (exact, through its hash), level."""
    qs = citizen_visible(user=user)
    if phone:
        number = normalize_phone(phone)
        qs = qs.filter(
            Q(phone=number) | Exists(CitizenPhone.objects.filter(citizen=OuterRef("pk"), number=number))
        )
    if id_card:
        qs = qs.filter(id_card_hash=crypto.lookup_hash(id_card.strip().upper()))
    if query:
        query = query.strip()
        qs = qs.filter(Q(name__startswith=query) | Q(work_unit__contains=query))
    if level:
        qs = qs.filter(level=level)
    return qs.order_by("-id")


def citizens_by_number(number: str, *, limit: int = 5) -> list[Citizen]:
    """Profiles owning a number, most recently created first: one indexed lookup on CitizenPhone, falling back
    to the main-number column for rows loaded without their phone rows."""
    number = normalize_phone(number)
    if not number:
        return []
    ids = list(
        CitizenPhone.objects.filter(number=number)
        .order_by("-citizen_id")
        .values_list("citizen_id", flat=True)[:limit]
    )
    if ids:
        found = Citizen.objects.in_bulk(ids)
        return [found[i] for i in ids if i in found]
    return list(Citizen.objects.filter(phone=number).order_by("-id")[:limit])


def citizen_matching(*, id_card: str, phone: str) -> Citizen | None:
    """The profile an imported row stands for: the one with its ID-card number, else the owner of its number."""
    if id_card:
        found = Citizen.objects.filter(id_card_hash=crypto.lookup_hash(id_card)).first()
        if found is not None:
            return found
    return citizen_for_number(phone)


def citizen_for_number(number: str) -> Citizen | None:
    """The profile a caller's number stands for: the newest owning it (one query). The screen pop shows it and
    intake files the request under it, so both always agree for a number a family shares."""
    number = normalize_phone(number)
    if not number:
        return None
    # One statement (every intake asks): the newest owner of the number if any, else the newest profile whose
    # main phone it is. Written out: the ORM spelling of the fallback costs more to build than a second query.
    citizens, phones = Citizen._meta.db_table, CitizenPhone._meta.db_table
    rows = Citizen.objects.raw(
        f"SELECT * FROM {citizens} WHERE id = COALESCE("  # noqa: S608 - table names from the models
        f"(SELECT citizen_id FROM {phones} WHERE number = %s ORDER BY citizen_id DESC LIMIT 1), "
        f"(SELECT id FROM {citizens} WHERE phone = %s ORDER BY id DESC LIMIT 1))",
        [number, number],
    )
    return next(iter(rows), None)


def blacklist_lookup(number: str, direction: str = BlacklistDirection.INBOUND) -> BlacklistEntry | None:
    """The entry blocking `number` in `direction` now, if any: one query on the unique index of `number`."""
    number = normalize_phone(number)
    if not number:
        return None
    directions = [direction, BlacklistDirection.BOTH]
    return (
        BlacklistEntry.objects.filter(number=number, direction__in=directions)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=clock.now()))
        .first()
    )


def blacklist_list(*, number: str = "", active: bool | None = None) -> QuerySet[BlacklistEntry]:
    qs = BlacklistEntry.objects.all()
    if number:
        qs = qs.filter(number__startswith=normalize_phone(number))
    if active is not None:
        live = Q(expires_at__isnull=True) | Q(expires_at__gt=clock.now())
        qs = qs.filter(live) if active else qs.exclude(live)
    return qs.order_by("-created_at", "-id")


def layout_for(number: str) -> ScreenPopLayout | None:
    """The layout of the longest configured prefix of the number (area code), else the default (empty prefix)."""
    number = normalize_phone(number)
    prefixes = {number[:i] for i in range(1, min(len(number), 8) + 1)} | {""}
    rows = list(ScreenPopLayout.objects.filter(prefix__in=prefixes, is_active=True))
    return max(rows, key=lambda r: len(r.prefix), default=None)


def import_jobs(*, user: User) -> QuerySet[ImportJob]:
    qs = ImportJob.objects.all()
    return qs if sees_everything(user) else qs.filter(actor=user)


# --------------------------------------------------------------------------- presentation with masking (ORG-4)


def mask(value: str, *, masked: bool) -> str:
    return crypto.mask_phone(value) if masked and value else value


def citizen_data(
    citizen: Citizen, *, masked: bool, phones: list[CitizenPhone] | None = None
) -> dict[str, Any]:
    phones = phones if phones is not None else list(citizen.phones.all())
    numbers = [p.number for p in phones] or ([citizen.phone] if citizen.phone else [])
    id_card = citizen.id_card if citizen.id_card_encrypted else ""
    return {
        "id": citizen.pk,
        "name": citizen.name,
        "gender": citizen.gender,
        "gender_display": citizen.get_gender_display(),
        "phone": mask(citizen.phone, masked=masked),
        "phones": [mask(n, masked=masked) for n in numbers],
        "email": citizen.email,
        "address": citizen.address,
        "work_unit": citizen.work_unit,
        "post_code": citizen.post_code,
        "id_card": (crypto.mask_id_card(id_card) if masked else id_card) if id_card else "",
        "level": citizen.level,
        "level_display": citizen.get_level_display(),
        "notes": citizen.notes,
        "created_at": citizen.created_at,
        "updated_at": citizen.updated_at,
        "masked": masked,
    }


def contact_data(contact: RelatedContact, *, masked: bool) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "citizen": contact.citizen_id,
        "name": contact.name,
        "relation": contact.relation,
        "phone": mask(contact.phone, masked=masked),
        "address": contact.address,
        "notes": contact.notes,
    }


def blacklist_data(entry: BlacklistEntry | None) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {
        "id": entry.pk,
        "number": entry.number,
        "direction": entry.direction,
        "direction_display": entry.get_direction_display(),
        "reason": entry.reason,
        "expires_at": entry.expires_at,
        "treatment": entry.treatment,
        "treatment_display": entry.get_treatment_display(),
        "treatment_target": entry.treatment_target,
    }


EMPTY_PROFILE: dict[str, Any] = {
    "id": None,
    "name": "",
    "gender": "",
    "phones": [],
    "email": "",
    "address": "",
    "work_unit": "",
    "post_code": "",
    "id_card": "",
    "level": "normal",
    "notes": "",
}


def _case_row(case: Any, *, masked: bool) -> dict[str, Any]:
    return {
        "id": case.pk,
        "number": case.number,
        "title": case.title,
        "status": case.status,
        "status_display": case.get_status_display(),
        "case_type": case.case_type.name if case.case_type_id else "",
        "channel": case.channel,
        "citizen_phone": mask(case.citizen_phone, masked=masked),
        "created_at": case.created_at,
        "link": reverse("case-detail", args=[case.pk]),
    }


def screen_pop(*, user: User, number: str) -> dict[str, Any]:
    """CIT-5: everything the agent needs while the phone rings, for a caller number.

    Cases are those the user may see (a unit of another district sees none of this citizen's other cases);
    numbers are masked unless the user's role needs them. An unknown number returns an empty profile with the
    number filled in, ready to complete."""
    number = normalize_phone(number)
    masked = not sees_personal_data(user)
    citizen = citizen_for_number(number)
    layout = layout_for(number)
    entry = blacklist_lookup(number, BlacklistDirection.INBOUND)
    result: dict[str, Any] = {
        "number": mask(number, masked=masked),
        "layout": {"prefix": layout.prefix, "name": layout.name, **layout.layout} if layout else None,
        "blacklist": blacklist_data(entry),
        "blacklisted": entry is not None,
    }
    unknown = citizen is None
    if citizen is not None and not citizen_visible(user=user).filter(pk=citizen.pk).exists():
        citizen = None  # a unit user who never saw this citizen's cases learns nothing about them
    result["known"] = citizen is not None
    if citizen is None:
        # A caller with no citizen record still has a past on this number (calls, missed calls, requests
        # registered without a profile): the contact history by number, each source scoped to the user. Not for
        # a citizen hidden from this user above.
        entries = (
            history.contact_history(user=user, numbers=[number], limit=RECENT) if unknown and number else []
        )
        result.update(
            citizen={**EMPTY_PROFILE, "phones": [mask(number, masked=masked)] if number else []},
            contacts=[],
            open_cases=[],
            recent_cases=[],
            history=[{**e.__dict__, "number": mask(e.number, masked=masked)} for e in entries],
            counts={"total": 0, "complaints": 0, "consultations": 0, "open": 0},
        )
        return result
    phones = list(citizen.phones.all())
    numbers = sorted({p.number for p in phones} | ({citizen.phone} if citizen.phone else set()) | {number})
    rows = history.case_rows()
    cases = rows.of_citizen(user=user, citizen=citizen, numbers=numbers)
    finished = list(rows.finished_statuses)
    counts = cases.aggregate(
        total=Count("id"),
        complaints=Count("id", filter=Q(case_type__code="complaint")),
        consultations=Count("id", filter=Q(case_type__code="consult")),
        open=Count("id", filter=~Q(status__in=finished)),
    )
    recent = list(cases.select_related("case_type").order_by("-created_at", "-id")[:RECENT])
    open_cases = [c for c in recent if c.status not in rows.finished_statuses]
    if counts["open"] > len(open_cases):
        open_cases = list(
            cases.exclude(status__in=finished).select_related("case_type").order_by("-created_at", "-id")[:50]
        )
    entries = history.contact_history(user=user, citizen=citizen, numbers=numbers, limit=RECENT)
    result.update(
        citizen=citizen_data(citizen, masked=masked, phones=phones),
        contacts=[contact_data(c, masked=masked) for c in citizen.contacts.all()],
        open_cases=[_case_row(c, masked=masked) for c in open_cases],
        recent_cases=[_case_row(c, masked=masked) for c in recent],
        history=[{**e.__dict__, "number": mask(e.number, masked=masked)} for e in entries],
        counts=counts,
    )
    return result
