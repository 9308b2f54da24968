"""The dimensions a cross-tab groups by, each defined once: the case field it reads (or the row's handling unit
or date), how its values are named and ordered, and the case-search parameter that lists a value's cases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Func
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from hotline.cases.models import CaseStatus, Channel
from hotline.common.models import DictItem, DictKind
from hotline.orgs.models import Unit

NONE_KEY = "-"  # a case without a value (no bureau, no urgency…)
OTHER_KEY = "other"  # a unit outside the subtree a unit dimension rolls up to

# kinds of dimensions
FIELD = "field"  # a case field (choices or a dictionary item or a unit, kept as is)
ROLLED = "rolled"  # a unit, rolled up to the level just below a base unit
TIME = "time"  # the date of the measure's own row, truncated


@dataclass(frozen=True)
class Dimension:
    key: str
    name: Any
    kind: str
    field: str = ""  # FIELD: the case field; ROLLED: "@unit" (the row's handling unit) or a case unit field
    dict_kind: str = ""  # FIELD over dictionary items
    choices: tuple[tuple[str, Any], ...] = ()  # FIELD over choices
    unit: bool = False  # FIELD over units
    search: str = ""  # case-search parameter for one value
    base: str = ""  # ROLLED: the filter naming the unit to roll up under ("unit" or "area")
    trunc: type[Func] | None = None  # TIME

    def order_and_label(self, keys: Iterable[Any], *, base: Unit | None = None) -> list[tuple[Any, str]]:
        keys = list(keys)
        if self.kind == TIME:
            return [(k, time_label(self.key, k)) for k in sorted(k for k in keys if k is not None)]
        named: dict[Any, str] = {}
        order: dict[Any, tuple[Any, ...]] = {}
        if self.choices:
            for i, (value, label) in enumerate(self.choices):
                named[value], order[value] = str(label), (i,)
        elif self.dict_kind:
            for item in DictItem.objects.filter(pk__in=[k for k in keys if isinstance(k, int)]):
                named[item.pk], order[item.pk] = item.name, (item.sort_order, item.pk)
        else:
            for unit in Unit.objects.filter(pk__in=[k for k in keys if isinstance(k, int)]):
                label = (
                    unit.name
                    if not (base is not None and unit.pk == base.pk)
                    else _t("%s（本级）") % unit.name
                )
                named[unit.pk], order[unit.pk] = (
                    label,
                    (unit.sort_order, *(int(x) for x in unit.path.strip("/").split("/") if x)),
                )
        named[NONE_KEY], order[NONE_KEY] = _t("（未填）"), (10**9,)
        named[OTHER_KEY], order[OTHER_KEY] = _t("（范围外单位）"), (10**9 + 1,)
        return [
            (k, named.get(k, str(k))) for k in sorted(keys, key=lambda k: order.get(k, (10**9 - 1, str(k))))
        ]


def time_label(key: str, value: dt.datetime) -> str:
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    if key == "month":
        return local.strftime("%Y-%m")
    if key == "week":
        return _t("%s 起一周") % local.strftime("%Y-%m-%d")
    return local.strftime("%Y-%m-%d")


def time_bounds(key: str, value: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of one time bucket."""
    start = timezone.localtime(value)
    if key == "day":
        end = start + dt.timedelta(days=1)
    elif key == "week":
        end = start + dt.timedelta(days=7)
    else:
        end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    tz = timezone.get_current_timezone()
    return start, dt.datetime.combine(end.date(), dt.time.min, tz)


DIMENSIONS: list[Dimension] = [
    Dimension(
        "case_type", _("诉求类型"), FIELD, "case_type", dict_kind=DictKind.CASE_TYPE, search="case_type"
    ),
    Dimension("bureau", _("职能局"), FIELD, "bureau", unit=True, search="bureau"),
    Dimension("district", _("所属区县"), FIELD, "district", unit=True, search="district"),
    Dimension(
        "area", _("事发地（下一级单位）"), ROLLED, "location_unit", search="location_tree", base="area"
    ),
    Dimension("unit", _("承办单位（下一级单位）"), ROLLED, "@unit", search="main_unit_tree", base="unit"),
    Dimension("channel", _("来源渠道"), FIELD, "channel", choices=tuple(Channel.choices), search="channel"),
    Dimension("status", _("工单状态"), FIELD, "status", choices=tuple(CaseStatus.choices), search="status"),
    Dimension("urgency", _("紧急程度"), FIELD, "urgency", dict_kind=DictKind.URGENCY, search="urgency"),
    Dimension("nature", _("性质分类"), FIELD, "nature", dict_kind=DictKind.NATURE, search="nature"),
    Dimension("month", _("月"), TIME, trunc=TruncMonth),
    Dimension("week", _("周"), TIME, trunc=TruncWeek),
    Dimension("day", _("日"), TIME, trunc=TruncDay),
]

REGISTRY: dict[str, Dimension] = {d.key: d for d in DIMENSIONS}


def roll_up(path: str | None, base: Unit | None) -> Any:
    """The unit just below `base` on a unit's path (the top-level unit when there is no base); `base` itself for
    its own rows; OTHER_KEY outside its subtree."""
    if path is None:
        return NONE_KEY
    if base is None:
        first = path.strip("/").split("/")[0]
        return int(first) if first else NONE_KEY
    if path == base.path:
        return base.pk
    if not path.startswith(base.path):
        return OTHER_KEY
    return int(path[len(base.path) :].strip("/").split("/")[0])
