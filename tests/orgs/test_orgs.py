import pytest
from rest_framework.test import APIClient

from hotline.cases import services
from hotline.cases.models import AssignmentRole
from hotline.common.errors import ServiceError
from hotline.common.models import AuditLog
from hotline.orgs.models import UnitKind
from hotline.orgs.selectors import unit_district, unit_search
from hotline.orgs.services import unit_create, unit_retire


def test_unit_tree_paths_and_district(city):
    assert city.xingfu.path == f"/{city.east.pk}/{city.liyuan.pk}/{city.xingfu.pk}/"
    assert city.xingfu.depth == 3 and city.xingfu.is_descendant_of(city.east)
    assert unit_district(city.xingfu) == city.east and unit_district(city.housing) is None
    assert unit_district(city.east_cg) == city.east


def test_unit_kinds_follow_the_hierarchy(city):
    with pytest.raises(ServiceError):
        unit_create(name="错误社区", code="X1", kind=UnitKind.COMMUNITY, parent=city.east)
    with pytest.raises(ServiceError):
        unit_create(name="错误街道", code="X2", kind=UnitKind.STREET)


def test_retire_and_merge_keep_history(city, people):
    from tests.conftest import dispatched_to

    case = dispatched_to(city, people, city.guanshan)
    with pytest.raises(ServiceError):
        unit_retire(unit=city.liyuan, actor=None)  # still has active communities
    with pytest.raises(ServiceError, match="在办工单"):
        unit_retire(unit=city.guanshan, actor=None)  # its open assignment must be reassigned first
    case = services.case_reassign(
        case=case,
        actor=people.dispatcher,
        expected_version=case.version,
        targets=[services.Target(city.liyuan, AssignmentRole.MAIN)],
        opinion="关山街道撤并",
    )
    unit_retire(unit=city.guanshan, actor=people.dispatcher, merged_into=city.liyuan)
    city.guanshan.refresh_from_db()
    assert not city.guanshan.is_active and city.guanshan.merged_into == city.liyuan
    assert case.assignments.filter(unit=city.guanshan).exists()  # history stays
    assert city.guanshan not in unit_search(query="关山")
    assert city.guanshan in unit_search(query="关山", active_only=False)
    with pytest.raises(ServiceError):
        unit_create(name="新社区", code="X3", kind=UnitKind.COMMUNITY, parent=city.guanshan)


def test_pinyin_initials_search(city):
    assert list(unit_search(query="dhq")) == [city.east, city.east_cg]  # prefix match, tree order


def test_audit_log_is_append_only(city):
    row = AuditLog.objects.filter(object_type="orgs.unit").first()
    assert row is not None
    row.summary = "改写"
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        row.delete()


def test_repeated_failed_logins_lock_the_account(people):
    client = APIClient()
    for _ in range(5):
        assert (
            client.post("/api/v1/auth/token/", {"username": "agent", "password": "wrong"}).status_code == 400
        )
    locked = client.post("/api/v1/auth/token/", {"username": "agent", "password": "pw-123456"})
    assert locked.status_code in (400, 403, 429)
    other_user = client.post("/api/v1/auth/token/", {"username": "dispatcher", "password": "pw-123456"})
    assert other_user.status_code == 200 and other_user.json()["token"]
