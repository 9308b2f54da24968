"""Issue 10 (ORG-1, ORG-2): units added or moved in Django admin go through the orgs service (path, depth,
scope), a move re-paths the whole subtree, and the retire/merge screen shows what happens before it acts."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from hotline.cases.models import Assignment
from hotline.common.errors import ServiceError
from hotline.common.models import AuditLog
from hotline.orgs.models import Role, Unit, UnitKind, User
from hotline.orgs.selectors import visible_unit_filter
from hotline.orgs.services import unit_create, unit_retire, unit_update, user_create
from tests.conftest import City, People, dispatched_to


@pytest.fixture
def admin_client(city: City) -> Client:
    root = user_create(
        username="root", password="pw-123456", full_name="管理员", unit=city.office, roles=[Role.ADMIN]
    )
    client = Client()
    client.force_login(root)
    return client


def _form(unit: Unit | None = None, **values: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"name": "", "code": "", "kind": "", "parent": "", "phone": "", "sort_order": 0}
    if unit is not None:
        data.update(
            name=unit.name,
            code=unit.code,
            kind=unit.kind,
            parent=unit.parent_id or "",
            sort_order=unit.sort_order,
        )
    data.update(values)
    return data


def _visible_assignments(user: User) -> set[int]:
    return set(Assignment.objects.filter(visible_unit_filter(user)).values_list("unit_id", flat=True))


def test_a_unit_added_in_admin_gets_its_path_and_its_leader_sees_only_its_subtree(
    city: City, people: People, admin_client: Client
) -> None:
    dispatched_to(city, people, city.xingfu)  # an east-district case
    response = admin_client.post(
        "/admin/orgs/unit/add/",
        _form(name="西湖新街道", code="S-WEST-NEW", kind=UnitKind.STREET, parent=city.west.pk),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    unit = Unit.objects.get(code="S-WEST-NEW")
    assert unit.path == f"/{city.west.pk}/{unit.pk}/" and unit.depth == 2 and unit.pinyin == "xhxjd"
    leader = user_create(
        username="newleader", password="pw-123456", full_name="新", unit=unit, roles=[Role.UNIT_LEADER]
    )
    assert _visible_assignments(leader) == set()  # before the fix: path "" matched every unit
    assert AuditLog.objects.filter(object_type="orgs.unit", object_id=str(unit.pk), action="create").exists()


def test_admin_refuses_a_unit_that_breaks_the_tree_rules(city: City, admin_client: Client) -> None:
    response = admin_client.post(
        "/admin/orgs/unit/add/",
        _form(name="错误社区", code="X-1", kind=UnitKind.COMMUNITY, parent=city.east.pk),
    )
    assert response.status_code == 200 and "上级单位类型不符合层级规则" in response.content.decode()
    response = admin_client.post(
        f"/admin/orgs/unit/{city.liyuan.pk}/change/",
        _form(city.liyuan, parent=city.xingfu.pk, kind=UnitKind.STREET),
    )
    assert response.status_code == 200
    assert not Unit.objects.filter(code="X-1").exists()
    assert Unit.objects.get(pk=city.liyuan.pk).parent_id == city.east.pk


def test_moving_a_street_in_admin_repaths_its_subtree_and_moves_the_scope(
    city: City, people: People, admin_client: Client
) -> None:
    case = dispatched_to(city, people, city.xingfu)
    east_units = set(case.assignments.values_list("unit_id", flat=True))  # 梨园街道 and 幸福社区
    west_leader = user_create(
        username="west_leader", password="pw-123456", full_name="西", unit=city.west, roles=[Role.UNIT_LEADER]
    )
    assert _visible_assignments(people.east_leader) == east_units
    assert _visible_assignments(west_leader) == set()
    response = admin_client.post(
        f"/admin/orgs/unit/{city.liyuan.pk}/change/", _form(city.liyuan, parent=city.west.pk)
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    liyuan, xingfu, heping = (Unit.objects.get(pk=u.pk) for u in (city.liyuan, city.xingfu, city.heping))
    assert liyuan.path == f"/{city.west.pk}/{liyuan.pk}/"
    assert xingfu.path == f"/{city.west.pk}/{liyuan.pk}/{xingfu.pk}/" and xingfu.depth == 3
    assert heping.path == f"/{city.west.pk}/{liyuan.pk}/{heping.pk}/"
    people.east_leader.refresh_from_db()
    assert _visible_assignments(people.east_leader) == set()
    assert _visible_assignments(west_leader) == east_units


def test_subtree_repath_by_the_service_and_no_cycles(city: City) -> None:
    east2 = unit_create(name="南湖区", code="D-SOUTH", kind=UnitKind.DISTRICT)
    unit_update(
        unit=city.liyuan, actor=None, name="梨园街道", code="S-LIYUAN", kind=UnitKind.STREET, parent=east2
    )
    assert city.liyuan.path == f"/{east2.pk}/{city.liyuan.pk}/"
    paths = dict(Unit.objects.filter(path__startswith=f"/{east2.pk}/").values_list("pk", "path"))
    assert set(paths) == {east2.pk, city.liyuan.pk, city.xingfu.pk, city.heping.pk}
    assert all(
        path.startswith(city.liyuan.path)
        for pk, path in paths.items()
        if pk not in (east2.pk, city.liyuan.pk)
    )
    assert not Unit.objects.filter(path__startswith=f"/{city.east.pk}/{city.liyuan.pk}/").exists()
    with pytest.raises(ServiceError, match="层级规则|下级单位"):
        unit_update(
            unit=city.east,
            actor=None,
            name="东湖区",
            code="D-EAST",
            kind=UnitKind.DISTRICT,
            parent=city.xingfu,
        )
    with pytest.raises(ServiceError, match="编码"):
        unit_update(
            unit=city.heping,
            actor=None,
            name="和平",
            code="C-XINGFU",
            kind=UnitKind.COMMUNITY,
            parent=city.liyuan,
        )


def test_retire_and_merge_screen_shows_what_happens_then_acts(
    city: City, people: People, admin_client: Client
) -> None:
    dispatched_to(city, people, city.xingfu)
    page = admin_client.get(f"/admin/orgs/unit/{city.xingfu.pk}/retire/").content.decode()
    assert 'data-testid="impact-open-work"><td>在办工单' in page and "<td>1</td>" in page and "xingfu" in page
    assert 'data-testid="impact-blocked"' in page and "disabled" in page
    response = admin_client.post(
        f"/admin/orgs/unit/{city.xingfu.pk}/retire/", {"merged_into": city.heping.pk}
    )
    assert response.status_code == 200 and "请先改派或办结" in response.content.decode()
    assert Unit.objects.get(pk=city.xingfu.pk).is_active

    # Only into a unit of the same kind.
    with pytest.raises(ServiceError, match="同类型"):
        unit_retire(unit=city.guanshan, actor=None, merged_into=city.east)
    # 关山街道 has no open work: merge it into 梨园街道; its user moves there, its history stays.
    page = admin_client.get(f"/admin/orgs/unit/{city.guanshan.pk}/retire/").content.decode()
    assert "impact-blocked" not in page and "guanshan" in page
    response = admin_client.post(
        f"/admin/orgs/unit/{city.guanshan.pk}/retire/", {"merged_into": city.liyuan.pk}
    )
    assert response.status_code == 302
    guanshan = Unit.objects.get(pk=city.guanshan.pk)
    assert not guanshan.is_active and guanshan.merged_into_id == city.liyuan.pk and guanshan.retired_at
    user = User.objects.get(pk=people.guanshan.pk)
    assert user.unit_id == city.liyuan.pk and user.is_active and user.has_role(Role.UNIT_HANDLER)
    assert AuditLog.objects.filter(object_type="orgs.user", object_id=str(user.pk)).exists()
    assert "已并入 梨园街道" in admin_client.get(f"/admin/orgs/unit/{guanshan.pk}/retire/").content.decode()
    # Retired units are read-only in admin and never deleted.
    assert admin_client.get(f"/admin/orgs/unit/{guanshan.pk}/delete/").status_code == 403
    admin_client.post(f"/admin/orgs/unit/{guanshan.pk}/change/", _form(guanshan, name="改名"))
    assert Unit.objects.get(pk=guanshan.pk).name == "关山街道"

    # Retiring without a merge disables the unit's users.
    admin_client.post(f"/admin/orgs/unit/{city.west_comm.pk}/retire/", {"merged_into": ""})
    assert not Unit.objects.get(pk=city.west_comm.pk).is_active


def test_paths_left_wrong_by_the_old_admin_are_repaired(city: City) -> None:
    from hotline.orgs.treefix import repair_unit_paths

    Unit.objects.filter(pk=city.heping.pk).update(path="", depth=1)  # added in admin before the fix
    Unit.objects.filter(pk=city.liyuan.pk).update(parent=city.west)  # moved in admin: subtree left stale
    assert repair_unit_paths(Unit) == 3  # 梨园 and its two communities (和平 had no path at all)
    heping = Unit.objects.get(pk=city.heping.pk)
    assert heping.path == f"/{city.west.pk}/{city.liyuan.pk}/{city.heping.pk}/" and heping.depth == 3
    assert Unit.objects.get(pk=city.xingfu.pk).path.startswith(f"/{city.west.pk}/")
    assert repair_unit_paths(Unit) == 0
