"""Batch import and export of a directory as an .xlsx sheet or a .zip with attachments (KB-1).

Export: the items the user may read in the directory and below, one row each, with the sub-directory path
relative to the exported directory. Import: the same columns (only 标题 and 内容 are required); missing
sub-directories are created; every row goes through `item_create`, so the review rules apply (a user with
review right publishes at once, others submit for review). All rows are checked first and nothing is saved
if any row is wrong: the answer lists every row's problem.

Zip: `items.xlsx` at the top of the archive (the sheet above plus a 附件 column listing, one per line, the
paths of the item's files inside the archive) and the files themselves, exported as
`attachments/<编号>/<file name>`. The import checks the whole archive before reading any entry: not a zip,
over HOTLINE_KB_MAX_IMPORT_ZIP_BYTES, too many entries, an unpacked size or compression ratio typical of a
zip bomb, encrypted entries, symbolic links and unsafe paths (absolute, `..`, drive letters, backslashes)
are refused with a 400 and a Chinese message; nothing is ever extracted to disk. A row naming a file that is
not in the archive, or a file of an unsupported type or size, is a row error. The import is all or nothing:
on any error the transaction is rolled back and the attachment files already written to storage are
deleted again.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import mimetypes
import os
import posixpath
import re
import stat
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import openpyxl
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.common.errors import NotAllowed, ServiceError
from hotline.common.spreadsheet import safe_row, unescape_cell
from hotline.orgs.models import User

from . import extract, selectors, services
from .models import MAX_DEPTH, Attachment, Directory, Item
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
ZIP_COLUMNS = {**IMPORT_COLUMNS, "附件": "attachments"}
MAX_ROWS = 5000
EXCEL_CELL_LIMIT = 32767
ZIP_SHEET = "items.xlsx"
ZIP_FOLDER = "attachments"
MAX_IMPORT_ZIP_BYTES = int(os.environ.get("HOTLINE_KB_MAX_IMPORT_ZIP_BYTES", str(100 * 1024 * 1024)))
MAX_ZIP_ENTRIES = 2000


def _local(value: dt.datetime | None) -> dt.datetime | None:
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def _export_items(user: User, directory: Directory) -> Any:
    return selectors.item_list(user=user, filters=selectors.ItemFilters(directory=directory.pk)).order_by(
        "directory__path", "id"
    )


def _workbook(
    user: User, directory: Directory, attachment_paths: Callable[[Item], list[str]] | None = None
) -> bytes:
    items = _export_items(user, directory)
    names = dict(Directory.objects.filter(path__startswith=directory.path).values_list("pk", "name"))
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = directory.name[:31] or "知识"
    sheet.append([*COLUMNS, "附件"] if attachment_paths else COLUMNS)
    base_depth = directory.depth
    for item in items.iterator(chunk_size=500):
        relative = item.directory.ancestor_ids[base_depth:]
        content = (
            item.content if len(item.content) <= EXCEL_CELL_LIMIT else item.content_text[:EXCEL_CELL_LIMIT]
        )
        row = [
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
        if attachment_paths:
            row.append("\n".join(attachment_paths(item)))
        sheet.append(safe_row(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def directory_export(*, user: User, directory: Directory) -> bytes:
    return _workbook(user, directory)


_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def _archive_name(name: str) -> str:
    cleaned = _UNSAFE_NAME.sub("_", name).strip(" .") or "附件"
    return cleaned[:150]


def directory_export_zip(*, user: User, directory: Directory) -> bytes:
    """The sheet as `items.xlsx` and each exported item's published attachments under
    `attachments/<编号>/`."""
    version_of = dict(
        _export_items(user, directory)
        .filter(published_version__isnull=False)
        .values_list("pk", "published_version_id")
    )
    links = Attachment.versions.through.objects.filter(itemversion_id__in=version_of.values())
    by_version: dict[int, list[int]] = {}
    for version_id, attachment_id in links.values_list("itemversion_id", "attachment_id").order_by(
        "attachment_id"
    ):
        by_version.setdefault(version_id, []).append(attachment_id)
    attachments = Attachment.objects.in_bulk([a for ids in by_version.values() for a in ids])
    written: dict[int, list[str]] = {}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for item_id, version_id in version_of.items():
            used: set[str] = set()
            for attachment_id in by_version.get(version_id, []):
                attachment = attachments[attachment_id]
                name = _archive_name(attachment.name)
                stem, ext = os.path.splitext(name)
                n = 1
                while name.lower() in used:
                    n += 1
                    name = f"{stem}({n}){ext}"
                try:
                    with attachment.file.open("rb") as handle:
                        data = handle.read()
                except FileNotFoundError:
                    continue  # gone from storage: left out of the archive and of the sheet
                used.add(name.lower())
                path = f"{ZIP_FOLDER}/{item_id}/{name}"
                archive.writestr(path, data)
                written.setdefault(item_id, []).append(path)
        archive.writestr(ZIP_SHEET, _workbook(user, directory, lambda item: written.get(item.pk, [])))
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
            raise ValueError(
                _("%(label)s格式不正确（应为 2026-01-31 或 2026-01-31 08:00）") % {"label": label}
            ) from exc
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _as_bool(value: Any) -> bool:
    return str(value or "").strip().lower() in {"是", "公开", "1", "true", "yes", "y"}


def _as_html(value: Any) -> str:
    text = str(value or "").strip()
    if "<" in text and ">" in text:
        return text
    return "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip())


def _read_rows(data: bytes, columns_map: dict[str, str] = IMPORT_COLUMNS) -> list[tuple[int, dict[str, Any]]]:
    try:
        extract.check_zip(data, "Excel")
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except extract.ExtractionError as exc:
        raise ServiceError(exc.message, field_errors={"file": [exc.message]}) from exc
    except Exception as exc:
        raise ServiceError(_("Excel文件无法读取"), field_errors={"file": [_("Excel文件无法读取")]}) from exc
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if not header:
            raise ServiceError(_("表格是空的"), field_errors={"file": [_("表格是空的")]})
        columns = {
            i: columns_map[str(h).strip()]
            for i, h in enumerate(header)
            if h and str(h).strip() in columns_map
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
            values = {name: row[i] if i < len(row) else None for i, name in columns.items()}
            out.append(
                (number, {k: unescape_cell(v) if isinstance(v, str) else v for k, v in values.items()})
            )
        return out
    finally:
        workbook.close()


def _file_error(message: str) -> ServiceError:
    return ServiceError(message, field_errors={"file": [message]})


def _check_upload(actor: User, directory: Directory, file: UploadedFile, ext: str, limit: int) -> None:
    if not user_access(actor).can_edit(directory.pk):
        raise NotAllowed(_("您没有该目录的编辑权限"))
    if file.size is None or file.size > limit:
        raise _file_error(_("文件过大（不能超过%(mb)d MB）") % {"mb": limit // (1024 * 1024)})
    if extract.extension(file.name or "") != ext:
        raise _file_error(_("请上传%(ext)s文件") % {"ext": ext})


def directory_import(*, actor: User, directory: Directory, file: UploadedFile) -> ImportReport:
    _check_upload(actor, directory, file, ".xlsx", extract.MAX_FILE_BYTES)
    return _import_rows(actor, directory, _read_rows(file.read()))


def _import_rows(
    actor: User,
    directory: Directory,
    rows: list[tuple[int, dict[str, Any]]],
    attachments_for: Callable[[dict[str, Any]], Sequence[UploadedFile]] | None = None,
) -> ImportReport:
    """Create one item per row, all or nothing; files written to storage are deleted again on failure."""
    if not rows:
        raise _file_error(_("表格中没有数据行"))
    report = ImportReport()
    stored: list[str] = []
    try:
        with transaction.atomic():
            made: dict[str, Directory] = {"": directory}
            for number, values in rows:
                try:
                    target = _directory_for(
                        actor, directory, str(values.get("path") or "").strip(), made, report
                    )
                    data = services.ItemInput(
                        title=str(values.get("title") or ""),
                        content=_as_html(values.get("content")),
                        keywords=str(values.get("keywords") or ""),
                        valid_from=_as_datetime(values.get("valid_from"), "生效时间"),
                        valid_to=_as_datetime(values.get("valid_to"), "失效时间"),
                        is_public=_as_bool(values.get("is_public")),
                        change_note="批量导入",
                    )
                    files = attachments_for(values) if attachments_for else ()
                    with transaction.atomic():
                        item = services.item_create(
                            actor=actor, directory=target, data=data, attachments=files
                        )
                        stored.extend(
                            str(name)
                            for name in Attachment.objects.filter(item=item).values_list("file", flat=True)
                        )
                except ServiceError as exc:
                    report.errors.append(_("第%(row)d行：%(error)s") % {"row": number, "error": exc.message})
                    continue
                except ValueError as exc:
                    report.errors.append(_("第%(row)d行：%(error)s") % {"row": number, "error": exc})
                    continue
                report.created += 1
                if Item.objects.filter(pk=item.pk, published_version__isnull=False).exists():
                    report.published += 1
                else:
                    report.pending += 1
            if report.errors:
                transaction.set_rollback(True)
                message = _("导入失败：%(n)d行有误，未导入任何数据") % {"n": len(report.errors)}
                raise ServiceError(message, field_errors={"rows": report.errors[:200]}, code="import_failed")
    except BaseException:
        for name in stored:
            default_storage.delete(name)
        raise
    return report


# --------------------------------------------------------------------------- zip with attachments


def _unsafe_entry(info: zipfile.ZipInfo) -> str:
    """Why an archive entry is refused, or ''."""
    name = info.filename
    if "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return _("路径不安全（绝对路径或含反斜杠）")
    if ".." in name.split("/"):
        return _("路径不安全（含“..”）")
    if stat.S_ISLNK(info.external_attr >> 16):
        return _("是符号链接")
    if info.flag_bits & 0x1:
        return _("已加密")
    if not info.is_dir() and info.file_size > extract.MAX_FILE_BYTES:
        return f"超过大小限制（{extract.MAX_FILE_BYTES // (1024 * 1024)} MB）"
    if info.file_size > 1024 * 1024 and info.file_size / max(1, info.compress_size) > extract.MAX_ZIP_RATIO:
        return _("压缩比异常，疑似压缩炸弹")
    return ""


def _open_archive(data: bytes) -> tuple[zipfile.ZipFile, zipfile.ZipInfo, str, dict[str, zipfile.ZipInfo]]:
    """The checked archive, its sheet, the folder holding the sheet ('' for the top) and the files by path."""
    try:
        archive = extract.check_zip(data, _("ZIP压缩包"))
    except extract.ExtractionError as exc:
        raise _file_error(exc.message) from exc
    members = archive.infolist()
    if len(members) > MAX_ZIP_ENTRIES:
        raise _file_error(_("压缩包中的文件过多（超过%(n)d个），已拒绝导入") % {"n": MAX_ZIP_ENTRIES})
    for info in members:
        problem = _unsafe_entry(info)
        if problem:
            raise _file_error(
                _("压缩包中的“%(name)s”%(problem)s，已拒绝导入")
                % {"name": info.filename[:100], "problem": problem}
            )
    files = {info.filename: info for info in members if not info.is_dir()}
    sheets = sorted(
        (name for name in files if posixpath.basename(name) == ZIP_SHEET), key=lambda n: (n.count("/"), n)
    )
    if not sheets:
        top = [name for name in files if "/" not in name and extract.extension(name) == ".xlsx"]
        sheets = top if len(top) == 1 else []
    if not sheets:
        raise _file_error(
            _("压缩包中没有“%(sheet)s”表格（条目表格放在压缩包根目录，附件放在其下的文件夹中）")
            % {"sheet": ZIP_SHEET}
        )
    return archive, files[sheets[0]], posixpath.dirname(sheets[0]), files


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    try:
        with archive.open(info) as handle:
            return handle.read(info.file_size + 1)[: info.file_size]
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, ValueError) as exc:
        raise _file_error(_("压缩包中的“%(name)s”已损坏，无法读取") % {"name": info.filename[:100]}) from exc


def _attachment_paths(value: Any) -> list[str]:
    return [p.strip() for p in re.split(r"[\r\n;；]+", str(value or "")) if p.strip()]


def directory_import_zip(*, actor: User, directory: Directory, file: UploadedFile) -> ImportReport:
    """Items from `items.xlsx` inside a zip, with the attachment files its 附件 column names."""
    _check_upload(actor, directory, file, ".zip", MAX_IMPORT_ZIP_BYTES)
    archive, sheet, base, files = _open_archive(file.read())
    with archive:
        rows = _read_rows(_read_entry(archive, sheet), ZIP_COLUMNS)

        def attachments_for(values: dict[str, Any]) -> list[UploadedFile]:
            uploads: list[UploadedFile] = []
            for reference in _attachment_paths(values.get("attachments")):
                path = posixpath.normpath(reference.replace("\\", "/")).lstrip("/")
                if path.startswith("../") or path == "..":
                    raise ServiceError(_("附件路径“%(path)s”不安全") % {"path": reference[:100]})
                info = files.get(posixpath.join(base, path) if base else path)
                if info is None:
                    raise ServiceError(_("附件“%(path)s”不在压缩包中") % {"path": reference[:100]})
                data = _read_entry(archive, info)
                name = posixpath.basename(info.filename)
                content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
                uploads.append(SimpleUploadedFile(name, data, content_type=content_type))
            return uploads

        return _import_rows(actor, directory, rows, attachments_for)


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
                raise ServiceError(_("目录“%(path)s”超过%(n)d级") % {"path": path, "n": MAX_DEPTH})
            child = services.directory_create(actor=actor, space=current.space, parent=current, name=part)
            report.directories_created += 1
        elif not user_access(actor).can_edit(child.pk):
            raise ServiceError(_("没有目录“%(path)s”的编辑权限") % {"path": path})
        made[key] = child
        current = child
    return current
