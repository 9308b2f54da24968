"""The dispatch catalogue: edits through the services, the xlsx import with its row report, the office screen."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.urls import reverse
from openpyxl import Workbook

from hotline.common.errors import NotAllowed, ServiceError
from hotline.dispatching import services
from hotline.dispatching.learning.shared_data import shared_data_dir
from hotline.dispatching.models import CatalogueImport, LocationRule, Matter
from hotline.orgs.models import UnitKind
from hotline.orgs.services import unit_create


def _xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


HEADER = ["一级事项", "二级事项", "三级事项", "承办单位", "属地规则", "关键词", "示例诉求"]


def test_matter_tree_and_validation(city, people):
    root = services.matter_create(actor=people.dispatcher, name="城乡建设")
    child = services.matter_create(
        actor=people.dispatcher,
        name="物业管理",
        parent=root,
        unit=city.housing,
        keywords="物业，业主委员会 物业费",
    )
    assert child.level == 2 and child.keywords == "物业, 业主委员会, 物业费"
    leaf = services.matter_create(actor=people.dispatcher, name="物业收费", parent=child, unit=city.housing)
    with pytest.raises(ServiceError) as too_deep:
        services.matter_create(actor=people.dispatcher, name="第四级", parent=leaf, unit=city.housing)
    assert "parent" in too_deep.value.field_errors
    with pytest.raises(ServiceError) as twice:
        services.matter_create(actor=people.dispatcher, name="物业管理", parent=root)
    assert "name" in twice.value.field_errors
    with pytest.raises(ServiceError) as office:
        services.matter_create(actor=people.dispatcher, name="热线", parent=root, unit=city.office)
    assert "unit" in office.value.field_errors
    with pytest.raises(ServiceError):
        services.matter_update(
            actor=people.dispatcher,
            matter=root,
            name="城乡建设",
            parent=leaf,
            unit=None,
            location_rule=LocationRule.UNIT,
            keywords="",
            examples="",
            is_active=True,
        )
    with pytest.raises(NotAllowed):
        services.matter_create(actor=people.agent, name="教育")
    with pytest.raises(NotAllowed):
        services.matter_create(actor=people.east, name="教育")


def test_import_reports_each_row(city, people):
    data = _xlsx(
        [
            HEADER,
            ["城乡建设", "物业管理", "物业收费", "市住建局", "", "物业费, 停车费", "物业乱收停车费"],
            ["城乡建设", "市政设施", "路灯", "", "事发地区县", "路灯", ""],
            ["税务", "发票", "", "B-TAX", "垂直管理部门", "发票", ""],
            ["城乡建设", "", "无二级", "市住建局", "", "", ""],
            ["教育", "学校", "", "不存在的局", "", "", ""],
            ["教育", "学校", "", "市住建局", "随便", "", ""],
            ["", "", "", "", "", "", ""],
        ]
    )
    record = services.catalogue_import(actor=people.dispatcher, data=data, file_name="catalogue.xlsx")
    assert (record.rows_total, record.rows_created, record.rows_updated, record.rows_failed) == (6, 3, 0, 3)
    errors = {r["row"]: r["message"] for r in record.report if r["status"] == "error"}
    assert set(errors) == {5, 6, 7}
    assert "二级" in errors[5] and "不存在的局" in errors[6] and "随便" in errors[7]
    lamp = Matter.objects.get(name="路灯")
    assert lamp.location_rule == LocationRule.DISTRICT and lamp.level == 3 and lamp.unit is None
    assert Matter.objects.get(name="发票").unit == city.tax
    assert not Matter.objects.filter(name="学校").exists()  # nothing of a bad row is saved
    again = services.catalogue_import(actor=people.dispatcher, data=data, file_name="catalogue.xlsx")
    assert (again.rows_created, again.rows_updated) == (0, 3)


def test_import_refuses_what_is_not_a_catalogue(people):
    with pytest.raises(ServiceError) as not_xlsx:
        services.catalogue_import(actor=people.dispatcher, data=b"plain text", file_name="a.xlsx")
    assert "file" in not_xlsx.value.field_errors
    with pytest.raises(ServiceError) as columns:
        services.catalogue_import(actor=people.dispatcher, data=_xlsx([["名称"], ["x"]]), file_name="a.xlsx")
    assert "一级事项" in columns.value.message
    assert not CatalogueImport.objects.exists()


SERVICE_ITEMS = (
    (shared_data_dir() or Path("/nonexistent")) / "service_items" / "guangan_district_service_items.csv"
)


@pytest.mark.skipif(not SERVICE_ITEMS.exists(), reason="shared data not present")
def test_import_a_real_district_catalogue(city, people):
    """广安区's 1,135 service items (shared data, not shipped): departments become units, items matters."""
    with open(SERVICE_ITEMS, encoding="utf-8") as handle:
        items = list(csv.DictReader(handle))
    departments = sorted({r["department"] for r in items})
    for i, name in enumerate(departments[:-1]):  # the last department has no unit: its rows must fail
        unit_create(name=name, code=f"GA-{i}", kind=UnitKind.BUREAU, parent=city.east)
    rows = [HEADER] + [
        [
            r["department"],
            r["main_item"] if r["main_item"] != "未分类" else "",
            r["item_name"],
            r["department"],
            "",
            "",
            "",
        ]
        if r["main_item"] != "未分类"
        else [r["department"], r["item_name"], "", r["department"], "", "", ""]
        for r in items
    ]
    record = services.catalogue_import(actor=people.dispatcher, data=_xlsx(rows), file_name="guangan.xlsx")
    missing = sum(1 for r in items if r["department"] == departments[-1])
    assert record.rows_total == len(items)
    assert record.rows_failed >= missing > 0
    assert record.rows_created + record.rows_updated + record.rows_failed == len(items)
    assert Matter.objects.filter(level=1).count() == len(departments) - 1


def test_screen_for_the_office_only(client, city, people):
    services.matter_create(actor=people.dispatcher, name="城乡建设", unit=city.housing, keywords="物业")
    client.force_login(people.dispatcher)
    page = client.get(reverse("dispatching:catalogue"))
    assert page.status_code == 200 and "城乡建设" in page.content.decode()
    bad = client.post(reverse("dispatching:settings"), {"threshold": "abc"})
    assert bad.status_code == 400 and "阈值" in bad.content.decode()
    upload = client.post(
        reverse("dispatching:import"),
        {"file": io.BytesIO(_xlsx([HEADER, ["教育", "学校", "", "市住建局", "", "学校", ""]]))},
    )
    assert upload.status_code == 200 and "新增 1" in upload.content.decode()
    client.force_login(people.east)
    assert client.get(reverse("dispatching:catalogue")).status_code == 403
    client.force_login(people.agent)
    assert client.post(reverse("dispatching:matter-save"), {"name": "x"}).status_code == 403
