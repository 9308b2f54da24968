"""The case reports of STAT-2 as presets of the cross-tab: each is a set of parameters, run by the same engine,
and can be saved (and adjusted) like any report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from hotline.common.models import DictItem, DictKind


@dataclass(frozen=True)
class Preset:
    key: str
    name: Any
    params: dict[str, list[str]]
    centre_only: bool = False  # a measure without a unit side (first-contact resolution)


def presets() -> list[Preset]:
    month = {"period": ["month"]}
    consult = (
        DictItem.objects.filter(kind=DictKind.CASE_TYPE, code="consult").values_list("pk", flat=True).first()
    )
    out = [
        Preset(
            "by_type", _("按诉求类型统计"), {**month, "rows": ["case_type"], "measure": ["intake_volume"]}
        ),
        Preset("by_bureau", _("按职能局统计"), {**month, "rows": ["bureau"], "measure": ["intake_volume"]}),
        Preset(
            "by_area",
            _("按区县及下级单位统计（事发地）"),
            {**month, "rows": ["area"], "measure": ["intake_volume"]},
        ),
        Preset(
            "by_channel", _("按来源渠道统计"), {**month, "rows": ["channel"], "measure": ["intake_volume"]}
        ),
        Preset("by_status", _("按工单状态统计"), {**month, "rows": ["status"], "measure": ["intake_volume"]}),
        Preset(
            "type_district_month",
            _("诉求类型 × 区县（按月）"),
            {"period": ["month"], "rows": ["case_type"], "cols": ["district"], "measure": ["intake_volume"]},
        ),
        Preset("extensions", _("延期情况"), {**month, "rows": ["unit"], "measure": ["extensions"]}),
        Preset(
            "unit_efficiency",
            _("单位办理效率"),
            {
                **month,
                "rows": ["unit"],
                "measure": [
                    "on_time_sign_for",
                    "on_time_completion",
                    "redispatch_rate",
                    "redo_rate",
                    "average_handling_hours",
                ],
            },
        ),
        Preset(
            "satisfaction_by_unit",
            _("各单位响应率、解决率、满意率"),
            {**month, "rows": ["unit"], "measure": ["response_rate", "solution_rate", "satisfaction"]},
        ),
    ]
    if consult is not None:
        out.append(
            Preset(
                "consult_fcr_by_bureau",
                _("咨询类一次办结率（按职能局）"),
                {
                    **month,
                    "rows": ["bureau"],
                    "measure": ["first_contact_resolution"],
                    "case_type": [str(consult)],
                },
                centre_only=True,
            )
        )
    return out


def preset(key: str) -> Preset | None:
    return next((p for p in presets() if p.key == key), None)
