"""The default dictionaries a new platform starts with (ORG-5); admins edit them afterwards."""

from __future__ import annotations

from typing import Any

from .models import DictKind

# (code, name, rank)
DEFAULTS: dict[str, list[tuple[str, str, int]]] = {
    DictKind.CASE_TYPE: [
        ("consult", "咨询", 0),
        ("complaint", "投诉", 0),
        ("report", "举报", 0),
        ("appeal", "申诉", 0),
        ("help", "求助", 0),
        ("suggest", "建议", 0),
        ("praise", "表扬", 0),
        ("message", "留言", 0),
    ],
    DictKind.NATURE: [
        ("urban", "城乡建设", 0),
        ("social_security", "劳动和社会保障", 0),
        ("education", "教育文体", 0),
        ("commerce", "商贸旅游", 0),
        ("health", "卫生计生", 0),
        ("environment", "环境保护", 0),
        ("transport", "交通运输", 0),
        ("public_security", "社会治安", 0),
        ("market", "市场监管", 0),
        ("other", "其他", 0),
    ],
    DictKind.RETURN_REASON: [
        ("not_our_duty", "不属于本单位职责", 0),
        ("wrong_location", "事发地不属于本辖区", 0),
        ("info_missing", "诉求信息不全无法办理", 0),
        ("already_handled", "已有其他渠道处理", 0),
        ("other", "其他原因", 0),
    ],
    DictKind.NOT_ACCEPTED_REASON: [
        ("litigation", "已进入诉讼、仲裁、行政复议程序", 0),
        ("not_gov", "不属于政府职能范围", 0),
        ("harass", "恶意骚扰或无实际诉求", 0),
        ("repeat", "重复诉求且已答复", 0),
        ("emergency", "属110/119/120/122紧急事项，已转交", 0),
        ("other", "其他", 0),
    ],
    DictKind.URGENCY: [("normal", "一般", 0), ("urgent", "紧急", 1), ("very_urgent", "特急", 2)],
    DictKind.SECRECY: [("none", "不保密", 0), ("citizen", "保密来电人信息", 1), ("full", "全部保密", 2)],
}


def seed_dictionaries(dict_item_model: Any) -> None:
    for kind, entries in DEFAULTS.items():
        for order, (code, name, rank) in enumerate(entries):
            dict_item_model.objects.get_or_create(
                kind=kind, code=code, defaults={"name": name, "rank": rank, "sort_order": order}
            )
