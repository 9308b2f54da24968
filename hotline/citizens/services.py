from __future__ import annotations

from typing import Any

from hotline.common.audit import audit_record

from .models import Citizen

PROFILE_FIELDS = ("name", "gender", "email", "address", "work_unit", "post_code")


def citizen_upsert_from_intake(*, phone: str, actor: Any, id_card: str = "", **fields: str) -> Citizen:
    """Find the citizen by phone number (or create one) and fill blanks from what the caller said.

    Runs inside the intake transaction; only empty profile fields are filled, nothing is overwritten.
    """
    citizen = Citizen.objects.filter(phone=phone).order_by("id").first() if phone else None
    created = citizen is None
    if citizen is None:
        citizen = Citizen(phone=phone)
    changed = []
    for field in PROFILE_FIELDS:
        value = fields.get(field) or ""
        if value and not getattr(citizen, field):
            setattr(citizen, field, value)
            changed.append(field)
    if id_card and not citizen.id_card_hash:
        citizen.set_id_card(id_card)
        changed.append("id_card")
    if created or changed:
        citizen.save()
        audit_record(
            actor=actor,
            action="create" if created else "update",
            obj=citizen,
            summary="登记市民信息" if created else "补充市民信息",
            changes={"fields": changed},
        )
    return citizen
