"""Batch import and export of a directory as an .xlsx sheet (KB-1).

Export: the items the user may read in the directory and below, one row each, with the sub-directory path
relative to the exported directory. Import: the same columns (only 标题 and 内容 are required); missing
sub-directories are created; every row goes through `item_create`, so the review rules apply (a user with
review right publishes at once, others submit for review). All rows are checked first and nothing is saved
if any row is wrong: the answer lists every row's problem.
"""

from __future__ import annotations

import datetime as dt
import html
import io
from dataclasses import dataclass, field
from typing import Any

import openpyxl
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from hotline.common.errors import NotAllowed, ServiceError
from hotline.orgs.models import User

from . import extract, selectors, services
from .models import MAX_DEPTH, Directory, Item
from .permissions import user_access

COLUMNS = [
    "目录",
    "标题",
    "关键词",
    "内容",
    "生效时间",
    "失效时间",
    "公开",
    "状态",
    "浏览次数",
    "发布时间",
    "编号",
]
IMPORT_COLUMNS = {
    "目录": "path",
    "标题": "title",
    "关键词": "keywords",
    "内容": "content",
    "生效时间": "valid_from",
    "失效时间": "valid_to",
    "公开": "is_public",
}
MAX_ROWS = 5000
EXCEL_CELL_LIMIT = 32767


def _local(value: dt.datetime | None) -> dt.datetime | None:
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def directory_export(*, user: User, directory: Directory) -> bytes:
    items = selectors.item_list(user=user, filters=selectors.ItemFilters(directory=directory.pk)).order_by(
        "directory__path", "id"
    )
    names = dict(Directory.objects.filter(path__startswith=directory.path).values_list("pk", "name"))
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = directory.name[:31] or "知识"
    sheet.append(COLUMNS)
    base_depth = directory.depth
    for item in items.iterator(chunk_size=500):
        relative = item.directory.ancestor_ids[base_depth:]
        content = (
            item.content if len(item.content) <= EXCEL_CELL_LIMIT else item.content_text[:EXCEL_CELL_LIMIT]
        )
        sheet.append(
            [
                "/".join(names.get(i, "?") for i in relative),
                item.title,
                item.keywords,
                content,
                _local(item.valid_from),
                _local(item.valid_to),
                "是" if item.is_public else "否",
                item.get_state_display(),
                item.view_count,
                _local(item.published_at),
                item.pk,
            ]
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@dataclass
class ImportReport:
    created: int = 0
    published: int = 0
    pending: int = 0
    directories_created: int = 0
    errors: list[str] = field(default_factory=list)


def _as_datetime(value: Any, label: str) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time())
    else:
        text = str(value).strip().replace("/", "-")
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"{label}格式不正确（应为 2026-01-31 或 2026-01-31 08:00）") from exc
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _as_bool(value: Any) -> bool:
    return str(value or "").strip().lower() in {"是", "公开", "1", "true", "yes", "y"}


def _as_html(value: Any) -> str:
    text = str(value or "").strip()
    if "<" in text and ">" in text:
        return text
    return "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip())


def _read_rows(data: bytes) -> list[tuple[int, dict[str, Any]]]:
    try:
        extract.check_zip(data, "Excel")
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except extract.ExtractionError as exc:
        raise ServiceError(exc.message, field_errors={"file": [exc.message]}) from exc
    except Exception as exc:
        raise ServiceError("Excel文件无法读取", field_errors={"file": ["Excel文件无法读取"]}) from exc
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if not header:
            raise ServiceError("表格是空的", field_errors={"file": ["表格是空的"]})
        columns = {
            i: IMPORT_COLUMNS[str(h).strip()]
            for i, h in enumerate(header)
            if h and str(h).strip() in IMPORT_COLUMNS
        }
        if "title" not in columns.values() or "content" not in columns.values():
            message = "表头须包含“标题”和“内容”列（可选：目录、关键词、生效时间、失效时间、公开）"
            raise ServiceError(message, field_errors={"file": [message]})
        out: list[tuple[int, dict[str, Any]]] = []
        for number, row in enumerate(rows, start=2):
            if not any(v not in (None, "") for v in row):
                continue
            if len(out) >= MAX_ROWS:
                message = f"一次最多导入{MAX_ROWS}行"
                raise ServiceError(message, field_errors={"file": [message]})
            out.append((number, {name: row[i] if i < len(row) else None for i, name in columns.items()}))
        return out
    finally:
        workbook.close()


def directory_import(*, actor: User, directory: Directory, file: UploadedFile) -> ImportReport:
    if not user_access(actor).can_edit(directory.pk):
        raise NotAllowed("您没有该目录的编辑权限")
    if file.size is None or file.size > extract.MAX_FILE_BYTES:
        raise ServiceError("文件过大", field_errors={"file": ["文件过大"]})
    if extract.extension(file.name or "") != ".xlsx":
        raise ServiceError("请上传.xlsx文件", field_errors={"file": ["请上传.xlsx文件"]})
    rows = _read_rows(file.read())
    report = ImportReport()
    if not rows:
        raise ServiceError("表格中没有数据行", field_errors={"file": ["表格中没有数据行"]})
    with transaction.atomic():
        made: dict[str, Directory] = {"": directory}
        for number, values in rows:
            try:
                target = _directory_for(actor, directory, str(values.get("path") or "").strip(), made, report)
                data = services.ItemInput(
                    title=str(values.get("title") or ""),
                    content=_as_html(values.get("content")),
                    keywords=str(values.get("keywords") or ""),
                    valid_from=_as_datetime(values.get("valid_from"), "生效时间"),
                    valid_to=_as_datetime(values.get("valid_to"), "失效时间"),
                    is_public=_as_bool(values.get("is_public")),
                    change_note="批量导入",
                )
                with transaction.atomic():
                    item = services.item_create(actor=actor, directory=target, data=data)
            except ServiceError as exc:
                report.errors.append(f"第{number}行：{exc.message}")
                continue
            except ValueError as exc:
                report.errors.append(f"第{number}行：{exc}")
                continue
            report.created += 1
            if Item.objects.filter(pk=item.pk, published_version__isnull=False).exists():
                report.published += 1
            else:
                report.pending += 1
        if report.errors:
            transaction.set_rollback(True)
            message = f"导入失败：{len(report.errors)}行有误，未导入任何数据"
            raise ServiceError(message, field_errors={"rows": report.errors[:200]}, code="import_failed")
    return report


def _directory_for(
    actor: User, base: Directory, path: str, made: dict[str, Directory], report: ImportReport
) -> Directory:
    parts = [p.strip() for p in path.replace("\\", "/").split("/") if p.strip()]
    key = ""
    current = base
    for part in parts:
        key = f"{key}/{part}"
        if key in made:
            current = made[key]
            continue
        child = Directory.objects.filter(space_id=base.space_id, parent=current, name=part).first()
        if child is None:
            if current.depth >= MAX_DEPTH:
                raise ServiceError(f"目录“{path}”超过{MAX_DEPTH}级")
            child = services.directory_create(actor=actor, space=current.space, parent=current, name=part)
            report.directories_created += 1
        elif not user_access(actor).can_edit(child.pk):
            raise ServiceError(f"没有目录“{path}”的编辑权限")
        made[key] = child
        current = child
    return current
