"""Who may read, edit and review in which directory (KB-4).

Rights come from `Grant` rows on directories. A grant applies to the users it names (a role, a unit with or
without its sub-units, both, or — neither — everyone) and to every directory below, until a grant for the same
role/unit/scope further down replaces it. A user's rights in a directory are the union of the grants that
apply to them there. Knowledge-base administrators (system admins and the admins of a space) have every right
in their spaces. Editing or reviewing implies reading.

Every selector, search, export and API answer goes through `user_access`, computed once per request from two
queries; a user without read gets "not found", never a hint that the item exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from hotline.orgs.models import Role, User

from .models import Directory, Grant, Space

_generation = 0  # bumped by every change of directories or grants; invalidates memoised access


def bump_generation() -> None:
    global _generation
    _generation += 1


@dataclass(frozen=True)
class Rights:
    read: bool = False
    edit: bool = False
    review: bool = False

    def __or__(self, other: Rights) -> Rights:
        return Rights(self.read or other.read, self.edit or other.edit, self.review or other.review)

    def __bool__(self) -> bool:
        return self.read or self.edit or self.review


NONE = Rights()
FULL = Rights(True, True, True)


@dataclass
class Access:
    """One user's rights in every directory of every active space."""

    rights: dict[int, Rights]
    space_of: dict[int, int]
    admin_space_ids: frozenset[int]
    is_global_admin: bool
    parent_of: dict[int, int | None] = field(default_factory=dict)
    inactive_space_ids: frozenset[int] = frozenset()
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def of(self, directory_id: int) -> Rights:
        return self.rights.get(directory_id, NONE)

    def _ids(self, name: str) -> frozenset[int]:
        if name not in self._cache:
            self._cache[name] = frozenset(d for d, r in self.rights.items() if getattr(r, name))
        return self._cache[name]

    @property
    def readable(self) -> frozenset[int]:
        return self._ids("read")

    @property
    def editable(self) -> frozenset[int]:
        return self._ids("edit")

    @property
    def reviewable(self) -> frozenset[int]:
        return self._ids("review")

    @property
    def unreadable(self) -> frozenset[int]:
        return frozenset(self.space_of) - self.readable

    def can_read(self, directory_id: int) -> bool:
        return self.of(directory_id).read

    def can_edit(self, directory_id: int) -> bool:
        return self.of(directory_id).edit

    def can_review(self, directory_id: int) -> bool:
        return self.of(directory_id).review

    def is_admin(self, space_id: int) -> bool:
        return self.is_global_admin or space_id in self.admin_space_ids

    def readable_space_ids(self) -> frozenset[int]:
        return frozenset(self.space_of[d] for d in self.readable)

    def covering(self, ids: frozenset[int]) -> tuple[frozenset[int], frozenset[int]]:
        """Describe a set of directories compactly: (tops of whole subtrees inside `ids`, the other ids).
        Search filters then need a handful of subtree terms instead of one term per directory."""
        key = f"covering:{hash(ids)}:{len(ids)}"
        if key in self._cache:
            return self._cache[key]
        children: dict[int, list[int]] = {}
        for pk, parent in self.parent_of.items():
            if parent is not None:
                children.setdefault(parent, []).append(pk)
        whole: dict[int, bool] = {}

        def is_whole(pk: int) -> bool:
            if pk not in whole:
                whole[pk] = pk in ids and all(is_whole(c) for c in children.get(pk, ()))
            return whole[pk]

        tops = frozenset(
            pk
            for pk in ids
            if is_whole(pk) and not (self.parent_of.get(pk) and is_whole(self.parent_of[pk] or 0))
        )
        rest = frozenset(pk for pk in ids if not is_whole(pk))
        self._cache[key] = (tops, rest)
        return tops, rest


def is_global_admin(user: User) -> bool:
    return bool(user.is_superuser or user.has_role(Role.ADMIN))


def grant_applies(grant: Grant, user: User) -> bool:
    if grant.role and not user.has_role(grant.role):
        return False
    if grant.unit_id is None:
        return True
    if user.unit_id is None:
        return False
    if user.unit_id == grant.unit_id:
        return True
    return bool(
        grant.include_subunits and user.unit and grant.unit and user.unit.path.startswith(grant.unit.path)
    )


def compute_access(user: User, grants: Iterable[Grant] | None = None) -> Access:
    global_admin = is_global_admin(user)
    admin_spaces = frozenset(
        Space.objects.filter(is_active=True).values_list("id", flat=True)
        if global_admin
        else Space.objects.filter(is_active=True, admins=user).values_list("id", flat=True)
    )
    if grants is None:
        grants = Grant.objects.select_related("unit").filter(directory__space__is_active=True)
    own: dict[int, dict[tuple[str, int | None, bool], Rights]] = {}
    for grant in grants:
        if grant_applies(grant, user):
            rights = Rights(
                grant.can_read or grant.can_edit or grant.can_review, grant.can_edit, grant.can_review
            )
            own.setdefault(grant.directory_id, {})[grant.key] = rights
    effective: dict[int, dict[tuple[str, int | None, bool], Rights]] = {}
    rights_of: dict[int, Rights] = {}
    space_of: dict[int, int] = {}
    parent_of: dict[int, int | None] = {}
    rows = (
        Directory.objects.filter(space__is_active=True)
        .order_by("depth", "id")
        .values_list("id", "parent_id", "space_id")
    )
    for pk, parent_id, space_id in rows:
        inherited = effective.get(parent_id, {}) if parent_id else {}
        mine = own.get(pk)
        here = {**inherited, **mine} if mine else inherited
        effective[pk] = here
        space_of[pk] = space_id
        parent_of[pk] = parent_id
        if space_id in admin_spaces:
            rights_of[pk] = FULL
            continue
        total = NONE
        for r in here.values():
            total = total | r
        if total:
            rights_of[pk] = total
    inactive = frozenset(Space.objects.filter(is_active=False).values_list("id", flat=True))
    return Access(rights_of, space_of, admin_spaces, global_admin, parent_of, inactive)


def user_access(user: User) -> Access:
    """The user's access, memoised on the user object until directories or grants change."""
    memo = user.__dict__.get("_kb_access")
    if memo is not None and memo[0] == _generation:
        return memo[1]
    access = compute_access(user)
    user.__dict__["_kb_access"] = (_generation, access)
    return access
