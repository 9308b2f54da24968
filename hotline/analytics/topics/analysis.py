from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from hotline.cases import duplicates
from hotline.common import clock
from hotline.orgs.models import Unit, User

from ..crosstab import engine

TOPIC_DIMENSIONS = ("case_type", "nature", "area", "bureau")
EMERGING_DAYS = 14
EMERGING_SHARE = 0.6  # at least this share of a cluster's requests in one district


@dataclass
class Topic:
    key: Any
    label: str
    n: int
    before: int
    url: str

    @property
    def change(self) -> float | None:
        """Change on the period before, in percent; None when nothing came before."""
        return round(100 * (self.n - self.before) / self.before, 1) if self.before else None


def most_asked(params: dict[str, Any], *, user: User, dimension: str) -> tuple[engine.Spec, list[Topic]]:
    """Intake by `dimension` in the period, beside the same-length period just before it, most asked first."""
    spec = engine.parse({**params, "rows": dimension, "measure": "intake_volume"}, user=user)
    now_table = engine.run(spec)
    length = spec.period.last_day - spec.period.first_day
    before_last = spec.period.first_day - dt.timedelta(days=1)
    before_params = {
        **{k: v for k, v in spec.params.items() if k not in ("period", "from", "to")},
        "period": "custom",
        "from": (before_last - length).isoformat(),
        "to": before_last.isoformat(),
    }
    before = {
        r.key: r.cells[0].value
        for r in engine.run(engine.parse(before_params, user=user)).rows
        if not r.total
    }
    topics = [
        Topic(r.key, r.label, int(r.cells[0].value or 0), int(before.get(r.key) or 0), r.cells[0].url)
        for r in now_table.rows
        if not r.total
    ]
    return spec, sorted(topics, key=lambda t: (-t.n, t.label))


@dataclass
class Emerging:
    terms: list[str]
    size: int
    recent: int  # in the newer half of the window
    earlier: int  # in the older half
    district: str
    share: float
    url: str


def emerging(*, user: User, days: int = EMERGING_DAYS, min_size: int = 3) -> list[Emerging]:
    """Hot clusters (the duplicate engine's groups of similar open requests) that grow — more requests in the
    newer half of the window than in the older — and that sit mostly in one district."""
    now = clock.now()
    middle = now - dt.timedelta(days=days / 2)
    out = []
    for cluster in duplicates.hot_clusters(user=user, days=days, min_size=min_size):
        recent = sum(1 for c in cluster.cases if c.created_at >= middle)
        earlier = cluster.size - recent
        districts = Counter(c.district_id for c in cluster.cases if c.district_id)
        if not districts or recent <= earlier:
            continue
        district_id, n = districts.most_common(1)[0]
        share = n / cluster.size
        if share < EMERGING_SHARE:
            continue
        district = Unit.objects.filter(pk=district_id).values_list("name", flat=True).first() or ""
        query = {
            "district": district_id,
            "keywords": " ".join(cluster.terms[:2]),
            "created_from": timezone.localtime(now - dt.timedelta(days=days)).isoformat(),
            "created_to": timezone.localtime(now + dt.timedelta(minutes=1)).isoformat(),
        }
        url = f"{reverse('case-search')}?{urlencode(query)}"
        out.append(
            Emerging(cluster.terms, cluster.size, recent, earlier, district, round(100 * share, 1), url)
        )
    return sorted(out, key=lambda e: (-(e.recent - e.earlier), -e.size))
