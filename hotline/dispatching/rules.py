"""Catalogue rules: which active matter's keywords a request contains, and where the matter's location rule
sends it. Pure functions over rows already read (no writes)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from hotline.orgs.models import Unit

from .models import LocationRule, Matter

_SEP = re.compile(r"[,，、;；\s]+")


def split_keywords(text: str) -> list[str]:
    seen: list[str] = []
    for word in _SEP.split(text or ""):
        word = word.strip()
        if word and word not in seen:
            seen.append(word)
    return seen


@dataclass(frozen=True)
class RuleMatch:
    matter: Matter
    terms: list[str]
    score: float


def match_matters(text: str, matters: Iterable[Matter]) -> list[RuleMatch]:
    """Matters whose keywords occur in `text`, best first: more characters of matched keywords, then a deeper
    (more specific) matter."""
    found = []
    for matter in matters:
        terms = [k for k in matter.keyword_list() if k in text]
        if terms:
            found.append(
                RuleMatch(matter=matter, terms=terms, score=sum(len(t) for t in terms) + 0.1 * matter.level)
            )
    found.sort(key=lambda m: (-m.score, m.matter.pk))
    return found


def resolve_unit(matter: Matter, *, district: Unit | None, bureau: Unit | None) -> tuple[Unit | None, str]:
    """The unit the matter's location rule gives for a case at `district` with `bureau`, and why."""
    rule = matter.location_rule
    if rule == LocationRule.VERTICAL and bureau is not None and bureau.is_vertical and bureau.is_active:
        return bureau, f"垂直管理部门{bureau.name}"
    if rule == LocationRule.DISTRICT and district is not None and district.is_active:
        return district, f"事发地{district.name}"
    if matter.unit is not None and matter.unit.is_active:
        return matter.unit, f"目录指定{matter.unit.name}"
    return None, ""


def effective(matter: Matter) -> Matter | None:
    """The matter itself if it carries a rule (a unit or a location rule), else its nearest ancestor that does."""
    node: Matter | None = matter
    while node is not None:
        if node.unit_id or node.location_rule != LocationRule.UNIT:
            return node
        node = node.parent
    return None
