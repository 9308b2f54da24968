"""The default dictionaries a new platform starts with (ORG-5); admins edit them afterwards."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from .audit import audit_record
from .errors import ServiceError
from .models import DictItem, DictKind

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


def dict_item_save(
    *,
    kind: str,
    code: str,
    name: str,
    rank: int = 0,
    sort_order: int = 0,
    is_active: bool = True,
    actor: Any = None,
) -> tuple[DictItem, bool]:
    """Create or change the item `code` of dictionary `kind`; returns (item, created). Codes are stable ids."""
    errors: dict[str, list[str]] = {}
    if kind not in DictKind.values:
        errors["kind"] = [_("未知的字典：%(kind)s") % {"kind": kind}]
    if not code.strip() or len(code) > 32:
        errors["code"] = [_("编码不能为空，且不超过32个字符")]
    if not name.strip() or len(name) > 64:
        errors["name"] = [_("名称不能为空，且不超过64个字符")]
    if not 0 <= rank <= 32767:
        errors["rank"] = [_("级别须在0到32767之间")]
    if sort_order < 0:
        errors["sort_order"] = [_("排序不能为负数")]
    if errors:
        raise ServiceError(next(iter(errors.values()))[0], field_errors=errors)
    with transaction.atomic():
        item = DictItem.objects.select_for_update().filter(kind=kind, code=code).first()
        created = item is None
        before = {} if item is None else {"name": item.name, "rank": item.rank, "is_active": item.is_active}
        item = item or DictItem(kind=kind, code=code)
        item.name, item.rank, item.sort_order, item.is_active = name.strip(), rank, sort_order, is_active
        item.save()
        audit_record(
            actor=actor,
            action="create" if created else "update",
            obj=item,
            summary=f"{'新增' if created else '修改'}字典项 {DictKind(kind).label}/{code}",
            changes=None if created else {"before": before},
        )
    return item, created
