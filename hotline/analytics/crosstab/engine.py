"""Running a cross-tab: validate the parameters (400 with field errors), scope them to the user (a unit outside
the user's subtree is 404), group every measure in a few aggregate queries, and link each cell to its cases."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from rest_framework import serializers

from hotline.cases.models import CaseStatus, Channel
from hotline.common.models import DictItem, DictKind
from hotline.orgs.models import Unit, User

from .. import selectors
from ..measures import AVERAGE, RATE, Scope
from . import dimensions as dims
from . import grouped as g

MAX_CELLS = 20_000
MAX_MEASURES = 12  # every grouped measure at once (tests/analytics/test_crosstab.py)
# the filters of a cross-tab, each with the case-search parameter that reproduces it
FILTER_SEARCH = {
    "case_type": "case_type",
    "nature": "nature",
    "urgency": "urgency",
    "bureau": "bureau",
    "district": "district",
    "area": "location_tree",
    "channel": "channel",
    "status": "status",
}
DICT_FILTERS = {"case_type": DictKind.CASE_TYPE, "nature": DictKind.NATURE, "urgency": DictKind.URGENCY}
UNIT_FILTERS = ("bureau", "district", "area")
FILTER_LABELS = {
    "case_type": _l("诉求类型"),
    "nature": _l("性质分类"),
    "urgency": _l("紧急程度"),
    "bureau": _l("职能局"),
    "district": _l("所属区县"),
    "area": _l("事发地（含下级）"),
    "channel": _l("来源渠道"),
    "status": _l("工单状态"),
}


class CrosstabInput(serializers.Serializer):
    rows = serializers.ChoiceField(choices=[d.key for d in dims.DIMENSIONS])
    cols = serializers.ChoiceField(choices=[d.key for d in dims.DIMENSIONS], required=False, allow_blank=True)
    measure = serializers.ListField(
        child=serializers.ChoiceField(choices=[x.key for x in g.GROUPED]),
        min_length=1,
        max_length=MAX_MEASURES,
    )
    case_type = serializers.IntegerField(required=False, min_value=1, max_value=selectors.MAX_PK)
    nature = serializers.IntegerField(required=False, min_value=1, max_value=selectors.MAX_PK)
    urgency = serializers.IntegerField(required=False, min_value=1, max_value=selectors.MAX_PK)
    bureau = serializers.IntegerField(required=False, min_value=1, max_value=selectors.MAX_PK)
    district = serializers.IntegerField(required=False, min_value=1, max_value=selectors.MAX_PK)
    area = serializers.IntegerField(required=False, min_value=1, max_value=selectors.MAX_PK)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, allow_blank=True)
    status = serializers.MultipleChoiceField(choices=CaseStatus.choices, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        cols = attrs.get("cols") or ""
        if cols and cols == attrs["rows"]:
            raise serializers.ValidationError({"cols": [_("行和列不能是同一维度")]})
        if cols and len(attrs["measure"]) > 1:
            raise serializers.ValidationError({"measure": [_("选择了列维度时只能统计一项指标")]})
        if len(set(attrs["measure"])) != len(attrs["measure"]):
            raise serializers.ValidationError({"measure": [_("指标不能重复")]})
        for key, kind in DICT_FILTERS.items():
            if key in attrs and not DictItem.objects.filter(pk=attrs[key], kind=kind).exists():
                raise serializers.ValidationError({key: [_("字典项不存在")]})
        for key in UNIT_FILTERS:
            if key in attrs and not Unit.objects.filter(pk=attrs[key]).exists():
                raise serializers.ValidationError({key: [_("单位不存在")]})
        return attrs


@dataclass
class Spec:
    """A validated cross-tab, scoped to its user."""

    rows: dims.Dimension
    cols: dims.Dimension | None
    measures: list[g.Grouped]
    period: selectors.Period
    scope: Scope
    filters: dict[str, Any]  # the validated filters (ids, channel, statuses)
    area: Unit | None
    params: dict[str, list[str]]  # the normalized parameters (saved with a report, in links)
    facts_as_of: dt.datetime | None = None  # set by run() when a figure came from the daily facts

    def describe(self) -> list[tuple[str, str]]:
        """The filter in words, as the sheet and the print state it."""
        lines = [
            (_("统计区间"), f"{self.period.first_day.isoformat()} — {self.period.last_day.isoformat()}"),
            (_("统计范围"), (_("%s及其下级单位") % self.scope.unit.name) if self.scope.unit else _("全市")),
            (_("行"), str(self.rows.name)),
        ]
        if self.cols:
            lines.append((_("列"), str(self.cols.name)))
        lines.append((_("指标"), "、".join(str(x.measure.name) for x in self.measures)))
        for key, value in self.filters.items():
            lines.append((str(FILTER_LABELS[key]), filter_label(key, value)))
        if self.facts_as_of is not None:
            lines.append(
                (
                    _("数据时效"),
                    _(
                        "今日数据实时；此前各日来自每日汇总，更新于 %s"
                        "（工单变动后通常 10 秒内汇总，按单位的效率与满意度指标约 1 分钟）"
                    )
                    % timezone.localtime(self.facts_as_of).strftime("%Y-%m-%d %H:%M:%S"),
                )
            )
        return lines


def filter_label(key: str, value: Any) -> str:
    if key in DICT_FILTERS:
        return str(DictItem.objects.filter(pk=value).values_list("name", flat=True).first() or value)
    if key in UNIT_FILTERS:
        return str(Unit.objects.filter(pk=value).values_list("name", flat=True).first() or value)
    if key == "channel":
        return str(dict(Channel.choices).get(value, value))
    if key == "status":
        labels = dict(CaseStatus.choices)
        return "、".join(str(labels.get(s, s)) for s in sorted(value))
    return str(value)


def _as_querydict(params: Mapping[str, Any]) -> QueryDict:
    if isinstance(params, QueryDict):
        return params
    qd = QueryDict(mutable=True)
    for key, value in params.items():
        qd.setlist(key, [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)])
    return qd


def parse(params: Mapping[str, Any], *, user: User) -> Spec:
    """The cross-tab a request asks for. Field errors → ValidationError (400); a unit outside the user's subtree
    → NotFound (404)."""
    qd = _as_querydict(params)
    clean = QueryDict(mutable=True)
    for key in qd:
        values = [v for item in qd.getlist(key) for v in str(item).split(",") if v != ""]
        if values:
            clean.setlist(key, values)
    errors: dict[str, Any] = {}
    form = CrosstabInput(data=clean)
    if not form.is_valid():
        errors.update(form.errors)
    try:
        period = selectors.period_from({k: clean.get(k, "") for k in ("period", "from", "to")})
    except serializers.ValidationError as exc:
        errors.update(exc.detail)  # type: ignore[arg-type]
    if errors:
        raise serializers.ValidationError(errors)
    data = form.validated_data
    scope = selectors.scope_for(user=user, period=period, unit_id=clean.get("unit"))
    measures = [g.REGISTRY[k] for k in data["measure"]]
    if scope.unit is not None:
        unscoped = [str(x.measure.name) for x in measures if not x.measure.unit_scoped]
        if unscoped:
            raise serializers.ValidationError(
                {"measure": [_("%s 不按单位统计，请选择全市范围") % "、".join(unscoped)]}
            )
    filters = {k: data[k] for k in FILTER_SEARCH if data.get(k) not in (None, "", set(), [])}
    if "status" in filters:
        filters["status"] = sorted(filters["status"])
    normalized: dict[str, list[str]] = {
        "rows": [data["rows"]],
        "measure": list(data["measure"]),
        "period": [period.kind],
    }
    if data.get("cols"):
        normalized["cols"] = [data["cols"]]
    if period.kind == "custom":
        normalized["from"], normalized["to"] = [period.first_day.isoformat()], [period.last_day.isoformat()]
    if clean.get("unit"):
        normalized["unit"] = [str(scope.unit.pk)] if scope.unit else []
    for key, value in filters.items():
        normalized[key] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return Spec(
        rows=dims.REGISTRY[data["rows"]],
        cols=dims.REGISTRY[data["cols"]] if data.get("cols") else None,
        measures=measures,
        period=period,
        scope=scope,
        filters=filters,
        area=Unit.objects.get(pk=filters["area"]) if "area" in filters else None,
        params=normalized,
    )


# --------------------------------------------------------------------------- running


@dataclass
class Cell:
    value: float | int | None
    numerator: int | None
    denominator: int
    url: str = ""
    suffix: str = ""  # "%" for a rate, " h" for a mean in hours


@dataclass
class Column:
    key: Any  # the column dimension's value, or None (a measure column / the total column)
    label: str
    measure: g.Grouped
    total: bool = False


@dataclass
class Row:
    key: Any
    label: str
    cells: list[Cell]
    total: bool = False
    drill_unit: int | None = None  # a rolled unit row: re-run the report inside that unit


@dataclass
class Table:
    spec: Spec
    columns: list[Column]
    rows: list[Row] = field(default_factory=list)


def _filter_q(spec: Spec, prefix: str) -> Q:
    q = Q()
    f = spec.filters
    for key in ("case_type", "nature", "urgency", "bureau", "district"):
        if key in f:
            q &= Q(**{f"{prefix}{key}_id": f[key]})
    if "channel" in f:
        q &= Q(**{f"{prefix}channel": f["channel"]})
    if "status" in f:
        q &= Q(**{f"{prefix}status__in": f["status"]})
    if spec.area is not None:
        q &= Q(**{f"{prefix}location_unit__path__startswith": spec.area.path})
    return q


def _base_for(spec: Spec, dim: dims.Dimension) -> Unit | None:
    if dim.base == "area":
        return spec.area
    return spec.scope.unit


def _group_field(
    spec: Spec, gm: g.Grouped, dim: dims.Dimension, qs: QuerySet[Any], alias: str
) -> QuerySet[Any]:
    if dim.kind == dims.TIME:
        assert dim.trunc is not None
        return qs.annotate(**{alias: dim.trunc(gm.time)})
    if dim.kind == dims.ROLLED:
        path = f"{gm.unit}__path" if dim.field == "@unit" else f"{gm.case}{dim.field}__path"
        from django.db.models import F

        return qs.annotate(**{alias: F(path)})
    from django.db.models import F

    column = f"{gm.case}{dim.field}" + ("_id" if (dim.dict_kind or dim.unit) else "")
    return qs.annotate(**{alias: F(column)})


def _key(spec: Spec, dim: dims.Dimension, raw: Any) -> Any:
    if dim.kind == dims.ROLLED:
        return dims.roll_up(raw, _base_for(spec, dim))
    if raw is None or raw == "":
        return dims.NONE_KEY
    return raw


def _direct_rows(
    spec: Spec, gm: g.Grouped, by: list[dims.Dimension]
) -> dict[tuple[Any, ...], tuple[Any, int]]:
    """{(raw value per dimension): (numerator, denominator)} of one measure, by aggregate queries on its rows."""
    qs = gm.rows(spec.scope).filter(_filter_q(spec, gm.case))
    aliases = []
    for i, dim in enumerate(by):
        alias = f"_d{i}"
        qs = _group_field(spec, gm, dim, qs, alias)
        aliases.append(alias)
    aggregates = {"den": gm.den()}
    if gm.num is not None:
        aggregates["num"] = gm.num()
    if aliases:
        rows = list(qs.values(*aliases).annotate(**aggregates).order_by())
    else:
        rows = [qs.aggregate(**aggregates)]
    out: dict[tuple[Any, ...], tuple[Any, int]] = {}
    for row in rows:
        num = row.get("num")
        if hasattr(num, "total_seconds"):
            num = num.total_seconds()
        out[tuple(row[a] for a in aliases)] = (num or 0, int(row["den"] or 0))
    return out


# Measures the daily facts hold (analytics/facts), and the fact column of each case-field dimension.
FACT_MEASURES = {"intake_volume": False, "first_contact_resolution": True}  # key → numerator is "answered"


def _fact_rows(
    spec: Spec, gm: g.Grouped, by: list[dims.Dimension]
) -> dict[tuple[Any, ...], tuple[Any, int]] | None:
    """The same figure from the daily facts (days before today) plus a direct count of today; None when the
    facts cannot answer (another measure, a rolled unit dimension, a place filter outside the report by place,
    a deep unit scope)."""
    from ..facts import units

    if gm.key in units.MEASURES:
        return _unit_fact_rows(spec, gm, by)
    if gm.key not in FACT_MEASURES:
        return None
    # by place (rolled up from the place of each case) with no other filter: the facts by place
    area = any(d.kind == dims.ROLLED and d.field == "location_unit" for d in by)
    if area and (set(spec.filters) - {"area"} or gm.key != "intake_volume"):
        return None
    if spec.area is not None and not area:
        return None
    columns: list[str] = []
    for dim in by:
        if dim.kind == dims.TIME:
            columns.append(dim.key)
        elif dim.kind == dims.FIELD and not area:
            columns.append(dim.field + ("_id" if (dim.dict_kind or dim.unit) else ""))
        elif dim.kind == dims.ROLLED and dim.field == "location_unit":
            columns.append("location_unit_id")
        else:
            return None
    from ..facts import read

    filters = _filter_q(spec, "")
    if spec.area is not None:  # the facts hold the place's id: its subtree's ids stand for the path prefix
        filters = Q(location_unit_id__in=Unit.objects.filter(path__startswith=spec.area.path).values("pk"))
    got = read.counts(
        spec.scope,
        tuple(columns),
        filters=filters,
        fcr=FACT_MEASURES[gm.key],
        live=lambda scope: _direct_rows(dataclasses.replace(spec, scope=scope), gm, by),
        area=area,
    )
    if got is not None and area:  # a place's id → its path, as the direct rows give it (rolled up by `_key`)
        got = _unit_ids_to_paths(got, [i for i, c in enumerate(columns) if c == "location_unit_id"])
    if got is not None and spec.facts_as_of is None:
        spec.facts_as_of = read.freshness()
    return got


def _unit_ids_to_paths(
    got: dict[tuple[Any, ...], tuple[Any, int]], positions: list[int]
) -> dict[tuple[Any, ...], tuple[Any, int]]:
    """Fact rows keyed by unit ids at `positions`, re-keyed by the units' paths (as the direct rows key them),
    the counts of keys that meet summed."""
    ids = {k[i] for k in got for i in positions if isinstance(k[i], int)}
    paths = dict(Unit.objects.filter(pk__in=ids).values_list("pk", "path"))
    merged: dict[tuple[Any, ...], list[Any]] = defaultdict(lambda: [0, 0])
    for k, (num, den) in got.items():
        key = tuple(paths.get(v, v) if i in positions and isinstance(v, int) else v for i, v in enumerate(k))
        merged[key][0] += num or 0
        merged[key][1] += den
    return {k: (v[0], v[1]) for k, v in merged.items()}


def _unit_fact_rows(
    spec: Spec, gm: g.Grouped, by: list[dims.Dimension]
) -> dict[tuple[Any, ...], tuple[Any, int]] | None:
    """A unit measure (unit efficiency, satisfaction) from the unit facts (`facts/units.py`) for the days
    before today, today directly; None when they cannot answer (a case filter, a dimension other than the
    handling unit and time)."""
    from ..facts import read, units

    if spec.filters or spec.area is not None:
        return None
    keys: list[str] = []
    for dim in by:
        if dim.kind == dims.TIME:
            keys.append(dim.key)
        elif dim.kind == dims.ROLLED and dim.field == "@unit":
            keys.append("unit")
        else:
            return None

    def live(scope: Scope, gm: g.Grouped = gm) -> dict[tuple[Any, ...], tuple[Any, int]]:
        return _direct_rows(dataclasses.replace(spec, scope=scope), gm, by)

    live_before = None
    if gm.key == units.SIGN_FOR:  # clocks not signed yet: late or not depends on now, counted directly
        unsigned = dataclasses.replace(
            gm, rows=lambda scope: gm.rows(scope).filter(assignment__signed_at__isnull=True)
        )
        live_before = functools.partial(live, gm=unsigned)
    got = units.counts(spec.scope, gm.key, tuple(keys), live=live, live_before=live_before)
    if got is None:
        return None
    if "unit" in keys:  # a unit's id → its path, as the direct rows give it (rolled up by `_key`)
        got = _unit_ids_to_paths(got, [keys.index("unit")])
    if spec.facts_as_of is None:
        spec.facts_as_of = read.freshness()
    return got


def _grouped_counts(
    spec: Spec, gm: g.Grouped, by: list[dims.Dimension]
) -> dict[tuple[Any, ...], tuple[Any, int]]:
    """{(key per dimension): (numerator, denominator)} of one measure grouped by `by` (rolled keys merged)."""
    raw = _fact_rows(spec, gm, by)
    if raw is None:
        raw = _direct_rows(spec, gm, by)
    out: dict[tuple[Any, ...], list[Any]] = defaultdict(lambda: [0, 0])
    for values, (num, den) in raw.items():
        key = tuple(_key(spec, dim, v) for dim, v in zip(by, values, strict=True))
        out[key][0] += num or 0
        out[key][1] += int(den or 0)
    return {k: (v[0], v[1]) for k, v in out.items()}


def run(spec: Spec) -> Table:
    rows_dim, cols_dim = spec.rows, spec.cols
    results: dict[str, dict[str, dict[tuple[Any, ...], tuple[Any, int]]]] = {}
    row_keys: set[Any] = set()
    col_keys: set[Any] = set()
    for gm in spec.measures:
        levels = {"rows": [rows_dim], "total": []}
        if cols_dim is not None:
            levels["cells"] = [rows_dim, cols_dim]
            levels["cols"] = [cols_dim]
        results[gm.key] = {name: _grouped_counts(spec, gm, by) for name, by in levels.items()}
        row_keys.update(k[0] for k in results[gm.key]["rows"])
        if cols_dim is not None:
            col_keys.update(k[0] for k in results[gm.key]["cols"])
    ordered_rows = rows_dim.order_and_label(row_keys, base=_base_for(spec, rows_dim))
    if cols_dim is not None:
        ordered_cols = cols_dim.order_and_label(col_keys, base=_base_for(spec, cols_dim))
        if len(ordered_rows) * (len(ordered_cols) + 1) > MAX_CELLS:
            raise serializers.ValidationError(
                {"rows": [_("结果超过 %d 格，请缩小范围或换用更粗的维度") % MAX_CELLS]}
            )
        gm = spec.measures[0]
        columns = [Column(k, label, gm) for k, label in ordered_cols] + [
            Column(None, _("合计"), gm, total=True)
        ]
    else:
        columns = [Column(None, str(x.measure.name), x) for x in spec.measures]
    table = Table(spec=spec, columns=columns)
    for key, label in [*ordered_rows, (None, _("合计"))]:
        cells = []
        for col in columns:
            res = results[col.measure.key]
            if key is None and (cols_dim is None or col.total):
                counts = res["total"].get((), (0, 0))
            elif key is None:
                counts = res["cols"].get((col.key,), (0, 0))
            elif cols_dim is None or col.total:
                counts = res["rows"].get((key,), (0, 0))
            else:
                counts = res["cells"].get((key, col.key), (0, 0))
            value, num, den = g.value_of(col.measure, *counts)
            suffix = {RATE: "%", AVERAGE: " h"}.get(col.measure.kind, "")
            cell = Cell(value, num, den, suffix=suffix)
            cell.url = drill_url(
                spec, col.measure, {rows_dim: key, **({cols_dim: col.key} if cols_dim else {})}
            )
            cells.append(cell)
        drill_unit = key if (rows_dim.key == "unit" and isinstance(key, int)) else None
        if drill_unit is not None and spec.scope.unit is not None and drill_unit == spec.scope.unit.pk:
            drill_unit = None
        table.rows.append(Row(key, label, cells, total=key is None, drill_unit=drill_unit))
    return table


def drill_url(spec: Spec, gm: g.Grouped, values: dict[dims.Dimension | None, Any]) -> str:
    """The case search listing the cases behind one cell (its denominator's cases), or "" where the search cannot
    reproduce the figure (a measure over assignments, clocks or callbacks; a value that is "none" or "other")."""
    if gm.drill is None or gm.time != "created_at":
        return ""
    start, end = spec.period.start, spec.period.end
    params: dict[str, Any] = dict(gm.drill)
    for key, value in spec.filters.items():
        params[FILTER_SEARCH[key]] = ",".join(value) if isinstance(value, list) else value
    if spec.scope.unit is not None:
        params["unit_tree"] = spec.scope.unit.pk
    for dim, value in values.items():
        if dim is None or value is None:
            continue
        if value in (dims.NONE_KEY, dims.OTHER_KEY):
            return ""
        if dim.kind == dims.TIME:
            lo, hi = dims.time_bounds(dim.key, value)
            start, end = max(start, lo), min(end, hi)
            continue
        if dim.key == "status" and "status" in spec.filters and value not in spec.filters["status"]:
            return ""
        if dim.kind == dims.ROLLED and value == getattr(_base_for(spec, dim), "pk", None):
            params["main_unit" if dim.field == "@unit" else "location_unit"] = value  # the base's own row
        else:
            params[dim.search] = value
    params["created_from"] = start.isoformat()
    params["created_to"] = end.isoformat()
    return f"{reverse('case-search')}?{urlencode(params)}"
