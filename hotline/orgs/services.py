from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _
from pypinyin import Style, lazy_pinyin

from hotline.common import clock
from hotline.common.audit import audit_record
from hotline.common.errors import ServiceError

from .impact import OpenWork, open_work
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


def unit_check_placement(*, kind: str, parent: Unit | None, unit: Unit | None = None) -> None:
    """Refuse a unit of `kind` under `parent` that breaks the tree rules (kinds, retired parent, a cycle)."""
    parent_kind = parent.kind if parent else None
    if kind not in ALLOWED_PARENTS:
        raise ServiceError(_("单位类型无效"), field_errors={"kind": [_("单位类型无效")]})
    if parent_kind not in ALLOWED_PARENTS[kind]:
        raise ServiceError(
            _("上级单位类型不符合层级规则"), field_errors={"parent": [_("上级单位类型不符合层级规则")]}
        )
    if parent is not None and not parent.is_active:
        raise ServiceError(_("上级单位已撤销"), field_errors={"parent": [_("上级单位已撤销")]})
    if unit is not None and unit.pk is not None:
        if parent is not None and (parent.pk == unit.pk or parent.path.startswith(unit.path)):
            raise ServiceError(
                _("不能移到本单位或其下级单位之下"),
                field_errors={"parent": [_("不能移到本单位或其下级单位之下")]},
            )
        child_kinds = set(unit.children.filter(is_active=True).values_list("kind", flat=True))
        if any(kind not in ALLOWED_PARENTS[child] for child in child_kinds):
            raise ServiceError(
                _("该单位的下级单位不能隶属于此类型的单位"),
                field_errors={"kind": [_("下级单位类型与之不符")]},
            )


def _check_code(code: str, unit: Unit | None = None) -> None:
    taken = Unit.objects.filter(code=code)
    if unit is not None and unit.pk is not None:
        taken = taken.exclude(pk=unit.pk)
    if not code.strip():
        raise ServiceError(_("请填写单位编码"), field_errors={"code": [_("请填写单位编码")]})
    if taken.exists():
        raise ServiceError(_("单位编码已被使用"), field_errors={"code": [_("单位编码已被使用")]})


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
    unit_check_placement(kind=kind, parent=parent)
    _check_code(code)
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


def _repath_subtree(unit: Unit, new_path: str, new_depth: int) -> int:
    """Give `unit` and everything below it the paths and depths of its new place; returns rows changed."""
    old_path, delta = unit.path, new_depth - unit.depth
    rows = list(Unit.objects.select_for_update().filter(path__startswith=old_path))
    for row in rows:
        row.path = new_path + row.path[len(old_path) :]
        row.depth = row.depth + delta
    Unit.objects.bulk_update(rows, ["path", "depth"], batch_size=500)
    unit.path, unit.depth = new_path, new_depth
    return len(rows)


def unit_update(
    *,
    unit: Unit,
    actor: User | None,
    name: str,
    code: str,
    kind: str,
    parent: Unit | None,
    is_vertical: bool = False,
    phone: str = "",
    sort_order: int = 0,
) -> Unit:
    """Change a unit; a new parent moves its whole subtree (paths and depths of every unit below)."""
    from .selectors import UNITS

    if not unit.is_active:
        raise ServiceError(_("已撤销的单位不能修改"))
    with transaction.atomic():
        current = Unit.objects.select_for_update().get(pk=unit.pk)
        unit_check_placement(kind=kind, parent=parent, unit=current)
        _check_code(code, current)
        before = {
            "name": current.name,
            "code": current.code,
            "kind": current.kind,
            "parent": current.parent_id,
        }
        moved = current.parent_id != (parent.pk if parent else None)
        current.name, current.code, current.kind, current.parent = name, code, kind, parent
        current.is_vertical = is_vertical and kind == UnitKind.BUREAU
        current.pinyin = pinyin_initials(name)
        current.phone, current.sort_order = phone, sort_order
        current.save()
        changed = 0
        if moved:
            changed = _repath_subtree(
                current, f"{parent.path if parent else '/'}{current.pk}/", (parent.depth + 1) if parent else 1
            )
        after = {"name": name, "code": code, "kind": kind, "parent": parent.pk if parent else None}
        summary = f"修改单位 {name}" + (
            f"，移至 {parent.name if parent else '市级'}（{changed} 个单位）" if moved else ""
        )
        audit_record(
            actor=actor,
            action="update",
            obj=current,
            summary=summary,
            changes={k: [before[k], after[k]] for k in before if before[k] != after[k]},
        )
        transaction.on_commit(UNITS._invalidate)
    UNITS._invalidate()
    for field in (
        "name",
        "code",
        "kind",
        "parent",
        "is_vertical",
        "pinyin",
        "phone",
        "sort_order",
        "path",
        "depth",
    ):
        setattr(unit, field, getattr(current, field))
    return unit


@dataclass(frozen=True)
class RetireImpact:
    """What retiring (or merging) a unit does, shown on the retire screen before anyone confirms."""

    active_children: list[Unit]
    open_work: list[OpenWork]
    users: list[User]

    @property
    def blocked_by(self) -> list[str]:
        reasons = []
        if self.active_children:
            reasons.append(
                _("该单位下仍有 %(n)d 个启用的下级单位，请先撤销或移走下级单位")
                % {"n": len(self.active_children)}
            )
        for work in self.open_work:
            if work.count:
                reasons.append(
                    _("该单位仍有%(work)s %(n)d 件，请先改派或办结") % {"work": work.label, "n": work.count}
                )
        return reasons


def unit_retire_impact(*, unit: Unit) -> RetireImpact:
    return RetireImpact(
        active_children=list(unit.children.filter(is_active=True).order_by("sort_order", "id")),
        open_work=open_work(unit),
        users=list(User.objects.filter(unit=unit, is_active=True).order_by("username")),
    )


def unit_retire(*, unit: Unit, actor: User | None, merged_into: Unit | None = None) -> Unit:
    """Retire (or merge) a unit. Its cases, events and audit history stay with it (it is never deleted) and
    it receives no new work. Retiring needs the unit empty of open work and active sub-units. Its active
    users move to the unit it is merged into (roles kept), or are disabled when it is simply retired."""
    from .selectors import UNITS

    if not unit.is_active:
        raise ServiceError(_("该单位已撤销"))
    if merged_into is not None and (
        not merged_into.is_active or merged_into.pk == unit.pk or merged_into.path.startswith(unit.path)
    ):
        raise ServiceError(_("并入单位无效"), field_errors={"merged_into": [_("并入单位无效")]})
    if merged_into is not None and merged_into.kind != unit.kind:
        raise ServiceError(
            _("只能并入同类型的单位"), field_errors={"merged_into": [_("只能并入同类型的单位")]}
        )
    with transaction.atomic():
        Unit.objects.select_for_update().filter(pk=unit.pk).first()  # one retire at a time
        impact = unit_retire_impact(unit=unit)
        if impact.blocked_by:
            raise ServiceError("；".join(impact.blocked_by))
        unit.is_active = False
        unit.retired_at = clock.now()
        unit.merged_into = merged_into
        unit.save(update_fields=["is_active", "retired_at", "merged_into"])
        for user in impact.users:
            if merged_into is not None:
                user.unit = merged_into
                user.save(update_fields=["unit"])
                audit_record(
                    actor=actor,
                    action="update",
                    obj=user,
                    summary=f"用户 {user.username} 随单位合并由 {unit.name} 转入 {merged_into.name}",
                    changes={"unit": [unit.pk, merged_into.pk]},
                )
            else:
                user.is_active = False
                user.save(update_fields=["is_active"])
                audit_record(
                    actor=actor,
                    action="update",
                    obj=user,
                    summary=f"用户 {user.username} 因单位 {unit.name} 撤销而停用",
                    changes={"is_active": [True, False]},
                )
        audit_record(
            actor=actor,
            action="update",
            obj=unit,
            summary=f"撤销单位 {unit.name}"
            + (f"，并入 {merged_into.name}" if merged_into else "")
            + f"（用户 {len(impact.users)} 名{'转入' if merged_into else '停用'}）",
        )
    UNITS._invalidate()
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
        raise ServiceError(_("未知角色：%(role)s") % {"role": ", ".join(sorted(unknown))})
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


def user_update(
    *,
    user: User,
    full_name: str,
    unit: Unit | None,
    roles: Iterable[str],
    phone: str = "",
    is_active: bool = True,
    actor: User | None = None,
) -> User:
    """Change a user's name, unit, phone, roles and whether it may sign in; audited with what was before."""
    wanted = set(roles)
    unknown = wanted - set(Role.values)
    if unknown:
        raise ServiceError(_("未知角色：%(role)s") % {"role": ", ".join(sorted(unknown))})
    with transaction.atomic():
        current = User.objects.select_for_update().get(pk=user.pk)
        had = sorted(current.roles.values_list("role", flat=True))
        before = {
            "full_name": current.full_name,
            "unit": current.unit_id,
            "phone": current.phone,
            "is_active": current.is_active,
            "roles": had,
        }
        current.full_name, current.unit, current.phone, current.is_active = full_name, unit, phone, is_active
        if (Role.ADMIN in had) != (
            Role.ADMIN in wanted
        ):  # the admin role carries Django's staff/superuser flags
            current.is_staff = current.is_superuser = Role.ADMIN in wanted
        current.save(update_fields=["full_name", "unit", "phone", "is_active", "is_staff", "is_superuser"])
        current.roles.exclude(role__in=wanted).delete()
        UserRole.objects.bulk_create(
            [UserRole(user=current, role=r) for r in sorted(wanted)], ignore_conflicts=True
        )
        current.__dict__.pop("role_set", None)
        audit_record(
            actor=actor,
            action="update",
            obj=current,
            summary=f"修改用户 {current.username}",
            changes={"before": before},
        )
    return current
