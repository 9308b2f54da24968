"""Cases other platforms send us (seed 4.5, API-4): the superior 12345 platform sends cases down, the police
platform hands over non-emergencies. Each arrives once (idempotent by the sender's number), goes to the
dispatchers as a submitted case from the sender's channel, and its progress goes back through the sender's
webhook subscriptions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from hotline.cases import services as case_services
from hotline.cases.models import Case, Channel
from hotline.common import clock
from hotline.common.errors import NotAllowed, ServiceError
from hotline.common.models import DictItem, DictKind

from .models import ExternalCase, Partner

CHANNEL_OF_KIND: dict[str, str] = {
    Partner.Kind.SUPERIOR: Channel.OTHER_HOTLINE,
    Partner.Kind.EMERGENCY: Channel.POLICE_110,
}


@dataclass(frozen=True)
class Received:
    case: Case
    created: bool


def external_case_receive(*, partner: Partner, data: dict[str, Any]) -> Received:
    channel = CHANNEL_OF_KIND.get(partner.kind)
    if channel is None or partner.service_user is None:
        raise NotAllowed(_("只有上级平台和联动平台可以推送诉求"))
    external_id = data["external_id"]
    existing = _existing(partner, external_id)
    if existing is not None:
        return Received(case=existing, created=False)
    deadline = data.get("deadline")
    case_input = case_services.CaseInput(
        case_type=_dict(DictKind.CASE_TYPE, data["case_type"], "case_type"),
        urgency=_dict(DictKind.URGENCY, data["urgency"], "urgency") if data.get("urgency") else None,
        content=data["content"],
        title=data.get("title", ""),
        channel=channel,
        citizen_name=data.get("caller", {}).get("name", ""),
        citizen_phone=data.get("caller", {}).get("phone", ""),
        citizen_address=data.get("caller", {}).get("address", ""),
        location=data.get("location", ""),
        origin={
            "partner": partner.code,
            "external_id": external_id,
            "external_deadline": deadline.isoformat() if deadline else "",
        },
    )
    try:
        with transaction.atomic():
            result = case_services.case_intake(actor=partner.service_user, data=case_input)
            ExternalCase.objects.create(
                partner=partner, external_id=external_id, case_id=result.case.pk, received_at=clock.now()
            )
    except IntegrityError:  # the same external case received concurrently: the other request made it
        existing = _existing(partner, external_id)
        if existing is None:
            raise
        return Received(case=existing, created=False)
    return Received(case=result.case, created=True)


def external_case_get(*, partner: Partner, external_id: str) -> Case | None:
    return _existing(partner, external_id)


def _existing(partner: Partner, external_id: str) -> Case | None:
    link = ExternalCase.objects.filter(partner=partner, external_id=external_id).first()
    return Case.objects.filter(pk=link.case_id).first() if link else None


def _dict(kind: str, code: str, field: str) -> DictItem:
    item = DictItem.objects.filter(kind=kind, code=code, is_active=True).first()
    if item is None:
        raise ServiceError(_("编码无效"), field_errors={field: [_("编码无效：%(code)s") % {"code": code}]})
    return item
