"""Exports neutralise spreadsheet formulas (one helper for every export) and import back what they wrote."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from hotline.citizens.models import Citizen
from hotline.common.models import AuditLog
from hotline.common.spreadsheet import safe_cell, unescape_cell
from tests.conftest import as_user

PAYLOADS = ["=1+1", "+SUM(A1)", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.mark.parametrize("text", PAYLOADS)
def test_safe_cell_escapes_formula_starts_and_round_trips(text):
    assert safe_cell(text) == "'" + text and unescape_cell(safe_cell(text)) == text


def test_safe_cell_leaves_other_values():
    assert [safe_cell(v) for v in ("张三", "13812345678", 5, None, "'quoted")] == [
        "张三",
        "13812345678",
        5,
        None,
        "'quoted",
    ]


def test_citizen_exports_write_no_formula_and_are_audited(api, people):
    Citizen.objects.create(name="=HYPERLINK(1)", phone="13912340009", address="@cmd", notes="-1+1")
    client = as_user(api, people.agent)
    xlsx = client.get("/api/v1/citizens/export/", {"file_format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row]
    assert all(c.data_type != "f" for c in cells)
    assert {"'=HYPERLINK(1)", "'@cmd", "'-1+1"} <= {c.value for c in cells}
    text = client.get("/api/v1/citizens/export/", {"file_format": "csv"}).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][0] == "'=HYPERLINK(1)" and rows[1][9] == "'-1+1"
    audits = AuditLog.objects.filter(
        object_type="citizens.citizen", actor=people.agent, summary__startswith="导出"
    )
    assert audits.count() == 2 and audits.first().changes["rows"] == 1
    assert audits.first().changes["filter"] == {"file_format": "csv"}


def test_exported_citizens_import_back_unchanged(api, people):
    Citizen.objects.create(name="=张三", phone="13912340009")
    client = as_user(api, people.agent)
    data = client.get("/api/v1/citizens/export/", {"file_format": "csv"}).content
    Citizen.objects.all().delete()
    upload = io.BytesIO(data)
    upload.name = "back.csv"
    r = client.post("/api/v1/citizens/import/", {"file": upload}, format="multipart")
    assert r.status_code == 202, r.content
    from hotline.citizens.jobs import import_run

    import_run(job_id=r.json()["job"])
    assert Citizen.objects.get().name == "=张三"
