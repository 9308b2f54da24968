"""Plausible citizen requests: what happened where, who called, and what the unit answered."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from hotline.cases.models import Channel
from hotline.cases.services import MIN_STAFF_CONTENT_LENGTH, CaseInput
from hotline.common.models import DictItem, DictKind
from hotline.common.validators import id_card_check_code
from hotline.orgs.models import Unit

from . import catalog
from .org import DemoOrg, person_name

CHANNEL_WEIGHTS: tuple[tuple[str, int], ...] = (
    (Channel.PHONE, 70),
    (Channel.WECHAT, 8),
    (Channel.APP, 7),
    (Channel.WEB, 6),
    (Channel.VOICEMAIL, 4),
    (Channel.MAYOR_MAILBOX, 3),
    (Channel.SMS, 2),
)
CLOSING_SENTENCE = "来电人希望相关部门尽快核实处理，并将处理结果及时反馈。"


@dataclass(frozen=True)
class Request:
    """The incident part of a case: template, place, competent bureau and the words of the request."""

    template: catalog.CaseTemplate
    district: Unit
    street: Unit
    community: Unit
    bureau: Unit
    title: str
    content: str
    location: str
    answer: str
    result: str


@dataclass(frozen=True)
class Caller:
    name: str
    gender: str
    phone: str
    address: str = ""
    id_card: str = ""


def mobile_number(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def id_card_number(rng: random.Random) -> str:
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(365 * 55))
    first17 = f"420102{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + id_card_check_code(first17)


def _place_words(rng: random.Random, district: Unit, street: Unit, community: Unit) -> dict[str, object]:
    rural = community.name.endswith("村")
    estate = "" if rural else rng.choice(catalog.ESTATES)
    return {
        "loc": f"{district.name}{street.name}{community.name}{estate}",
        "estate": estate,
        "road": rng.choice(catalog.ROADS),
        "days": rng.randint(2, 15),
        "n": rng.randint(2, 12),
        "months": rng.randint(2, 6),
        "years": rng.randint(1, 5),
        "amount": f"{rng.randint(8, 60) * 1000:,}",
        "company": rng.choice(catalog.COMPANIES),
        "school": street.name.removesuffix("街道") + rng.choice(catalog.SCHOOLS),
    }


def _resolve_bureau(org: DemoOrg, template: catalog.CaseTemplate, district: Unit) -> Unit:
    if template.bureau.startswith("D:"):
        return org.unit(district.code + template.bureau[2:])
    return org.unit(template.bureau)


def draw_request(rng: random.Random, org: DemoOrg) -> Request:
    template = rng.choice(catalog.TEMPLATES)
    community = rng.choice(org.communities)
    street = org.by_id(community.parent_id or 0)
    district = org.by_id(street.parent_id or 0)
    words = _place_words(rng, district, street, community)
    content = rng.choice(template.texts).format(**words)
    if len(content) < MIN_STAFF_CONTENT_LENGTH:
        content += CLOSING_SENTENCE
    return Request(
        template=template,
        district=district,
        street=street,
        community=community,
        bureau=_resolve_bureau(org, template, district),
        title=f"{street.name}{template.title}",
        content=content,
        location=str(words["loc"]),
        answer=template.answer,
        result=rng.choice(template.results).format(**words),
    )


@dataclass
class CallerPool:
    """Callers, some of whom call again (so citizen histories and phone searches show several cases)."""

    rng: random.Random
    repeat_share: float = 0.25
    known: list[Caller] = field(default_factory=list)

    def draw(self, community: Unit, location: str) -> Caller:
        if self.known and self.rng.random() < self.repeat_share:
            return self.rng.choice(self.known)
        gender = self.rng.choice(("male", "female"))
        caller = Caller(
            name=person_name(self.rng),
            gender=gender,
            phone=mobile_number(self.rng),
            address=f"{catalog.CITY}{location}{self.rng.randint(1, 30)}栋{self.rng.randint(1, 6)}单元"
            if self.rng.random() < 0.6
            else "",
            id_card=id_card_number(self.rng) if self.rng.random() < 0.1 else "",
        )
        self.known.append(caller)
        return caller


class Dictionaries:
    def __init__(self) -> None:
        self.items = {(d.kind, d.code): d for d in DictItem.objects.all()}

    def get(self, kind: str, code: str) -> DictItem:
        return self.items[(kind, code)]


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _urgency(rng: random.Random, share: float) -> str:
    if rng.random() >= share:
        return "normal"
    return "very_urgent" if rng.random() < 0.2 else "urgent"


def case_input(rng: random.Random, dicts: Dictionaries, request: Request, caller: Caller) -> CaseInput:
    t = request.template
    return CaseInput(
        case_type=dicts.get(DictKind.CASE_TYPE, t.case_type),
        content=request.content,
        channel=_weighted(rng, CHANNEL_WEIGHTS),
        citizen_name=caller.name,
        citizen_gender=caller.gender,
        citizen_phone=caller.phone,
        citizen_address=caller.address,
        citizen_id_card=caller.id_card,
        nature=dicts.get(DictKind.NATURE, t.nature),
        urgency=dicts.get(DictKind.URGENCY, _urgency(rng, t.urgent_share)),
        secrecy=dicts.get(DictKind.SECRECY, "citizen" if rng.random() < 0.15 else "none"),
        bureau=request.bureau,
        location=request.location,
        location_unit=request.community,
        title=request.title,
        keywords=t.keywords,
        is_typical_recording=rng.random() < 0.02,
        is_public=rng.random() < 0.4,
    )
