"""The demo city's unit tree and its people, built through `orgs.services` so every row is audited."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field

from hotline.orgs.models import Role, Unit, UnitKind, User
from hotline.orgs.services import unit_create, user_create

from . import catalog


@dataclass(frozen=True)
class Account:
    username: str
    roles: tuple[str, ...]
    unit_code: str | None
    note: str = ""


# Office staff. The admin sits in the office too so that it sees every case in the API.
OFFICE_ACCOUNTS: tuple[Account, ...] = (
    Account("admin", (Role.ADMIN,), catalog.OFFICE_CODE, "超级用户，可进入 /admin/"),
    *(Account(f"agent{i}", (Role.AGENT,), catalog.OFFICE_CODE, "受理、回访") for i in range(1, 5)),
    Account("monitor1", (Role.MONITOR,), catalog.OFFICE_CODE, "班长质检、回访"),
    *(
        Account(f"dispatcher{i}", (Role.DISPATCHER,), catalog.OFFICE_CODE, "派单、审核、办结")
        for i in range(1, 4)
    ),
    Account("leader1", (Role.LEADER,), catalog.OFFICE_CODE, "领导批示"),
    Account("kbeditor1", (Role.KB_EDITOR,), catalog.OFFICE_CODE, "知识库编辑"),
    Account("kbreviewer1", (Role.KB_REVIEWER,), catalog.OFFICE_CODE, "知识库审核"),
)


def handler_username(code: str) -> str:
    return f"{code.lower()}_handler"


def leader_username(code: str) -> str:
    return f"{code.lower()}_leader"


@dataclass
class DemoOrg:
    """Lookups over the demo units and users; rebuilt from the database by `load_org()`."""

    units: dict[str, Unit]
    children: dict[int, list[Unit]]
    users: dict[str, User]
    handlers: dict[int, User] = field(default_factory=dict)
    leaders: dict[int, User] = field(default_factory=dict)
    _by_id: dict[int, Unit] = field(default_factory=dict, repr=False)

    @property
    def office(self) -> Unit:
        return self.units[catalog.OFFICE_CODE]

    def unit(self, code: str) -> Unit:
        return self.units[code]

    def of_kind(self, kind: str) -> list[Unit]:
        return [u for u in self.units.values() if u.kind == kind]

    @property
    def districts(self) -> list[Unit]:
        return self.of_kind(UnitKind.DISTRICT)

    @property
    def city_bureaus(self) -> list[Unit]:
        return [u for u in self.of_kind(UnitKind.BUREAU) if u.parent_id is None]

    @property
    def communities(self) -> list[Unit]:
        return self.of_kind(UnitKind.COMMUNITY)

    def children_of(self, unit: Unit, kind: str) -> list[Unit]:
        return [u for u in self.children.get(unit.pk, []) if u.kind == kind]

    def by_id(self, pk: int) -> Unit:
        if not self._by_id:
            self._by_id.update({u.pk: u for u in self.units.values()})
        return self._by_id[pk]

    def parent_of(self, unit: Unit) -> Unit | None:
        return self.by_id(unit.parent_id) if unit.parent_id else None

    def handler(self, unit: Unit) -> User:
        return self.handlers[unit.pk]

    def leader_of(self, unit: Unit) -> User:
        return self.leaders[unit.pk]

    def with_role(self, role: str) -> list[User]:
        return [u for u in self.users.values() if role in u.role_set]


def demo_exists() -> bool:
    return Unit.objects.filter(code=catalog.OFFICE_CODE).exists()


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def person_name(rng: random.Random) -> str:
    given = "".join(rng.choice(catalog.GIVEN_CHARS) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(catalog.SURNAMES) + given


class _Builder:
    def __init__(self, *, password: str, rng: random.Random) -> None:
        self.password = password
        self.rng = rng
        self.order = 0

    def unit(
        self, *, name: str, code: str, kind: str, parent: Unit | None = None, vertical: bool = False
    ) -> Unit:
        self.order += 1
        return unit_create(
            name=name,
            code=code,
            kind=kind,
            parent=parent,
            is_vertical=vertical,
            phone=f"0710-{86_000_000 + self.order * 17}",
            sort_order=self.order,
        )

    def user(self, username: str, unit: Unit | None, roles: tuple[str, ...]) -> User:
        return user_create(
            username=username,
            password=self.password,
            full_name=person_name(self.rng),
            unit=unit,
            roles=roles,
            phone=_phone(self.rng),
        )

    def unit_staff(self, unit: Unit, *, with_leader: bool) -> None:
        self.user(handler_username(unit.code), unit, (Role.UNIT_HANDLER,))
        if with_leader:
            self.user(leader_username(unit.code), unit, (Role.UNIT_LEADER,))


def _community_names(rural: bool, used: dict[str, int]) -> str:
    pool, suffix, key = (
        (catalog.VILLAGE_NAMES, "村", "village") if rural else (catalog.COMMUNITY_NAMES, "社区", "community")
    )
    index = used[key]
    used[key] += 1
    return pool[index % len(pool)] + suffix


def _build_district(b: _Builder, spec: catalog.DistrictSpec, used: dict[str, int]) -> None:
    district = b.unit(name=spec.name, code=spec.code, kind=UnitKind.DISTRICT)
    b.unit_staff(district, with_leader=True)
    for suffix, name in catalog.DISTRICT_BUREAUS:
        bureau = b.unit(name=spec.name + name, code=spec.code + suffix, kind=UnitKind.BUREAU, parent=district)
        b.unit_staff(bureau, with_leader=True)
    for s_index, street_name in enumerate(spec.streets, start=1):
        street = b.unit(
            name=street_name, code=f"{spec.code}S{s_index:02d}", kind=UnitKind.STREET, parent=district
        )
        b.unit_staff(street, with_leader=True)
        count = catalog.COMMUNITIES_PER_STREET + (
            1 if s_index == 1 and catalog.EXTRA_COMMUNITY_ON_FIRST_STREET else 0
        )
        for c_index in range(1, count + 1):
            community = b.unit(
                name=_community_names(spec.rural, used),
                code=f"{street.code}C{c_index:02d}",
                kind=UnitKind.COMMUNITY,
                parent=street,
            )
            b.unit_staff(community, with_leader=False)


def build_org(*, password: str, rng: random.Random) -> DemoOrg:
    """Create the office, bureaus, districts, streets, communities and one or two accounts for each."""
    b = _Builder(password=password, rng=rng)
    office = b.unit(name=catalog.OFFICE_NAME, code=catalog.OFFICE_CODE, kind=UnitKind.OFFICE)
    for account in OFFICE_ACCOUNTS:
        b.user(account.username, office, account.roles)
    for spec in catalog.CITY_BUREAUS:
        bureau = b.unit(name=spec.name, code=spec.code, kind=UnitKind.BUREAU, vertical=spec.is_vertical)
        b.unit_staff(bureau, with_leader=True)
    used: dict[str, int] = defaultdict(int)
    for district in catalog.DISTRICTS:
        _build_district(b, district, used)
    return load_org()


def load_org() -> DemoOrg:
    """Read the demo units and users back (used after building, and by the benchmark loader)."""
    units = {u.code: u for u in Unit.objects.order_by("sort_order", "id")}
    children: dict[int, list[Unit]] = defaultdict(list)
    for unit in units.values():
        if unit.parent_id:
            children[unit.parent_id].append(unit)
    users = {
        u.username: u for u in User.objects.select_related("unit").prefetch_related("roles").order_by("id")
    }
    for user in users.values():
        # Fill the cached role set from the prefetch so services do not query it again.
        user.__dict__["role_set"] = frozenset(r.role for r in user.roles.all())
    org = DemoOrg(units=units, children=dict(children), users=users)
    for user in users.values():
        if user.unit_id is None:
            continue
        if user.username.endswith("_handler"):
            org.handlers[user.unit_id] = user
        elif user.username.endswith("_leader"):
            org.leaders[user.unit_id] = user
    return org


def main_accounts(org: DemoOrg) -> list[tuple[str, str, str, str]]:
    """(username, roles, unit, note) of the accounts worth showing after seeding."""
    rows = [(a.username, a.roles, a.unit_code, a.note) for a in OFFICE_ACCOUNTS]
    d01, street, community = "D01", "D01S01", "D01S01C01"
    rows += [
        (handler_username(d01), (Role.UNIT_HANDLER,), d01, "区县承办人（可下派街道）"),
        (leader_username(d01), (Role.UNIT_LEADER,), d01, "区县领导（可看全区工单）"),
        (handler_username(street), (Role.UNIT_HANDLER,), street, "街道承办人（可下派社区）"),
        (leader_username(street), (Role.UNIT_LEADER,), street, "街道领导"),
        (handler_username(community), (Role.UNIT_HANDLER,), community, "社区承办人"),
        (handler_username("D01B01"), (Role.UNIT_HANDLER,), "D01B01", "区职能局承办人"),
        (handler_username("B04"), (Role.UNIT_HANDLER,), "B04", "市职能局承办人"),
        (leader_username("B04"), (Role.UNIT_LEADER,), "B04", "市职能局领导"),
        (handler_username("B12"), (Role.UNIT_HANDLER,), "B12", "垂直管理部门承办人"),
    ]
    result = []
    for username, roles, code, note in rows:
        unit = org.units.get(code) if code else None
        labels = "、".join(str(Role(r).label) for r in roles)
        result.append((username, labels, unit.name if unit else "", note))
    return result
