"""Bulk imports run as background jobs (CIT-1): the request only checks the file's size and row count — without
parsing it — stores it privately and queues a job; a worker (Celery, or the embedded `run_worker`) reads it,
reporting progress, and leaves the row-by-row report on the job.

Why: reading a 7.5 MB xlsx with openpyxl costs ~40 s of CPU; in a request that holds a web worker and can be
repeated by anyone allowed to import.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Callable
from typing import IO, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hotline.common import clock
from hotline.common.audit import audit_record
from hotline.common.errors import ServiceError

from . import importexport
from .models import ImportJob, ImportKind, ImportStatus

# (runner, row limit, what is imported: a lazily translated name)
RUNNERS: dict[str, tuple[Callable[..., importexport.ImportReport], int, Any]] = {
    ImportKind.CITIZENS: (importexport.import_citizens, importexport.CITIZEN_MAX_ROWS, gettext_lazy("市民")),
    ImportKind.CONTACTS: (
        importexport.import_contacts,
        importexport.CONTACT_MAX_ROWS,
        gettext_lazy("相关联系人"),
    ),
    ImportKind.BLACKLIST: (
        importexport.import_blacklist,
        importexport.BLACKLIST_MAX_ROWS,
        gettext_lazy("黑名单"),
    ),
}
# An xlsx is a zip: its sheets may not unpack to more than this (a "zip bomb" is refused before parsing).
MAX_UNPACKED_BYTES = 200 * 1024 * 1024


def _too_many(limit: int, what: str) -> ServiceError:
    return ServiceError(
        _("%(what)s导入文件不能超过%(limit)s行，请拆分后分批导入") % {"what": what, "limit": f"{limit:,}"},
        field_errors={"file": [_("超过%(limit)s行") % {"limit": f"{limit:,}"}]},
        code="too_many_rows",
    )


def _csv_rows(upload: IO[bytes]) -> int:
    upload.seek(0)
    lines, last = 0, b""
    while chunk := upload.read(1 << 20):
        lines += chunk.count(b"\n")
        last = chunk
    upload.seek(0)
    return max(lines - (0 if last.endswith(b"\n") else -1) - 1, 0)  # less the header


_DIMENSION = re.compile(rb'<dimension ref="[A-Z]+\d+(?::[A-Z]+(\d+))?"')


def _xlsx_rows(upload: IO[bytes], limit: int) -> int:
    """Rows of the first sheet, from the zip's directory and the sheet's own XML — without openpyxl."""
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            infos = archive.infolist()
            if sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
                raise ServiceError(
                    _("Excel 文件解压后过大"), field_errors={"file": [_("文件解压后过大")]}, code="too_large"
                )
            sheets = sorted(
                i.filename for i in infos if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", i.filename)
            )
            if not sheets:
                raise ServiceError(
                    _("无法读取 Excel 文件，请确认是 .xlsx 格式"), field_errors={"file": [_("文件无法读取")]}
                )
            with archive.open(sheets[0]) as sheet:
                head = sheet.read(4096)
                match = _DIMENSION.search(head)
                if match and match.group(1):
                    return int(match.group(1)) - 1
                # No dimension written: count the row elements, streaming (cheap next to parsing).
                rows, tail = head.count(b"<row"), head[-8:]
                while chunk := sheet.read(1 << 20):
                    rows += (tail + chunk).count(b"<row") - tail.count(b"<row")
                    tail = chunk[-8:]
                    if rows > limit + 1:
                        break
                return max(rows - 1, 0)
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError) as exc:
        raise ServiceError(
            _("无法读取 Excel 文件，请确认是 .xlsx 格式"), field_errors={"file": [_("文件无法读取")]}
        ) from exc
    finally:
        upload.seek(0)


def check_upload(*, upload: UploadedFile, kind: str) -> int:
    """Size and row limits, before any parsing. Returns the expected number of data rows."""
    _run, limit, what = RUNNERS[kind]
    max_bytes = settings.HOTLINE_MAX_IMPORT_BYTES
    if upload.size is None or upload.size > max_bytes:
        message = _("导入文件不能超过 %(mb)d MB") % {"mb": max_bytes // (1024 * 1024)}
        raise ServiceError(message, field_errors={"file": [message]}, code="too_large")
    name = (upload.name or "").lower()
    if name.endswith(".xlsx"):
        rows = _xlsx_rows(upload, limit)
    elif name.endswith((".csv", ".txt")):
        rows = _csv_rows(upload)
    else:
        raise ServiceError(
            _("只支持 .xlsx 或 .csv 文件"), field_errors={"file": [_("只支持 .xlsx 或 .csv 文件")]}
        )
    if rows > limit:
        raise _too_many(limit, what)
    return rows


def import_queue(*, kind: str, upload: UploadedFile, actor: Any, dry_run: bool = False) -> ImportJob:
    """Check the file (size, rows) and queue its import; the job's id answers at once."""
    expected = check_upload(upload=upload, kind=kind)
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind,
            status=ImportStatus.QUEUED,
            dry_run=dry_run,
            file=upload,
            file_name=(upload.name or "")[:200],
            expected_rows=expected,
            language=translation.get_language() or "",
            actor=actor if getattr(actor, "pk", None) else None,
            created_at=clock.now(),
        )
        audit_record(
            actor=actor,
            action="create",
            obj=job,
            summary=f"提交{ImportKind(kind).label}导入：{job.file_name}（约{expected}行）",
        )
        if settings.CELERY_BROKER_URL:
            from .tasks import import_task

            transaction.on_commit(lambda: import_task.delay(job.pk))
    return job


def import_run(*, job_id: int) -> ImportJob | None:
    """Run one queued job (claimed atomically, so two workers never run the same one)."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING
    )
    if not claimed:
        return None
    job = ImportJob.objects.select_related("actor").get(pk=job_id)
    run = RUNNERS[job.kind][0]

    def progress(rows_read: int) -> None:
        ImportJob.objects.filter(pk=job.pk).update(read_rows=rows_read)

    token = importexport.progress_callback.set(progress)
    try:
        with job.file.open("rb") as handle, translation.override(job.language or settings.LANGUAGE_CODE):
            report = run(
                upload=handle, file_name=job.file_name, actor=job.actor, dry_run=job.dry_run, job=job
            )
        job.status, job.message = ImportStatus.DONE, ""
        job.read_rows = report.total
    except ServiceError as exc:
        job.status, job.message = ImportStatus.FAILED, exc.message[:300]
        job.errors = [
            {"row": 0, "column": "", "message": m} for ms in (exc.field_errors or {}).values() for m in ms
        ]
    except Exception:
        job.status, job.message = ImportStatus.FAILED, _("导入失败（系统错误），请联系管理员")
        raise
    finally:
        importexport.progress_callback.reset(token)
        job.finished_at = clock.now()
        job.file.delete(save=False)  # personal data: the upload is not kept once read
        job.save(
            update_fields=[
                "status",
                "message",
                "errors",
                "read_rows",
                "finished_at",
                "file",
                "total_rows",
                "created_count",
                "updated_count",
                "rejected_count",
            ]
        )
    return job


def import_run_due(*, limit: int = 2) -> int:
    """For the embedded worker: run the oldest queued jobs."""
    ids = list(
        ImportJob.objects.filter(status=ImportStatus.QUEUED)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in ids if import_run(job_id=pk) is not None)


def job_data(job: ImportJob) -> dict[str, Any]:
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "status_display": job.get_status_display(),
        "dry_run": job.dry_run,
        "file_name": job.file_name,
        "expected_rows": job.expected_rows,
        "read_rows": job.read_rows,
        "progress": min(100, round(100 * job.read_rows / job.expected_rows)) if job.expected_rows else 0,
        "total": job.total_rows,
        "created": job.created_count,
        "updated": job.updated_count,
        "rejected": job.rejected_count,
        "errors": job.errors,
        "message": job.message,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }
