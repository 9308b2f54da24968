from __future__ import annotations

from django.db.models import Q, QuerySet

from hotline.common.refcache import RefCache

from .models import Role, Unit, UnitKind, User

# The unit tree changes rarely; pages and intake read it from memory (see common/refcache.py).
UNITS = RefCache(Unit)


def unit_district(unit: Unit) -> Unit | None:
    """The district a unit belongs to (itself for a district); None for city-level units."""
    if unit.kind == UnitKind.DISTRICT:
        return unit
    for ancestor_id in unit.ancestor_ids:
        ancestor = UNITS.get(ancestor_id)
        if ancestor is not None and ancestor.kind == UnitKind.DISTRICT:
            return ancestor
    return None


def unit_search(*, query: str = "", kind: str | None = None, active_only: bool = True) -> QuerySet[Unit]:
    qs = Unit.objects.all()
    if active_only:
        qs = qs.filter(is_active=True)
    if kind:
        qs = qs.filter(kind=kind)
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(pinyin__startswith=query.lower()) | Q(code=query))
    return qs.order_by("depth", "sort_order", "id")


def sees_everything(user: User) -> bool:
    """The hotline office and city-level leaders see every case."""
    if user.is_superuser or user.in_office:
        return True
    return user.has_role(Role.LEADER) and user.unit is None


def visible_unit_filter(user: User, field: str = "unit") -> Q:
    """Q over a unit foreign key: the user's own unit, plus its whole subtree for unit leaders."""
    if user.unit is None:
        return Q(pk__in=[])
    if user.has_role(Role.UNIT_LEADER, Role.LEADER):
        return Q(**{f"{field}__path__startswith": user.unit.path})
    return Q(**{f"{field}_id": user.unit_id})
