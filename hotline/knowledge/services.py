"""Every write of the knowledge base. One transaction each, with its audit row; the search index follows
after the commit (`indexing.schedule_reindex`).

Callers pass objects they obtained through `selectors` (which already answer "not found" to users without
read); these functions check the edit / review / admin rights and answer NotAllowed otherwise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hotline.common import clock
from hotline.common.audit import audit_record
from hotline.common.errors import Conflict, NotAllowed, ServiceError
from hotline.orgs.models import Role, Unit, User

from . import extract
from .indexing import schedule_reindex
from .models import (
    MAX_DEPTH,
    Attachment,
    Directory,
    Favourite,
    Grant,
    HelpfulVote,
    Item,
    ItemState,
    ItemVersion,
    Space,
    VersionStatus,
    ViewDay,
)
from .permissions import Access, bump_generation, is_global_admin, user_access
from .text import html_to_text, pinyin_full, pinyin_initials, pinyin_syllables, sanitize_html


def _fail(field: str, message: str) -> ServiceError:
    return ServiceError(message, field_errors={field: [message]})


def _require_admin(access: Access, space_id: int, doing: str) -> None:
    if not access.is_admin(space_id):
        raise NotAllowed(_("只有知识库管理员可以%(doing)s") % {"doing": doing})


def _require_edit(access: Access, directory_id: int) -> None:
    if not access.can_edit(directory_id):
        raise NotAllowed(_("您没有该目录的编辑权限"))


def _require_review(access: Access, directory_id: int) -> None:
    if not access.can_review(directory_id):
        raise NotAllowed(_("您没有该目录的审核权限"))


# --------------------------------------------------------------------------- spaces


def space_create(
    *,
    actor: User,
    name: str,
    code: str,
    description: str = "",
    owner_unit: Unit | None = None,
    admins: Sequence[User] = (),
) -> Space:
    if not is_global_admin(actor):
        raise NotAllowed(_("只有系统管理员可以新建知识空间"))
    name, code = (name or "").strip(), (code or "").strip()
    if not name:
        raise _fail("name", _("请填写知识空间名称"))
    if not code:
        raise _fail("code", _("请填写知识空间编码"))
    if Space.objects.filter(code=code).exists():
        raise _fail("code", _("该编码已被使用"))
    with transaction.atomic():
        space = Space.objects.create(name=name, code=code, description=description, owner_unit=owner_unit)
        space.admins.set(admins)
        audit_record(actor=actor, action="create", obj=space, summary=f"新建知识空间 {name}")
    bump_generation()
    return space


def space_set_admins(*, actor: User, space: Space, admins: Sequence[User]) -> Space:
    if not is_global_admin(actor):
        raise NotAllowed(_("只有系统管理员可以指定知识库管理员"))
    with transaction.atomic():
        space.admins.set(admins)
        audit_record(
            actor=actor,
            action="update",
            obj=space,
            summary=f"知识空间 {space.name} 管理员",
            changes={"admins": [u.pk for u in admins]},
        )
    bump_generation()
    return space


# --------------------------------------------------------------------------- directories


@dataclass
class GrantInput:
    role: str = ""
    unit: Unit | None = None
    include_subunits: bool = True
    can_read: bool = True
    can_edit: bool = False
    can_review: bool = False


DEFAULT_ROOT_GRANTS = (
    GrantInput(can_read=True),
    GrantInput(role=Role.KB_EDITOR, can_read=True, can_edit=True),
    GrantInput(role=Role.KB_REVIEWER, can_read=True, can_review=True),
)


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise _fail("name", _("请填写目录名称"))
    if len(name) > 100:
        raise _fail("name", _("目录名称不能超过100个字符"))
    if "/" in name:
        raise _fail("name", _("目录名称不能包含“/”"))
    return name


def _check_sibling_name(
    space: Space | int, parent: Directory | None, name: str, exclude: int | None = None
) -> None:
    space_id = space if isinstance(space, int) else space.pk
    siblings = Directory.objects.filter(space_id=space_id, parent=parent, name=name)
    if exclude is not None:
        siblings = siblings.exclude(pk=exclude)
    if siblings.exists():
        raise _fail("name", _("同一级已有名为“%(name)s”的目录") % {"name": name})


def _set_pinyin(directory: Directory) -> None:
    directory.pinyin_full = pinyin_full(directory.name)[:400]
    directory.pinyin_initials = pinyin_initials(directory.name)[:100]
    directory.pinyin_syllables = " ".join(pinyin_syllables(directory.name))[:500]


def _write_grants(directory: Directory, grants: Sequence[GrantInput]) -> list[Grant]:
    seen: set[tuple[str, int | None, bool]] = set()
    rows: list[Grant] = []
    for i, g in enumerate(grants):
        if g.role and g.role not in Role.values:
            raise _fail(f"grants[{i}].role", _("未知角色：%(role)s") % {"role": g.role})
        row = Grant(
            directory=directory,
            role=g.role or "",
            unit=g.unit,
            include_subunits=g.include_subunits if g.unit is not None else True,
            can_read=g.can_read or g.can_edit or g.can_review,
            can_edit=g.can_edit,
            can_review=g.can_review,
        )
        if row.key in seen:
            raise _fail(f"grants[{i}]", _("同一角色/单位的权限重复设置"))
        seen.add(row.key)
        rows.append(row)
    Grant.objects.filter(directory=directory).delete()
    return Grant.objects.bulk_create(rows)


def directory_create(
    *,
    actor: User,
    space: Space,
    name: str,
    parent: Directory | None = None,
    sort_order: int = 0,
    grants: Sequence[GrantInput] | None = None,
) -> Directory:
    """A directory; level 1 only by KB admins. A new level-1 directory gets DEFAULT_ROOT_GRANTS unless
    `grants` are given (setting grants is for KB admins)."""
    access = user_access(actor)
    name = _clean_name(name)
    if parent is None:
        _require_admin(access, space.pk, _("新建一级目录"))
    else:
        if parent.space_id != space.pk:
            raise _fail("parent", _("上级目录不在该知识空间中"))
        _require_edit(access, parent.pk)
        if parent.depth >= MAX_DEPTH:
            raise _fail("parent", _("目录最多%(n)d级") % {"n": MAX_DEPTH})
    if grants is not None:
        _require_admin(access, space.pk, _("设置目录权限"))
    _check_sibling_name(space, parent, name)
    with transaction.atomic():
        directory = Directory(space=space, parent=parent, name=name, sort_order=sort_order, created_by=actor)
        _set_pinyin(directory)
        directory.save()
        directory.path = f"{parent.path if parent else '/'}{directory.pk}/"
        directory.depth = parent.depth + 1 if parent else 1
        directory.save(update_fields=["path", "depth"])
        if grants is None and parent is None:
            grants = DEFAULT_ROOT_GRANTS
        if grants:
            _write_grants(directory, grants)
        audit_record(actor=actor, action="create", obj=directory, summary=f"新建知识目录 {name}")
    bump_generation()
    return directory


def directory_update(
    *, actor: User, directory: Directory, name: str | None = None, sort_order: int | None = None
) -> Directory:
    access = user_access(actor)
    if directory.depth == 1:
        _require_admin(access, directory.space_id, _("修改一级目录"))
    else:
        _require_edit(access, directory.pk)
    changes: dict[str, Any] = {}
    if name is not None:
        name = _clean_name(name)
        if name != directory.name:
            _check_sibling_name(directory.space_id, directory.parent, name, exclude=directory.pk)
            changes["name"] = [directory.name, name]
            directory.name = name
            _set_pinyin(directory)
    if sort_order is not None and sort_order != directory.sort_order:
        changes["sort_order"] = [directory.sort_order, sort_order]
        directory.sort_order = sort_order
    if not changes:
        return directory
    with transaction.atomic():
        directory.save()
        audit_record(
            actor=actor,
            action="update",
            obj=directory,
            summary=f"修改知识目录 {directory.name}",
            changes=changes,
        )
    return directory


def directory_move(*, actor: User, directory: Directory, parent: Directory | None) -> Directory:
    """Move a subtree. Grants travel with their directories; what is inherited now comes from the new
    parent; the items below are re-indexed with their new place in the tree."""
    access = user_access(actor)
    if directory.depth == 1 or parent is None:
        _require_admin(access, directory.space_id, _("调整一级目录"))
    else:
        _require_edit(access, directory.pk)
    if parent is not None:
        _require_edit(access, parent.pk)
        if parent.space_id != directory.space_id:
            raise _fail("parent", _("不能移动到其他知识空间"))
        if parent.path.startswith(directory.path):
            raise _fail("parent", _("不能移动到自身或其下级目录中"))
    if (
        parent is not None
        and parent.pk == directory.parent_id
        or parent is None
        and directory.parent_id is None
    ):
        return directory
    subtree = list(Directory.objects.filter(path__startswith=directory.path).order_by("depth"))
    height = max(d.depth for d in subtree) - directory.depth + 1
    new_depth = parent.depth + 1 if parent else 1
    if new_depth + height - 1 > MAX_DEPTH:
        raise _fail("parent", _("移动后目录将超过%(n)d级") % {"n": MAX_DEPTH})
    name = directory.name
    _check_sibling_name(directory.space_id, parent, name, exclude=directory.pk)
    old_path, old_parent = directory.path, directory.parent
    new_path = f"{parent.path if parent else '/'}{directory.pk}/"
    shift = new_depth - directory.depth
    with transaction.atomic():
        for d in subtree:
            d.path = new_path + d.path[len(old_path) :]
            d.depth += shift
            if d.pk == directory.pk:
                d.parent = parent
        Directory.objects.bulk_update(subtree, ["path", "depth", "parent"])
        audit_record(
            actor=actor,
            action="update",
            obj=directory,
            summary=f"移动知识目录 {name}",
            changes={"parent": [old_parent.pk if old_parent else None, parent.pk if parent else None]},
        )
        schedule_reindex(Item.objects.filter(directory__in=subtree).values_list("pk", flat=True))
    bump_generation()
    directory.refresh_from_db()
    return directory


def directory_delete(*, actor: User, directory: Directory) -> None:
    access = user_access(actor)
    if directory.depth == 1:
        _require_admin(access, directory.space_id, _("删除一级目录"))
    else:
        _require_edit(access, directory.pk)
    if directory.children.exists():
        raise ServiceError(_("该目录下还有子目录，不能删除"))
    if directory.items.exists():
        raise ServiceError(_("该目录下还有知识条目（含回收站和已删除的条目），请先移到其他目录"))
    with transaction.atomic():
        audit_record(actor=actor, action="delete", obj=directory, summary=f"删除知识目录 {directory.name}")
        directory.delete()
    bump_generation()


def directory_set_grants(*, actor: User, directory: Directory, grants: Sequence[GrantInput]) -> list[Grant]:
    """Replace the directory's own grants (inherited ones are set on the directories above)."""
    _require_admin(user_access(actor), directory.space_id, _("设置目录权限"))
    with transaction.atomic():
        rows = _write_grants(directory, grants)
        audit_record(
            actor=actor,
            action="update",
            obj=directory,
            summary=f"设置知识目录权限 {directory.name}",
            changes={
                "grants": [
                    {
                        "role": g.role,
                        "unit": g.unit_id,
                        "include_subunits": g.include_subunits,
                        "read": g.can_read,
                        "edit": g.can_edit,
                        "review": g.can_review,
                    }
                    for g in rows
                ]
            },
        )
    bump_generation()
    return rows


# --------------------------------------------------------------------------- items and review


@dataclass
class ItemInput:
    title: str
    content: str
    keywords: str = ""
    valid_from: dt.datetime | None = None
    valid_to: dt.datetime | None = None
    is_public: bool = False
    change_note: str = ""


def _clean_item(data: ItemInput) -> dict[str, Any]:
    title = (data.title or "").strip()
    if not title:
        raise _fail("title", _("请填写标题"))
    if len(title) > 200:
        raise _fail("title", _("标题不能超过200个字符"))
    keywords = " ".join((data.keywords or "").replace("，", " ").replace(",", " ").replace("；", " ").split())
    if len(keywords) > 200:
        raise _fail("keywords", _("关键词不能超过200个字符"))
    content = sanitize_html(data.content or "")
    text = html_to_text(content)
    if not text:
        raise _fail("content", _("请填写内容"))
    if data.valid_from and data.valid_to and data.valid_to <= data.valid_from:
        raise _fail("valid_to", _("失效时间应晚于生效时间"))
    return {
        "title": title,
        "keywords": keywords,
        "content": content,
        "content_text": text,
        "valid_from": data.valid_from,
        "valid_to": data.valid_to,
        "is_public": bool(data.is_public),
    }


def _check_uploads(files: Sequence[UploadedFile]) -> None:
    for upload in files:
        name = upload.name or ""
        try:
            extract.check_supported(name)
        except extract.ExtractionError as exc:
            raise _fail(
                "attachments", _("附件“%(name)s”：%(problem)s") % {"name": name, "problem": exc.message}
            ) from exc
        if upload.size is None or upload.size > extract.MAX_FILE_BYTES:
            limit = extract.MAX_FILE_BYTES // (1024 * 1024)
            raise _fail(
                "attachments", _("附件“%(name)s”超过大小限制（%(mb)d MB）") % {"name": name, "mb": limit}
            )


def _save_attachments(item: Item, files: Sequence[UploadedFile], actor: User) -> list[Attachment]:
    saved: list[Attachment] = []
    for upload in files:
        name = (upload.name or "附件")[:200]
        data = upload.read()
        text, problem = "", ""
        try:
            text = extract.extract_text(name, data)
        except extract.ExtractionError as exc:
            problem = exc.message[:300]
        saved.append(
            Attachment.objects.create(
                item=item,
                file=ContentFile(data, name=name),
                name=name,
                size=len(data),
                content_type=(getattr(upload, "content_type", "") or "")[:100],
                text=text,
                extract_error=problem,
                uploaded_by=actor,
                uploaded_at=clock.now(),
            )
        )
    return saved


def _next_number(item: Item) -> int:
    return (item.versions.aggregate(n=Max("number"))["n"] or 0) + 1


def _publish(version: ItemVersion, actor: User, note: str = "") -> None:
    item = version.item
    now = clock.now()
    version.status = VersionStatus.APPROVED
    version.reviewed_by = actor
    version.reviewed_at = now
    version.review_note = note[:500]
    version.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    item.versions.filter(status=VersionStatus.PENDING, number__lt=version.number).update(
        status=VersionStatus.SUPERSEDED
    )
    for name in ("title", "keywords", "content", "content_text", "valid_from", "valid_to", "is_public"):
        setattr(item, name, getattr(version, name))
    item.published_version = version
    item.published_at = now
    item.save()
    schedule_reindex([item.pk])


def item_create(
    *, actor: User, directory: Directory, data: ItemInput, attachments: Sequence[UploadedFile] = ()
) -> Item:
    """A new item. It is visible to readers once a reviewer approves it; an editor who also has review
    right in the directory publishes it at once (KB-2)."""
    access = user_access(actor)
    _require_edit(access, directory.pk)
    fields = _clean_item(data)
    _check_uploads(attachments)
    with transaction.atomic():
        item = Item.objects.create(
            space_id=directory.space_id, directory=directory, created_by=actor, **fields
        )
        files = _save_attachments(item, attachments, actor)
        version = ItemVersion.objects.create(
            item=item,
            number=1,
            status=VersionStatus.PENDING,
            submitted_by=actor,
            submitted_at=clock.now(),
            change_note=data.change_note[:255],
            **fields,
        )
        version.attachments.set(files)
        audit_record(actor=actor, action="create", obj=item, summary=f"新建知识 {item.title}")
        if access.can_review(directory.pk):
            _publish(version, actor, "提交人具有审核权限，直接发布")
    return item


def item_update(
    *,
    actor: User,
    item: Item,
    data: ItemInput,
    attachments: Sequence[UploadedFile] = (),
    remove_attachments: Sequence[int] = (),
    expected_version: int | None = None,
) -> ItemVersion:
    """Submit a change. Readers keep seeing the published version until the change is approved."""
    access = user_access(actor)
    _require_edit(access, item.directory_id)
    if item.state in (ItemState.RECYCLED, ItemState.DELETED):
        raise ServiceError(
            _("条目处于“%(state)s”状态，请先恢复再修改") % {"state": ItemState(item.state).label}
        )
    fields = _clean_item(data)
    _check_uploads(attachments)
    with transaction.atomic():
        item = Item.objects.select_for_update().get(pk=item.pk)
        latest = item.versions.order_by("-number").first()
        if expected_version is not None and latest is not None and latest.number != expected_version:
            raise Conflict(_("该条目已有新的修改，请刷新后重试"))
        kept = [
            a for a in (latest.attachments.all() if latest else []) if a.pk not in set(remove_attachments)
        ]
        files = _save_attachments(item, attachments, actor)
        item.versions.filter(status=VersionStatus.PENDING).update(status=VersionStatus.SUPERSEDED)
        version = ItemVersion.objects.create(
            item=item,
            number=_next_number(item),
            status=VersionStatus.PENDING,
            submitted_by=actor,
            submitted_at=clock.now(),
            change_note=data.change_note[:255],
            **fields,
        )
        version.attachments.set([*kept, *files])
        if not item.is_published:
            # Nobody but editors and reviewers sees an unpublished item: keep its fields on the latest draft.
            for name, value in fields.items():
                setattr(item, name, value)
            item.save()
        audit_record(
            actor=actor,
            action="update",
            obj=item,
            summary=f"提交知识修改 {fields['title']} v{version.number}",
        )
        if access.can_review(item.directory_id):
            _publish(version, actor, "提交人具有审核权限，直接发布")
    return version


def version_approve(*, actor: User, version: ItemVersion, note: str = "") -> ItemVersion:
    _require_review(user_access(actor), version.item.directory_id)
    with transaction.atomic():
        version = ItemVersion.objects.select_for_update().select_related("item").get(pk=version.pk)
        if version.status != VersionStatus.PENDING:
            raise Conflict(
                _("该版本已是“%(status)s”状态，不能再审核") % {"status": VersionStatus(version.status).label}
            )
        _publish(version, actor, note)
        audit_record(
            actor=actor,
            action="update",
            obj=version.item,
            summary=f"审核通过 {version.title} v{version.number}",
        )
    return version


def version_reject(*, actor: User, version: ItemVersion, reason: str) -> ItemVersion:
    _require_review(user_access(actor), version.item.directory_id)
    reason = (reason or "").strip()
    if not reason:
        raise _fail("reason", _("请填写退回原因"))
    with transaction.atomic():
        version = ItemVersion.objects.select_for_update().select_related("item").get(pk=version.pk)
        if version.status != VersionStatus.PENDING:
            raise Conflict(
                _("该版本已是“%(status)s”状态，不能再审核") % {"status": VersionStatus(version.status).label}
            )
        version.status = VersionStatus.REJECTED
        version.reviewed_by = actor
        version.reviewed_at = clock.now()
        version.review_note = reason[:500]
        version.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
        audit_record(
            actor=actor,
            action="update",
            obj=version.item,
            summary=f"退回知识修改 {version.title} v{version.number}",
            changes={"reason": reason},
        )
    return version


# (from-states, to-state, needs) for each state action; "restore" goes back to the state before the bin.
STATE_ACTIONS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "pause": ((ItemState.NORMAL,), ItemState.PAUSED, "edit"),
    "resume": ((ItemState.PAUSED,), ItemState.NORMAL, "edit"),
    "archive": ((ItemState.NORMAL, ItemState.PAUSED), ItemState.ARCHIVED, "edit"),
    "unarchive": ((ItemState.ARCHIVED,), ItemState.NORMAL, "edit"),
    "recycle": ((ItemState.NORMAL, ItemState.PAUSED, ItemState.ARCHIVED), ItemState.RECYCLED, "edit"),
    "restore": ((ItemState.RECYCLED, ItemState.DELETED), "", "edit"),
    "delete": ((ItemState.RECYCLED,), ItemState.DELETED, "review"),
}
STATE_ACTION_LABELS = {  # msgids (gettext_noop): translated where a refusal names the action
    "pause": gettext_noop("暂停"),
    "resume": gettext_noop("恢复使用"),
    "archive": gettext_noop("归档"),
    "unarchive": gettext_noop("取消归档"),
    "recycle": gettext_noop("移入回收站"),
    "restore": gettext_noop("还原"),
    "delete": gettext_noop("彻底删除"),
}


def item_change_state(*, actor: User, item: Item, action: str) -> Item:
    if action not in STATE_ACTIONS:
        raise _fail("action", _("未知操作：%(action)s") % {"action": action})
    sources, target, needs = STATE_ACTIONS[action]
    access = user_access(actor)
    label = STATE_ACTION_LABELS[action]
    if needs == "review":
        _require_review(access, item.directory_id)
    else:
        _require_edit(access, item.directory_id)
    if action == "restore" and item.state == ItemState.DELETED:
        _require_admin(access, item.space_id, _("还原已删除的条目"))
    with transaction.atomic():
        item = Item.objects.select_for_update().get(pk=item.pk)
        if item.state not in sources:
            raise ServiceError(
                _("条目当前为“%(state)s”，不能%(action)s")
                % {"state": ItemState(item.state).label, "action": _(label)},
                code="bad_state",
            )
        before = item.state
        if action == "recycle":
            item.state_before = before
        if action == "restore":
            target = (
                ItemState.RECYCLED if before == ItemState.DELETED else (item.state_before or ItemState.NORMAL)
            )
        item.state = target
        item.save(update_fields=["state", "state_before", "updated_at"])
        audit_record(
            actor=actor,
            action="delete" if action == "delete" else "update",
            obj=item,
            summary=f"{label}知识 {item.title}",
            changes={"state": [before, target]},
        )
        schedule_reindex([item.pk])
    return item


def item_move(*, actor: User, item: Item, directory: Directory) -> Item:
    access = user_access(actor)
    _require_edit(access, item.directory_id)
    _require_edit(access, directory.pk)
    if directory.space_id != item.space_id:
        raise _fail("directory", _("不能移动到其他知识空间"))
    if directory.pk == item.directory_id:
        return item
    with transaction.atomic():
        before = item.directory_id
        item.directory = directory
        item.save(update_fields=["directory", "updated_at"])
        audit_record(
            actor=actor,
            action="update",
            obj=item,
            summary=f"移动知识 {item.title}",
            changes={"directory": [before, directory.pk]},
        )
        schedule_reindex([item.pk])
    return item


# --------------------------------------------------------------------------- habits (KB-6)


def _refresh_views_in_index(count: int) -> bool:
    """Views sort the search results; re-index on a few thresholds rather than on every view."""
    return count <= 10 or count in (20, 50) or count % 100 == 0


def item_record_view(*, user: User, item: Item) -> None:
    today = clock.now().date()
    with transaction.atomic():
        Item.objects.filter(pk=item.pk).update(view_count=F("view_count") + 1)
        updated = ViewDay.objects.filter(item=item, day=today).update(count=F("count") + 1)
        if not updated:
            try:
                with transaction.atomic():
                    ViewDay.objects.create(item=item, day=today, count=1)
            except IntegrityError:
                ViewDay.objects.filter(item=item, day=today).update(count=F("count") + 1)
        item.view_count = Item.objects.values_list("view_count", flat=True).get(pk=item.pk)
        if _refresh_views_in_index(item.view_count):
            schedule_reindex([item.pk])


def favourite_add(*, user: User, item: Item) -> Favourite:
    with transaction.atomic():
        favourite, created = Favourite.objects.get_or_create(
            user=user, item=item, defaults={"created_at": clock.now()}
        )
        if created:
            Item.objects.filter(pk=item.pk).update(favourite_count=F("favourite_count") + 1)
    return favourite


def favourite_remove(*, user: User, item: Item) -> None:
    with transaction.atomic():
        deleted, _per_model = Favourite.objects.filter(user=user, item=item).delete()
        if deleted:
            Item.objects.filter(pk=item.pk, favourite_count__gt=0).update(
                favourite_count=F("favourite_count") - 1
            )


def helpful_vote(*, user: User, item: Item, helpful: bool) -> HelpfulVote:
    """Record or change the user's "was this helpful" answer; the item's counters follow."""
    with transaction.atomic():
        vote = HelpfulVote.objects.select_for_update().filter(user=user, item=item).first()
        if vote is not None and vote.helpful == helpful:
            return vote
        if vote is not None:
            old = "helpful_count" if vote.helpful else "unhelpful_count"
            Item.objects.filter(pk=item.pk, **{f"{old}__gt": 0}).update(**{old: F(old) - 1})
            vote.helpful = helpful
            vote.at = clock.now()
            vote.save(update_fields=["helpful", "at"])
        else:
            vote = HelpfulVote.objects.create(user=user, item=item, helpful=helpful, at=clock.now())
        new = "helpful_count" if helpful else "unhelpful_count"
        Item.objects.filter(pk=item.pk).update(**{new: F(new) + 1})
    return vote
