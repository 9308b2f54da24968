"""Imports: size and row limits checked before parsing; the work runs in a background job with progress."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from openpyxl import Workbook

from hotline.citizens import importexport, jobs
from hotline.citizens.models import Citizen, ImportJob
from hotline.common.errors import ServiceError
from tests.conftest import as_user


def _xlsx(rows: int, *, dimension: bool = True) -> bytes:
    book = Workbook(write_only=not dimension)
    sheet = book.create_sheet() if not dimension else book.active
    sheet.append(importexport.CITIZEN_COLUMNS)
    for i in range(rows):
        sheet.append([f"市民{i}", "", f"139{i:08d}", "", "", "", "", "", "", ""])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_row_limit_is_checked_without_parsing(people, monkeypatch):
    monkeypatch.setattr(importexport, "CITIZEN_MAX_ROWS", 100)
    monkeypatch.setitem(jobs.RUNNERS, "citizens", (importexport.import_citizens, 100, "市民"))

    def no_parsing(*args, **kwargs):
        raise AssertionError("the file was parsed")

    monkeypatch.setattr(importexport, "read_rows", no_parsing)
    for data, name in ((_xlsx(101), "a.xlsx"), (_xlsx(101, dimension=False), "b.xlsx")):
        with pytest.raises(ServiceError, match="不能超过100行"):
            jobs.import_queue(kind="citizens", upload=SimpleUploadedFile(name, data), actor=people.agent)
    csv = ("姓名,电话\n" + "".join(f"张{i},139{i:08d}\n" for i in range(101))).encode()
    with pytest.raises(ServiceError, match="不能超过100行"):
        jobs.import_queue(kind="citizens", upload=SimpleUploadedFile("c.csv", csv), actor=people.agent)
    assert not ImportJob.objects.exists()
    job = jobs.import_queue(
        kind="citizens", upload=SimpleUploadedFile("d.xlsx", _xlsx(100)), actor=people.agent
    )
    assert job.expected_rows == 100


def test_size_limit_answers_400_before_reading(api, people):
    with override_settings(HOTLINE_MAX_IMPORT_BYTES=1000):
        upload = SimpleUploadedFile("big.csv", b"a,b\n" * 500)
        r = as_user(api, people.agent).post("/api/v1/citizens/import/", {"file": upload}, format="multipart")
    assert r.status_code == 400 and "file" in r.json()["errors"]


def test_any_upload_over_the_request_cap_is_refused(api, people):
    with override_settings(HOTLINE_MAX_UPLOAD_BYTES=10_000):
        upload = SimpleUploadedFile("big.csv", b"a,b\n" * 5000)
        r = as_user(api, people.agent).post("/api/v1/citizens/import/", {"file": upload}, format="multipart")
    assert r.status_code in (400, 413) and not ImportJob.objects.exists()


def test_a_zip_bomb_is_refused_before_parsing(people, monkeypatch):
    monkeypatch.setattr(jobs, "MAX_UNPACKED_BYTES", 10_000)
    with pytest.raises(ServiceError, match="解压后过大"):
        jobs.import_queue(
            kind="citizens", upload=SimpleUploadedFile("a.xlsx", _xlsx(2000)), actor=people.agent
        )


def test_job_reports_progress_and_the_row_report(people, monkeypatch):
    monkeypatch.setattr(importexport, "PROGRESS_EVERY", 500)
    job = jobs.import_queue(
        kind="citizens", upload=SimpleUploadedFile("a.xlsx", _xlsx(1200)), actor=people.agent
    )
    assert job.status == "queued" and job.expected_rows == 1200 and Citizen.objects.count() == 0
    seen: list[int] = []

    def watched(**kwargs):
        write_progress = importexport.progress_callback.get()

        def spy(rows_read: int) -> None:
            write_progress(rows_read)
            seen.append(ImportJob.objects.get(pk=job.pk).read_rows)  # what a poll of the job shows now

        token = importexport.progress_callback.set(spy)
        try:
            return importexport.import_citizens(**kwargs)
        finally:
            importexport.progress_callback.reset(token)

    monkeypatch.setitem(jobs.RUNNERS, "citizens", (watched, importexport.CITIZEN_MAX_ROWS, "市民"))
    done = jobs.import_run(job_id=job.pk)
    assert seen == [500, 1000]
    assert done is not None and done.status == "done" and done.read_rows == 1200
    assert done.created_count == 1200 and Citizen.objects.count() == 1200
    assert jobs.import_run(job_id=job.pk) is None  # claimed once only


def test_dry_run_job_writes_nothing_but_reports(people):
    job = jobs.import_queue(
        kind="citizens", upload=SimpleUploadedFile("a.xlsx", _xlsx(3)), actor=people.agent, dry_run=True
    )
    done = jobs.import_run(job_id=job.pk)
    assert done.status == "done" and done.created_count == 3 and not Citizen.objects.exists()


def test_a_file_that_fails_whole_marks_the_job_failed(people):
    job = jobs.import_queue(
        kind="citizens", upload=SimpleUploadedFile("a.csv", "姓名\n张三\n".encode()), actor=people.agent
    )
    done = jobs.import_run(job_id=job.pk)
    assert done.status == "failed" and "缺少列" in done.message and not done.file
