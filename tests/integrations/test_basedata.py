"""Base data (API-3): units, users and dictionaries exported and imported as xlsx / csv / JSON, on the screen and
through the signed partner API — good rows saved, bad rows reported, dry runs saving nothing, no way to make an
administrator."""

from __future__ import annotations

import io
import json

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from hotline.common.errors import ServiceError
from hotline.common.models import AuditLog, DictItem, DictKind
from hotline.integrations import basedata, signing
from hotline.integrations.models import Partner
from hotline.integrations.services import partner_create
from hotline.orgs.models import Role, Unit, User
from hotline.orgs.services import user_create

pytestmark = pytest.mark.django_db


def _csv(*lines: str) -> io.BytesIO:
    return io.BytesIO(("\n".join(lines) + "\n").encode("utf-8-sig"))


def test_an_exported_unit_file_imports_back_unchanged(city, admin_user):
    before = list(Unit.objects.order_by("pk").values_list("code", "name", "parent_id", "path"))
    body = basedata.export(kind="units", fmt="xlsx", actor=admin_user)
    sheet = load_workbook(io.BytesIO(body)).worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header == ["编码", "名称", "类型", "上级编码", "垂直管理", "联系电话", "排序"]
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["S-LIYUAN"][3] == "D-EAST" and rows["B-TAX"][4] == "是"

    report = basedata.import_file(
        kind="units", upload=io.BytesIO(body), file_name="units.xlsx", actor=admin_user
    )
    assert (report.created, report.updated, report.rejected) == (0, len(before), 0)
    assert list(Unit.objects.order_by("pk").values_list("code", "name", "parent_id", "path")) == before


def test_good_unit_rows_are_saved_and_bad_rows_reported(city, admin_user):
    upload = _csv(
        "编码,名称,类型,上级编码,垂直管理,联系电话,排序",
        "D-NORTH,北湖区,区县,,否,,5",
        "S-NORTH,北湖街道,街道乡镇,D-NORTH,否,,0",  # parent in the row above
        "C-BAD,孤儿社区,社区村居,S-LATER,否,,0",  # parent not known (yet)
        "X-1,某单位,火星,,否,,0",  # unknown kind
        "S-WRONG,错挂街道,街道乡镇,OFFICE,否,,0",  # a street under the office is not allowed
        "C-XINGFU,幸福社区（更名）,社区村居,S-LIYUAN,否,027-1,0",  # an update
    )
    report = basedata.import_file(kind="units", upload=upload, file_name="u.csv", actor=admin_user)
    assert (report.created, report.updated, report.rejected) == (2, 1, 3)
    assert {(e.row, e.column) for e in report.errors} >= {(4, "上级编码"), (5, "类型")}
    assert {e.row for e in report.errors} == {4, 5, 6}
    north = Unit.objects.get(code="S-NORTH")
    assert north.parent == Unit.objects.get(code="D-NORTH") and north.path.startswith(north.parent.path)
    assert not Unit.objects.filter(code__in=["C-BAD", "X-1", "S-WRONG"]).exists()
    assert Unit.objects.get(code="C-XINGFU").name == "幸福社区（更名）"
    assert AuditLog.objects.filter(
        object_type="integrations.basedata.units", summary__contains="新增2"
    ).exists()


def test_a_dry_run_saves_nothing_but_is_audited(city, admin_user):
    upload = _csv("编码,名称,类型", "D-SOUTH,南湖区,区县")
    report = basedata.import_file(
        kind="units", upload=upload, file_name="u.csv", actor=admin_user, dry_run=True
    )
    assert (report.created, report.rejected, report.dry_run) == (1, 0, True)
    assert not Unit.objects.filter(code="D-SOUTH").exists()
    assert AuditLog.objects.filter(summary__contains="试导入").count() == 1


def test_users_are_imported_without_a_password_and_never_as_administrators(city, people, admin_user):
    upload = _csv(
        "用户名,姓名,单位编码,角色,手机号,启用",
        "agent7,话务员七,OFFICE,话务员、派单员,13800000007,是",
        "root2,想当管理员,OFFICE,系统管理员,,是",
        "sysadmin,改管理员,OFFICE,话务员,,是",
        "east,东湖区承办人,D-EAST,承办人、单位领导,13800000008,是",
        "ghost,无单位,NOPE,话务员,,是",
        "bad name!,坏名字,OFFICE,话务员,,是",
    )
    report = basedata.import_file(kind="users", upload=upload, file_name="users.csv", actor=admin_user)
    assert (report.created, report.updated) == (1, 1)
    assert {e.row for e in report.errors} == {3, 4, 6, 7}
    new = User.objects.get(username="agent7")
    assert not new.has_usable_password() and new.role_set == {Role.AGENT, Role.DISPATCHER}
    assert not new.is_superuser
    assert not User.objects.filter(username__in=["root2", "ghost"]).exists()
    assert User.objects.get(username="sysadmin").full_name == "管理员"
    east = User.objects.get(username="east")
    assert east.role_set == {Role.UNIT_HANDLER, Role.UNIT_LEADER} and east.phone == "13800000008"


def test_dictionaries_round_trip_and_reject_unknown_kinds(city, admin_user):
    report = basedata.import_json(
        kind="dictionaries",
        data={
            "rows": [
                {"kind": "诉求类型", "code": "petition", "name": "信访转办", "sort_order": 9},
                {"kind": "case_type", "code": "complaint", "name": "投诉（含举报）"},
                {"kind": "颜色", "code": "red", "name": "红"},
                {"kind": "urgency", "code": "x", "name": "很急", "rank": "高"},
            ]
        },
        actor=admin_user,
    )
    assert (report.created, report.updated) == (1, 1)
    assert [(e.row, e.column) for e in report.errors] == [(3, "字典"), (4, "级别")]
    assert DictItem.objects.get(kind=DictKind.CASE_TYPE, code="petition").name == "信访转办"
    assert DictItem.objects.get(kind=DictKind.CASE_TYPE, code="complaint").name == "投诉（含举报）"
    exported = json.loads(basedata.export(kind="dictionaries", fmt="json", actor=admin_user))
    assert {
        "kind": "诉求类型",
        "code": "petition",
        "name": "信访转办",
        "rank": 0,
        "sort_order": 9,
        "is_active": "是",
    } in exported["rows"]


def test_the_screen_is_for_administrators_only(client, city, people, admin_user):
    client.force_login(people.dispatcher)
    assert client.get(reverse("integ-base-data")).status_code == 404
    assert client.get(reverse("integ-base-data-export", args=["users"])).status_code == 404
    client.force_login(admin_user)
    page = client.get(reverse("integ-base-data"))
    assert page.status_code == 200 and "基础数据交换" in page.content.decode()
    export = client.get(reverse("integ-base-data-export", args=["users"]) + "?format=csv")
    assert export.status_code == 200 and "dispatcher" in export.content.decode("utf-8-sig")
    assert client.get(reverse("integ-base-data-export", args=["users"]) + "?format=pdf").status_code == 400
    assert client.get(reverse("integ-base-data-export", args=["secrets"])).status_code == 404
    upload = _csv("编码,名称,类型", "D-SOUTH,南湖区,区县", "D-BAD,,区县")
    upload.name = "units.csv"
    page = client.post(reverse("integ-base-data"), {"kind": "units", "file": upload, "dry_run": ""})
    assert page.status_code == 200
    text = page.content.decode()
    assert "新增 1" in text and "拒绝 1" in text and Unit.objects.filter(code="D-SOUTH").exists()
    bad = io.BytesIO(b"not a spreadsheet")
    bad.name = "x.pdf"
    page = client.post(reverse("integ-base-data"), {"kind": "units", "file": bad})
    assert page.status_code == 400 and "只支持" in page.content.decode()


def _signed(client, partner, secret, method, path, body=b""):
    headers = signing.signed_headers(
        partner=partner.code, secret=secret.encode(), method=method, path=path, body=body
    )
    extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    if method == "GET":
        return client.get(path, **extra)
    return client.post(path, data=body, content_type="application/json", **extra)


def test_partners_exchange_base_data_with_the_scope_only(client, city, admin_user):
    service = user_create(
        username="svc-hr", password="pw-123456", full_name="人事系统", unit=city.office, roles=[]
    )
    partner, creds = partner_create(
        actor=admin_user, code="hr-system", name="人事系统", scopes=[Partner.Scope.BASE_DATA]
    )
    Partner.objects.filter(pk=partner.pk).update(service_user=service)
    path = reverse("partner-base-data", args=["units"])
    answer = _signed(client, partner, creds.secret, "GET", path)
    assert answer.status_code == 200, answer.content
    assert {"code": "OFFICE", "name": "市12345热线办"}.items() <= answer.json()["rows"][0].items()

    body = json.dumps(
        {"rows": [{"code": "D-SOUTH", "name": "南湖区", "kind": "district"}, {"code": "D-X"}]}
    ).encode()
    answer = _signed(client, partner, creds.secret, "POST", path, body)
    assert answer.status_code == 200, answer.content
    assert answer.json() | {"errors": []} == {
        "dry_run": False,
        "total": 2,
        "created": 1,
        "updated": 0,
        "rejected": 1,
        "errors": [],
    }
    assert Unit.objects.filter(code="D-SOUTH").exists()
    assert AuditLog.objects.filter(summary__contains="接入系统 hr-system", actor=service).exists()

    bad = _signed(client, partner, creds.secret, "POST", path, b'{"rows": "all"}')
    assert bad.status_code == 400 and "rows" in bad.json()["errors"]
    unknown = _signed(client, partner, creds.secret, "GET", reverse("partner-base-data", args=["secrets"]))
    assert unknown.status_code == 400

    other, other_creds = partner_create(actor=admin_user, code="other", name="无权系统", scopes=["ping"])
    refused = _signed(client, other, other_creds.secret, "GET", path)
    assert refused.status_code == 403 and refused.json()["reason"] == "scope"


def test_a_file_with_nul_characters_is_refused_whole(city, admin_user):
    upload = _csv("编码,名称,类型", "D-SOUTH,南湖区,区县", "D-NUL,坏\x00名字,区县")
    with pytest.raises(ServiceError) as refused:
        basedata.import_file(kind="units", upload=upload, file_name="u.csv", actor=admin_user)
    assert "第3行" in refused.value.message and "file" in refused.value.field_errors
    assert not Unit.objects.filter(code__in=["D-SOUTH", "D-NUL"]).exists()


def _citizen_partner(admin_user, city, scopes):
    service = user_create(
        username="svc-cit", password="pw-123456", full_name="民政系统", unit=city.office, roles=[]
    )
    partner, creds = partner_create(actor=admin_user, code="civil-affairs", name="民政系统", scopes=scopes)
    Partner.objects.filter(pk=partner.pk).update(service_user=service)
    partner.refresh_from_db()
    return partner, creds, service


def test_partners_exchange_citizens_with_the_personal_data_scope_only(client, city, admin_user):
    from hotline.citizens.models import Citizen
    from hotline.citizens.services import CitizenInput, citizen_create

    citizen_create(
        actor=admin_user,
        data=CitizenInput(name="王芳", phones=["13812345678"], id_card="11010519491231002X", gender="female"),
    )
    path = reverse("partner-base-data", args=["citizens"])
    base_only, base_creds = partner_create(
        actor=admin_user, code="hr-only", name="人事系统", scopes=[Partner.Scope.BASE_DATA]
    )
    refused = _signed(client, base_only, base_creds.secret, "GET", path)
    assert refused.status_code == 403 and refused.json()["reason"] == "scope"
    body = json.dumps({"rows": [{"name": "李雷", "phones": "13900001111"}]}).encode()
    assert _signed(client, base_only, base_creds.secret, "POST", path, body).status_code == 403
    assert not Citizen.objects.filter(name="李雷").exists()

    partner, creds, service = _citizen_partner(
        admin_user, city, [Partner.Scope.BASE_DATA, Partner.Scope.CITIZENS]
    )
    answer = _signed(client, partner, creds.secret, "GET", path)
    assert answer.status_code == 200, answer.content
    (row,) = answer.json()["rows"]
    assert row["name"] == "王芳" and row["phones"] == "13812345678" and row["gender"] == "女"
    assert row["id_card"] == "110105********002X"  # never in clear
    assert b"11010519491231002X" not in answer.content
    audit = AuditLog.objects.get(object_type="integrations.basedata.citizens", actor=service)
    assert audit.changes["rows"] == 1 and "接入系统 civil-affairs" in audit.summary

    rows = [
        {"name": "李雷", "phones": "13900001111;13900002222", "id_card": "110105199001011232"},
        {"name": "韩梅梅", "phones": "12"},  # a bad number: refused by the citizens validation
        row
        | {
            "address": "东湖区幸福路 1 号"
        },  # the exported row sent back: its masked ID card keeps the one on file
    ]
    dry = _signed(
        client, partner, creds.secret, "POST", path, json.dumps({"rows": rows, "dry_run": True}).encode()
    )
    assert dry.status_code == 200, dry.content
    assert dry.json() | {"errors": []} == {
        "dry_run": True, "total": 3, "created": 1, "updated": 1, "rejected": 1, "errors": [],
    }  # fmt: skip
    assert [(e["row"], e["column"]) for e in dry.json()["errors"]] == [(2, "电话")]
    assert not Citizen.objects.filter(name="李雷").exists()
    assert Citizen.objects.get(name="王芳").address == ""

    done = _signed(client, partner, creds.secret, "POST", path, json.dumps({"rows": rows}).encode())
    assert done.json()["created"] == 1 and done.json()["updated"] == 1 and done.json()["rejected"] == 1
    li = Citizen.objects.get(name="李雷")
    assert li.id_card == "110105199001011232" and sorted(p.number for p in li.phones.all()) == [
        "13900001111",
        "13900002222",
    ]
    wang = Citizen.objects.get(name="王芳")
    assert wang.address == "东湖区幸福路 1 号" and wang.id_card == "11010519491231002X"
    assert AuditLog.objects.filter(action="create", object_type__contains="citizen", actor=service).exists()


def test_citizens_export_as_xlsx_masks_id_cards_and_is_audited(city, admin_user):
    from hotline.citizens.services import CitizenInput, citizen_create

    citizen_create(
        actor=admin_user, data=CitizenInput(name="王芳", phones=["13812345678"], id_card="11010519491231002X")
    )
    body = basedata.export(kind="citizens", fmt="xlsx", actor=admin_user)
    sheet = load_workbook(io.BytesIO(body)).active
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    assert values[0][:3] == ["姓名", "性别", "电话"] and values[1][0] == "王芳"
    assert "110105********002X" in values[1] and "11010519491231002X" not in values[1]
    audit = AuditLog.objects.filter(object_type="integrations.basedata.citizens").latest("pk")
    assert audit.changes["rows"] == 1 and audit.actor == admin_user
    report = basedata.import_file(
        kind="citizens",
        upload=_csv("姓名,电话,身份证号", "张三,13700000000,123", "李四,13700000001,"),
        file_name="c.csv",
        actor=admin_user,
    )
    assert (report.created, report.rejected) == (1, 1) and report.errors[0].column == "身份证号"
