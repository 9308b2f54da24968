"""Bulk import/export: bad rows are reported row by row, good rows saved; files over the limit refused whole."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook, load_workbook

from hotline.citizens import importexport, jobs
from hotline.citizens.models import BlacklistEntry, Citizen, ImportJob, RelatedContact
from hotline.common.models import AuditLog
from tests.conftest import as_user

GOOD_ID = "11010519491231002X"
BAD_ID = "110105194912310021"  # wrong check digit


def xlsx(header, rows) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    out.name = "file.xlsx"
    return out


def csv_file(header, rows, name="file.csv") -> io.BytesIO:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    out = io.BytesIO(text.getvalue().encode("utf-8-sig"))
    out.name = name
    return out


CITIZEN_ROWS = [
    ["张三", "男", "13812345678;010-62345678", "", "幸福社区1栋", "", "", GOOD_ID, "重点", ""],
    ["李四", "女", "1381234", "", "", "", "", "", "普通", ""],  # wrong phone
    ["王五", "", "13912345678", "", "", "", "", BAD_ID, "普通", ""],  # bad ID checksum
    ["", "", "13712345678", "", "", "", "", "", "", ""],  # empty name
    ["赵六", "男", "13612345678", "", "", "", "", "", "超级", ""],  # bad level
]


def test_citizen_import_saves_good_rows_and_reports_bad_ones(people):
    report = importexport.import_citizens(
        upload=xlsx(importexport.CITIZEN_COLUMNS, CITIZEN_ROWS), file_name="a.xlsx", actor=people.agent
    )
    assert (report.total, report.created, report.updated, report.rejected) == (5, 1, 0, 4)
    by_row = {(e.row, e.column): e.message for e in report.errors}
    assert "电话号码格式不正确" in by_row[(3, "电话")]
    assert "校验位" in by_row[(4, "身份证号")]
    assert by_row[(5, "姓名")] == "请填写姓名"
    assert "级别" in by_row[(6, "级别")]
    citizen = Citizen.objects.get()
    assert citizen.name == "张三" and citizen.level == "vip" and citizen.id_card == GOOD_ID
    assert sorted(citizen.phones.values_list("number", flat=True)) == ["010-62345678", "13812345678"]
    job = ImportJob.objects.get()
    assert job.rejected_count == 4 and len(job.errors) == 4
    assert AuditLog.objects.filter(object_type="citizens.importjob").count() == 1


def test_citizen_import_updates_by_id_card_then_phone_and_dry_run_writes_nothing(people):
    importexport.import_citizens(
        upload=xlsx(importexport.CITIZEN_COLUMNS, CITIZEN_ROWS[:1]), file_name="a.xlsx", actor=people.agent
    )
    rows = [["张三", "男", "13800000000", "", "新地址", "", "", GOOD_ID, "普通", ""]]
    dry = importexport.import_citizens(
        upload=csv_file(importexport.CITIZEN_COLUMNS, rows),
        file_name="b.csv",
        actor=people.agent,
        dry_run=True,
    )
    assert (dry.created, dry.updated) == (0, 1) and Citizen.objects.get().address == "幸福社区1栋"
    importexport.import_citizens(
        upload=csv_file(importexport.CITIZEN_COLUMNS, rows), file_name="b.csv", actor=people.agent
    )
    citizen = Citizen.objects.get()
    assert citizen.address == "新地址" and citizen.phone == "13800000000"


def test_citizen_import_api_and_export_round_trip(api, people):
    client = as_user(api, people.agent)
    upload = csv_file(importexport.CITIZEN_COLUMNS, CITIZEN_ROWS)
    r = client.post("/api/v1/citizens/import/", {"file": upload}, format="multipart")
    assert r.status_code == 202, r.content
    queued = r.json()
    assert queued["status"] == "queued" and queued["expected_rows"] == 5 and not Citizen.objects.exists()
    jobs.import_run(job_id=queued["job"])
    body = client.get(queued["url"]).json()
    assert body["status"] == "done" and body["read_rows"] == 5
    assert body["created"] == 1 and body["rejected"] == 4 and body["errors"][0]["row"] == 3
    assert not ImportJob.objects.get().file  # the upload is not kept once read
    r = client.get("/api/v1/citizens/export/", {"file_format": "xlsx"})
    sheet = load_workbook(io.BytesIO(r.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == importexport.CITIZEN_COLUMNS and rows[1][7] == GOOD_ID
    # A unit handler may neither import nor see full numbers in an export.
    assert as_user(api, people.xingfu).post("/api/v1/citizens/import/", {"file": upload}).status_code == 403


def test_wrong_file_type_and_missing_columns(people):
    import pytest

    from hotline.common.errors import ServiceError

    other = io.BytesIO(b"x")
    with pytest.raises(ServiceError, match="xlsx 或 .csv"):
        importexport.import_citizens(upload=other, file_name="a.doc", actor=people.agent)
    with pytest.raises(ServiceError, match="缺少列：电话"):
        importexport.import_citizens(
            upload=csv_file(["姓名"], [["张三"]]), file_name="a.csv", actor=people.agent
        )


def test_contacts_import(people):
    importexport.import_citizens(
        upload=xlsx(importexport.CITIZEN_COLUMNS, CITIZEN_ROWS[:1]), file_name="a.xlsx", actor=people.agent
    )
    rows = [["13812345678", "张小三", "儿子", "13911112222", "", ""], ["13000000000", "无主", "", "", "", ""]]
    report = importexport.import_contacts(
        upload=csv_file(importexport.CONTACT_COLUMNS, rows), file_name="c.csv", actor=people.agent
    )
    assert report.created == 1 and report.errors[0].column == "市民电话"
    assert RelatedContact.objects.get().citizen.name == "张三"


BLACK_HEADER = importexport.BLACKLIST_COLUMNS


def test_blacklist_import_rows_and_errors(people):
    rows = [
        ["13812345678", "禁止呼入", "恶意骚扰", "2099-01-01", "转语音留言", ""],
        ["13912345678", "双向禁止", "辱骂坐席", "", "转指定坐席组", "G-SPECIAL"],
        ["1381234", "禁止呼入", "x", "", "", ""],  # wrong number
        ["13712345678", "禁止呼入", "", "", "", ""],  # no reason
        ["13612345678", "向上", "x", "", "", ""],  # bad direction
        ["13512345678", "禁止呼入", "x", "明天", "", ""],  # bad date
        ["13812345678", "禁止呼入", "重复", "", "", ""],  # duplicate in file
    ]
    report = importexport.import_blacklist(
        upload=csv_file(BLACK_HEADER, rows), file_name="b.csv", actor=people.dispatcher
    )
    assert report.created == 2 and report.rejected == 5
    assert {e.row for e in report.errors} == {4, 5, 6, 7, 8}
    entry = BlacklistEntry.objects.get(number="13912345678")
    assert (
        entry.direction == "both"
        and entry.treatment == "agent_group"
        and entry.treatment_target == "G-SPECIAL"
    )


def test_blacklist_import_refuses_10001_rows(api, people):
    rows = [[f"138{i:08d}", "禁止呼入", "骚扰", "", "", ""] for i in range(10_001)]
    r = as_user(api, people.dispatcher).post(
        "/api/v1/citizens/blacklist/import/", {"file": csv_file(BLACK_HEADER, rows)}, format="multipart"
    )
    assert r.status_code == 400
    assert "不能超过10,000行" in r.json()["detail"]
    assert BlacklistEntry.objects.count() == 0 and not ImportJob.objects.exists()


def test_blacklist_import_accepts_10000_rows_and_replaces(people):
    rows = [[f"138{i:08d}", "禁止呼入", "骚扰", "", "", ""] for i in range(10_000)]
    report = importexport.import_blacklist(
        upload=xlsx(BLACK_HEADER, rows), file_name="b.xlsx", actor=people.dispatcher
    )
    assert report.created == 10_000 and BlacklistEntry.objects.count() == 10_000
    again = importexport.import_blacklist(
        upload=csv_file(BLACK_HEADER, [["13800000001", "双向禁止", "更新", "", "", ""]]),
        file_name="b.csv",
        actor=people.dispatcher,
    )
    assert again.updated == 1 and BlacklistEntry.objects.get(number="13800000001").direction == "both"
