from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from pypinyin import Style, lazy_pinyin

from hotline.common import clock
from hotline.common.audit import audit_record
from hotline.common.errors import ServiceError

from .models import Role, Unit, UnitKind, User, UserRole

# Which kind of unit may sit under which parent kind (None = top level of the city).
ALLOWED_PARENTS: dict[str, set[str | None]] = {
    UnitKind.OFFICE: {None},
    UnitKind.BUREAU: {None, UnitKind.DISTRICT},
    UnitKind.DISTRICT: {None},
    UnitKind.STREET: {UnitKind.DISTRICT},
    UnitKind.COMMUNITY: {UnitKind.STREET},
}


def pinyin_initials(name: str) -> str:
    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).lower()


def unit_create(
    *,
    name: str,
    code: str,
    kind: str,
    parent: Unit | None = None,
    is_vertical: bool = False,
    phone: str = "",
    sort_order: int = 0,
    actor: User | None = None,
) -> Unit:
    parent_kind = parent.kind if parent else None
    if parent_kind not in ALLOWED_PARENTS[kind]:
        raise ServiceError(
            "上级单位类型不符合层级规则", field_errors={"parent": ["上级单位类型不符合层级规则"]}
        )
    if parent is not None and not parent.is_active:
        raise ServiceError("上级单位已撤销", field_errors={"parent": ["上级单位已撤销"]})
    with transaction.atomic():
        unit = Unit.objects.create(
            name=name,
            code=code,
            kind=kind,
            parent=parent,
            is_vertical=is_vertical and kind == UnitKind.BUREAU,
            pinyin=pinyin_initials(name),
            phone=phone,
            sort_order=sort_order,
        )
        unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
        unit.depth = (parent.depth + 1) if parent else 1
        unit.save(update_fields=["path", "depth"])
        audit_record(actor=actor, action="create", obj=unit, summary=f"新增单位 {name}")
    return unit


def unit_retire(*, unit: Unit, actor: User | None, merged_into: Unit | None = None) -> Unit:
    """Retire (or merge) a unit. Its cases and history stay; it can no longer receive new work."""
    if unit.children.filter(is_active=True).exists():
        raise ServiceError("该单位下仍有启用的下级单位，请先处理下级单位")
    if merged_into is not None and (not merged_into.is_active or merged_into.pk == unit.pk):
        raise ServiceError("并入单位无效", field_errors={"merged_into": ["并入单位无效"]})
    with transaction.atomic():
        unit.is_active = False
        unit.retired_at = clock.now()
        unit.merged_into = merged_into
        unit.save(update_fields=["is_active", "retired_at", "merged_into"])
        audit_record(
            actor=actor,
            action="update",
            obj=unit,
            summary=f"撤销单位 {unit.name}" + (f"，并入 {merged_into.name}" if merged_into else ""),
        )
    return unit


def user_create(
    *,
    username: str,
    password: str,
    full_name: str,
    unit: Unit | None,
    roles: Iterable[str],
    phone: str = "",
    actor: User | None = None,
) -> User:
    roles = list(roles)
    unknown = set(roles) - set(Role.values)
    if unknown:
        raise ServiceError(f"未知角色：{', '.join(sorted(unknown))}")
    with transaction.atomic():
        user = User.objects.create_user(
            username=username, password=password, full_name=full_name, unit=unit, phone=phone
        )
        UserRole.objects.bulk_create([UserRole(user=user, role=r) for r in roles])
        if Role.ADMIN in roles:
            user.is_staff = True
            user.is_superuser = True
            user.save(update_fields=["is_staff", "is_superuser"])
        audit_record(actor=actor, action="create", obj=user, summary=f"新增用户 {username}")
    return user
