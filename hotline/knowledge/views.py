"""Staff screens of the knowledge base (HTML + htmx). Thin: parse, call one selector or service, render.

Every read goes through `selectors`, scoped by `permissions.user_access` exactly as the API is: a user
without read in a directory gets 404 for it and its items and never sees them in a list or a search.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from hotline.common import clock
from hotline.common.errors import NotFound, ServiceError
from hotline.common.http import error_text, get_or_404, redirect_back
from hotline.orgs.http import request_user as _user
from hotline.orgs.models import Role, Unit, User
from hotline.orgs.selectors import unit_search

from . import extract, importexport, selectors, services
from .forms import GrantFormSet, GrantRowForm, ItemForm
from .models import MAX_DEPTH, Directory, Grant, HelpfulVote, Item, ItemState, VersionStatus
from .permissions import Access, user_access

T = TypeVar("T")
PAGE_SIZE = 20


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 10 else None


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _kb_nav(user: User) -> dict[str, Any]:
    access = user_access(user)
    return {
        "kb_can_edit": bool(access.editable),
        "kb_can_review": bool(access.reviewable),
        "kb_review_count": selectors.review_queue(user=user).count() if access.reviewable else 0,
        "kb_can_recycle": bool(access.editable or access.reviewable or access.admin_space_ids),
    }


def _render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    return render(request, template, {**_kb_nav(_user(request)), **context}, status=status)


def _directory_options(user: User) -> list[tuple[Directory, str]]:
    """Readable directories in tree order, each with its full path, for filters and pickers."""
    dirs = list(selectors.directory_list(user=user).select_related("space"))
    paths = selectors.directory_breadcrumbs(dirs)
    return [(d, paths.get(d.pk, d.name)) for d in dirs]


# --------------------------------------------------------------------------- search


SORTS = [
    ("relevance", gettext_lazy("相关度")),
    ("views", gettext_lazy("浏览量")),
    ("latest", gettext_lazy("最新")),
]


@login_required
def kb_search(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    q = request.GET.get("q", "")[:500]
    sort = request.GET.get("sort", "relevance")
    sort = sort if sort in dict(SORTS) else "relevance"
    directory = _int(request.GET.get("directory"))
    space = _int(request.GET.get("space"))
    page_number = _int(request.GET.get("page")) or 1
    context: dict[str, Any] = {
        "q": q,
        "sort": sort,
        "sorts": SORTS,
        "directory": directory,
        "space": space,
        "spaces": selectors.space_list(user=user),
        "directories": _directory_options(user),
        "searched": "q" in request.GET,
    }
    if "q" in request.GET:
        try:
            result = selectors.kb_search(
                user=user,
                q=q,
                directory=directory,
                space=space,
                sort=sort,  # type: ignore[arg-type]
                page=page_number,
                page_size=PAGE_SIZE,
            )
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except ServiceError as exc:
            context["error"] = exc.message
        else:
            pages = min(math.ceil(result.total / PAGE_SIZE), selectors.MAX_RESULT_WINDOW // PAGE_SIZE)
            params = {"q": q, "sort": sort, "directory": directory or "", "space": space or ""}
            context.update(
                {
                    "total": result.total,
                    "warnings": result.warnings,
                    "rows": [
                        {
                            "hit": hit,
                            "item": result.items.get(hit.item_id),
                            "path": result.paths.get(hit.directory_id, ""),
                        }
                        for hit in result.hits
                    ],
                    "page": page_number,
                    "pages": pages,
                    "previous_url": f"?{urlencode({**params, 'page': page_number - 1})}"
                    if page_number > 1
                    else "",
                    "next_url": f"?{urlencode({**params, 'page': page_number + 1})}"
                    if page_number < pages
                    else "",
                }
            )
            if page_number == 1 and result.total < selectors.RELATED_BELOW:
                related = selectors.related_search(
                    user=user,
                    q=q,
                    exclude=[hit.item_id for hit in result.hits],
                    directory=directory,
                    space=space,
                )
                context["related_rows"] = [
                    {
                        "hit": hit,
                        "item": related.items.get(hit.item_id),
                        "path": related.paths.get(hit.directory_id, ""),
                    }
                    for hit in related.hits
                ]
    else:
        context["latest"] = selectors.rankings(user=user, kind="latest", limit=10)
        context["popular"] = selectors.rankings(user=user, kind="views", days=30, limit=10)
    return _render(request, "knowledge/search.html", context)


@login_required
@require_POST
def kb_suggest(request: HttpRequest) -> HttpResponse:
    """Side panel of the intake form: items matching the case content being typed (htmx partial)."""
    text = (request.POST.get("content") or request.POST.get("text") or "")[:20_000]
    result = selectors.suggest_for_text(user=_user(request), text=text, limit=5)
    rows = [
        {"hit": hit, "item": result.items.get(hit.item_id), "path": result.paths.get(hit.directory_id, "")}
        for hit in result.hits
    ]
    return render(request, "knowledge/_suggest.html", {"rows": rows, "typed": bool(text.strip())})


# --------------------------------------------------------------------------- statistics

STATS_DAYS = [(7, gettext_lazy("近7天")), (30, gettext_lazy("近30天")), (90, gettext_lazy("近90天"))]
STATS_DEFAULT_DAYS = 30


def _stats_days(request: HttpRequest) -> int:
    days = _int(request.GET.get("days"))
    return days if days in dict(STATS_DAYS) else STATS_DEFAULT_DAYS


def _stats_context(stats: dict[str, Any], days: int) -> dict[str, Any]:
    """The `stats` selector's figures with every day of the period (days without views count 0)."""
    counts = {row["day"]: int(row["views"] or 0) for row in stats["daily"]}
    today = clock.now().date()
    daily = [(today - dt.timedelta(days=n), 0) for n in range(days - 1, -1, -1)]
    daily = [(day, counts.get(day, 0)) for day, _zero in daily]
    peak = max((v for _day, v in daily), default=0) or 1
    return {
        "stats": stats,
        "stats_items": stats.get("items"),
        "stats_days": days,
        "stats_day_choices": STATS_DAYS,
        "stats_period_views": sum(v for _day, v in daily),
        "stats_daily": [{"day": day, "views": v, "height": round(100 * v / peak)} for day, v in daily],
    }


# --------------------------------------------------------------------------- items


def _item_context(request: HttpRequest, item: Item) -> dict[str, Any]:
    user = _user(request)
    rights = user_access(user).of(item.directory_id)
    vote = HelpfulVote.objects.filter(user=user, item=item).values_list("helpful", flat=True).first()
    return {
        "item": item,
        "rights": rights,
        "is_favourite": item.favourites.filter(user=user).exists(),
        "my_vote": vote,
    }


# (action, label) in the order the buttons are shown; the rules are `services.STATE_ACTIONS`.
STATE_ACTION_LABELS = {
    "pause": gettext_lazy("暂停"),
    "resume": gettext_lazy("恢复使用"),
    "archive": gettext_lazy("归档"),
    "unarchive": gettext_lazy("取消归档"),
    "recycle": gettext_lazy("移入回收站"),
    "restore": gettext_lazy("还原"),
    "delete": gettext_lazy("彻底删除"),
}


def _state_actions(access: Access, item: Item) -> list[tuple[str, str]]:
    """The state actions the service would accept from this user now (the others are not shown)."""
    out = []
    for action, (sources, _target, needs) in services.STATE_ACTIONS.items():
        if item.state not in sources:
            continue
        if not (access.can_review if needs == "review" else access.can_edit)(item.directory_id):
            continue
        if action == "restore" and item.state == ItemState.DELETED and not access.is_admin(item.space_id):
            continue
        out.append((action, str(STATE_ACTION_LABELS[action])))
    return out


def _move_targets(user: User, item: Item) -> list[tuple[int, str]]:
    """Directories of the item's space the user may edit (moving needs edit on both sides)."""
    access = user_access(user)
    if not access.can_edit(item.directory_id):
        return []
    return [
        (d.pk, label)
        for d, label in _directory_options(user)
        if d.space_id == item.space_id and d.pk != item.directory_id and access.can_edit(d.pk)
    ]


def _item_page(request: HttpRequest, item: Item, *, error: str = "", status: int = 200) -> HttpResponse:
    user = _user(request)
    context = _item_context(request, item)
    manage = context["rights"].edit or context["rights"].review
    access = user_access(user)
    context.update(
        {
            "path": selectors.directory_breadcrumbs([item.directory]).get(item.directory_id, ""),
            "attachments": selectors.item_attachments(user=user, item=item),
            "versions": selectors.item_versions(user=user, item=item),
            "pending": item.versions.filter(status=VersionStatus.PENDING).order_by("-number").first()
            if manage
            else None,
            "state_actions": _state_actions(access, item),
            "move_targets": _move_targets(user, item),
            "action_error": error,
            "stats_url": reverse("kb-item-stats", args=[item.pk]),
            **_stats_context(selectors.item_stats(item=item, days=STATS_DEFAULT_DAYS), STATS_DEFAULT_DAYS),
        }
    )
    return _render(request, "knowledge/item.html", context, status=status)


@login_required
def kb_item(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    item = get_or_404(selectors.item_get, user=user, pk=pk)
    if item.is_published and item.state == ItemState.NORMAL:
        services.item_record_view(user=user, item=item)
    return _item_page(request, item)


@login_required
@require_POST
def kb_item_state(request: HttpRequest, pk: int) -> HttpResponse:
    """Pause, resume, archive, recycle, restore or purge. The form carries the state the page showed: if
    someone changed it meanwhile the user is told so instead of acting on a state they did not see."""
    user = _user(request)
    item = get_or_404(selectors.item_get, user=user, pk=pk)
    action = request.POST.get("action", "")
    seen = request.POST.get("state", "")
    from_bin = request.POST.get("next") == reverse("kb-recycle")
    error, status = "", 200
    if seen and seen != item.state:
        error = _("该条目的状态已被他人修改，现在是“%(state)s”，请确认后再操作。") % {
            "state": item.get_state_display()
        }
        status = 409
    else:
        try:
            item = services.item_change_state(actor=user, item=item, action=action)
        except ServiceError as exc:
            error, status = error_text(exc), exc.status_code
    if error:
        if from_bin:
            messages.error(request, error)
            return redirect("kb-recycle")
        return _item_page(request, item, error=error, status=status)
    label = STATE_ACTION_LABELS.get(action, action)
    messages.success(request, _("已%(action)s：%(title)s") % {"action": label, "title": item.title})
    if from_bin:
        return redirect("kb-recycle")
    if not selectors.can_manage(user, item):
        return redirect("kb-recycle")  # purged: only KB admins still see it
    return redirect("kb-item", pk=item.pk)


@login_required
@require_POST
def kb_item_move(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    item = get_or_404(selectors.item_get, user=user, pk=pk)
    target = _int(request.POST.get("directory"))
    if target is None:
        return _item_page(request, item, error=_("请选择目标目录"), status=400)
    directory = get_or_404(selectors.directory_get, user=user, pk=target)
    try:
        services.item_move(actor=user, item=item, directory=directory)
    except ServiceError as exc:
        return _item_page(request, item, error=error_text(exc), status=exc.status_code)
    messages.success(request, _("已移动到“%(directory)s”。") % {"directory": directory.name})
    return redirect("kb-item", pk=item.pk)


@login_required
def kb_item_stats(request: HttpRequest, pk: int) -> HttpResponse:
    """The statistics card of an item for another period (htmx partial; does not count a view)."""
    item = get_or_404(selectors.item_get, user=_user(request), pk=pk)
    days = _stats_days(request)
    context = _stats_context(selectors.item_stats(item=item, days=days), days)
    return render(request, "knowledge/_stats.html", {**context, "stats_url": request.path})


@login_required
def kb_recycle(request: HttpRequest) -> HttpResponse:
    """The recycle bin: recycled items of the directories the user edits or reviews, and (KB admins only)
    deleted items, with restore and purge where the service allows them."""
    user = _user(request)
    access = user_access(user)
    if not (access.editable or access.reviewable or access.admin_space_ids):
        raise Http404(_("您没有任何知识目录的维护权限"))
    recycled = selectors.item_list(
        user=user,
        filters=selectors.ItemFilters(scope="manage", state=ItemState.RECYCLED, ordering="-updated_at"),
    )
    page = Paginator(recycled, PAGE_SIZE).get_page(request.GET.get("page"))
    deleted = (
        list(
            selectors.item_list(
                user=user,
                filters=selectors.ItemFilters(
                    scope="manage", state=ItemState.DELETED, ordering="-updated_at"
                ),
            )[:100]
        )
        if access.admin_space_ids
        else []
    )
    rows = [*page.object_list, *deleted]
    paths = selectors.directory_breadcrumbs({i.directory for i in rows})
    context = {
        "page": page,
        "recycled": [(i, paths.get(i.directory_id, ""), _state_actions(access, i)) for i in page.object_list],
        "deleted": [(i, paths.get(i.directory_id, ""), _state_actions(access, i)) for i in deleted],
        "is_kb_admin": bool(access.admin_space_ids),
    }
    return _render(request, "knowledge/recycle.html", context)


@login_required
def kb_attachment(request: HttpRequest, pk: int) -> FileResponse:
    attachment = get_or_404(selectors.attachment_get, user=_user(request), pk=pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("附件文件已不存在")) from exc
    return FileResponse(handle, as_attachment=True, filename=attachment.name)


@login_required
@require_POST
def kb_favourite(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    item = get_or_404(selectors.item_get, user=user, pk=pk)
    if item.favourites.filter(user=user).exists():
        services.favourite_remove(user=user, item=item)
    else:
        services.favourite_add(user=user, item=item)
    item.refresh_from_db(fields=["favourite_count"])
    if _is_htmx(request):
        return render(request, "knowledge/_favourite.html", _item_context(request, item))
    return redirect("kb-item", pk=item.pk)


@login_required
@require_POST
def kb_helpful(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    item = get_or_404(selectors.item_get, user=user, pk=pk)
    services.helpful_vote(user=user, item=item, helpful=request.POST.get("helpful") == "1")
    item.refresh_from_db(fields=["helpful_count", "unhelpful_count"])
    if _is_htmx(request):
        return render(request, "knowledge/_helpful.html", {**_item_context(request, item), "thanks": True})
    messages.success(request, _("感谢您的评价。"))
    return redirect("kb-item", pk=item.pk)


def _form_errors(form: ItemForm, exc: ServiceError) -> None:
    placed = False
    for name, errors in exc.field_errors.items():
        target = name if name in form.fields else None
        for error in errors:
            form.add_error(target, error)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


@login_required
def kb_item_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    access = user_access(user)
    paths = {d.pk: label for d, label in _directory_options(user)}
    choices = [(pk, label) for pk, label in paths.items() if access.can_edit(pk)]
    if not choices:
        raise Http404(_("您没有任何知识目录的编辑权限"))
    initial = {"directory": _int(request.GET.get("directory"))}
    form = ItemForm(request.POST or None, request.FILES or None, directories=choices, initial=initial)
    if request.method == "POST" and form.is_valid():
        directory = get_or_404(selectors.directory_get, user=user, pk=form.cleaned_data["directory"])
        try:
            item = services.item_create(
                actor=user,
                directory=directory,
                data=form.to_item_input(),
                attachments=form.cleaned_data["attachments"],
            )
        except ServiceError as exc:
            _form_errors(form, exc)
        else:
            published = item.versions.filter(status=VersionStatus.APPROVED).exists()
            messages.success(
                request, _("条目已发布。") if published else _("条目已提交审核，审核通过后发布。")
            )
            return redirect("kb-item", pk=item.pk)
    return _render(request, "knowledge/edit.html", {"form": form, "item": None})


@login_required
def kb_item_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    item = get_or_404(selectors.item_get, user=user, pk=pk)
    if not user_access(user).can_edit(item.directory_id):
        raise Http404(_("您没有该目录的编辑权限"))
    latest = item.versions.order_by("-number").first()
    source: Any = latest or item
    kept = [(a.pk, a.name) for a in (latest.attachments.all() if latest else [])]
    initial = {
        "title": source.title,
        "keywords": source.keywords,
        "content": source.content,
        "valid_from": source.valid_from,
        "valid_to": source.valid_to,
        "is_public": source.is_public,
        "version": latest.number if latest else None,
    }
    form = ItemForm(request.POST or None, request.FILES or None, attachments=kept, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.item_update(
                actor=user,
                item=item,
                data=form.to_item_input(),
                attachments=form.cleaned_data["attachments"],
                remove_attachments=form.cleaned_data.get("remove_attachments") or [],
                expected_version=form.cleaned_data["version"],
            )
        except ServiceError as exc:
            _form_errors(form, exc)
        else:
            approved = version.status == VersionStatus.APPROVED
            messages.success(
                request, _("修改已发布。") if approved else _("修改已提交审核，审核通过后生效。")
            )
            return redirect("kb-item", pk=item.pk)
    return _render(request, "knowledge/edit.html", {"form": form, "item": item})


# --------------------------------------------------------------------------- directories


def _directory_manage(user: User, current: Directory, options: list[tuple[Directory, str]]) -> dict[str, Any]:
    """What the user may do to the directory, per the service rules (level 1: KB admins only)."""
    access = user_access(user)
    is_admin = access.is_admin(current.space_id)
    may_change = is_admin if current.depth == 1 else access.can_edit(current.pk)
    parents: list[tuple[int | str, str]] = []
    if may_change:
        if is_admin and current.parent_id is not None:
            parents.append(("", str(_("（作为一级目录）"))))
        parents += [
            (d.pk, label)
            for d, label in options
            if d.space_id == current.space_id
            and access.can_edit(d.pk)
            and not d.path.startswith(current.path)
            and d.pk != current.parent_id
            and d.depth < MAX_DEPTH
        ]
    return {
        "can_create_child": access.can_edit(current.pk) and current.depth < MAX_DEPTH,
        "can_change": may_change,
        "move_parents": parents,
        "can_grant": is_admin,
    }


def _directory_page(
    request: HttpRequest,
    current: Directory | None,
    *,
    error: str = "",
    error_for: str = "",
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    access = user_access(user)
    options = _directory_options(user)
    spaces = selectors.space_list(user=user)
    context: dict[str, Any] = {
        "spaces": spaces,
        "admin_spaces": [s for s in spaces if access.is_admin(s.pk)],
        "tree": options,
        "current": current,
        "dq": request.GET.get("dq", "")[:50],
        "manage_error": error,
        "error_for": error_for,
        "posted_name": request.POST.get("name", "") if request.method == "POST" else "",
    }
    if current is not None:
        rights = access.of(current.pk)
        scope = (
            "manage"
            if request.GET.get("scope") == "manage" and (rights.edit or rights.review)
            else "published"
        )
        items = selectors.item_list(
            user=user,
            filters=selectors.ItemFilters(directory=current.pk, scope=scope),  # type: ignore[arg-type]
        )
        page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
        context.update(
            {
                "rights": rights,
                "scope": scope,
                "page": page,
                "current_path": dict((d.pk, label) for d, label in options).get(current.pk, current.name),
                "stats_url": reverse("kb-directory-stats", args=[current.pk]),
                **_directory_manage(user, current, options),
                **_stats_context(
                    selectors.directory_stats(user=user, directory=current, days=STATS_DEFAULT_DAYS),
                    STATS_DEFAULT_DAYS,
                ),
            }
        )
    return _render(request, "knowledge/directories.html", context, status=status)


@login_required
def kb_directories(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The directory tree of every readable space; a chosen directory lists its items (and below)."""
    current = get_or_404(selectors.directory_get, user=_user(request), pk=pk) if pk is not None else None
    return _directory_page(request, current)


@login_required
@require_POST
def kb_directory_create(request: HttpRequest) -> HttpResponse:
    """A sub-directory of `parent`, or (KB admins) a level-1 directory of `space`."""
    user = _user(request)
    parent_id = _int(request.POST.get("parent"))
    parent = get_or_404(selectors.directory_get, user=user, pk=parent_id) if parent_id is not None else None
    if parent is not None:
        space = parent.space
    else:
        space_id = _int(request.POST.get("space"))
        if space_id is None:
            raise Http404(_("知识空间不存在或无权查看"))
        space = get_or_404(selectors.space_get, user=user, pk=space_id)
    try:
        directory = services.directory_create(
            actor=user, space=space, parent=parent, name=request.POST.get("name", "")
        )
    except ServiceError as exc:
        return _directory_page(
            request, parent, error=error_text(exc), error_for="create", status=exc.status_code
        )
    messages.success(request, _("已新建目录“%(name)s”。") % {"name": directory.name})
    return redirect("kb-directory", pk=directory.pk)


@login_required
@require_POST
def kb_directory_rename(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    directory = get_or_404(selectors.directory_get, user=user, pk=pk)
    sort_order = _int(request.POST.get("sort_order"))
    try:
        services.directory_update(
            actor=user, directory=directory, name=request.POST.get("name", ""), sort_order=sort_order
        )
    except ServiceError as exc:
        directory.refresh_from_db()
        return _directory_page(
            request, directory, error=error_text(exc), error_for="rename", status=exc.status_code
        )
    messages.success(request, _("目录已保存。"))
    return redirect("kb-directory", pk=directory.pk)


@login_required
@require_POST
def kb_directory_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move the directory and everything below it; the service keeps grants and the index consistent."""
    user = _user(request)
    directory = get_or_404(selectors.directory_get, user=user, pk=pk)
    if "parent" not in request.POST:
        return _directory_page(
            request, directory, error=_("请选择新的上级目录"), error_for="move", status=400
        )
    parent_id = _int(request.POST.get("parent"))
    parent = get_or_404(selectors.directory_get, user=user, pk=parent_id) if parent_id is not None else None
    try:
        directory = services.directory_move(actor=user, directory=directory, parent=parent)
    except ServiceError as exc:
        return _directory_page(
            request, directory, error=error_text(exc), error_for="move", status=exc.status_code
        )
    messages.success(request, _("目录“%(name)s”已移动。") % {"name": directory.name})
    return redirect("kb-directory", pk=directory.pk)


@login_required
@require_POST
def kb_directory_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    directory = get_or_404(selectors.directory_get, user=user, pk=pk)
    parent_id, name = directory.parent_id, directory.name
    try:
        services.directory_delete(actor=user, directory=directory)
    except ServiceError as exc:
        return _directory_page(
            request, directory, error=error_text(exc), error_for="delete", status=exc.status_code
        )
    messages.success(request, _("目录“%(name)s”已删除。") % {"name": name})
    return redirect("kb-directory", pk=parent_id) if parent_id else redirect("kb-directories")


def _grant_choices() -> tuple[list[tuple[str, str]], list[tuple[int, str]], dict[int, Unit]]:
    units = sorted(unit_search(), key=lambda u: u.path)
    unit_choices = [(u.pk, "\u3000" * (u.depth - 1) + u.name) for u in units]
    return [(str(v), str(label)) for v, label in Role.choices], unit_choices, {u.pk: u for u in units}


def _grant_who(grant: Grant) -> str:
    parts = []
    if grant.role:
        parts.append(str(Role(grant.role).label))
    if grant.unit is not None:
        parts.append(grant.unit.name + (str(_("（含下级单位）")) if grant.include_subunits else ""))
    return " · ".join(parts) if parts else str(_("所有人"))


def _inherited_grants(directory: Directory, own: list[Grant]) -> list[dict[str, Any]]:
    inherited = selectors.inherited_grants(directory)
    paths = selectors.directory_breadcrumbs({g.directory for g in inherited})
    own_keys = {g.key for g in own}
    return [
        {
            "grant": g,
            "who": _grant_who(g),
            "source": g.directory,
            "source_path": paths.get(g.directory_id, g.directory.name),
            "overridden": g.key in own_keys,
        }
        for g in inherited
    ]


def _grant_input(data: dict[str, Any], units: dict[int, Unit]) -> services.GrantInput:
    unit = units.get(data["unit"]) if data.get("unit") is not None else None
    return services.GrantInput(
        role=data.get("role") or "",
        unit=unit,
        include_subunits=bool(data.get("include_subunits")),
        can_read=bool(data.get("can_read")),
        can_edit=bool(data.get("can_edit")),
        can_review=bool(data.get("can_review")),
    )


def _own_grant_rows(grants: list[Grant]) -> list[dict[str, Any]]:
    return [
        {
            "role": g.role,
            "unit": g.unit_id,
            "include_subunits": g.include_subunits,
            "can_read": g.can_read,
            "can_edit": g.can_edit,
            "can_review": g.can_review,
        }
        for g in grants
    ]


@login_required
def kb_directory_grants(request: HttpRequest, pk: int) -> HttpResponse:
    """The grants of a directory: inherited ones read-only with where they come from; its own ones
    editable by KB admins (`op=save` replaces them, `op=add` adds one; the same role/unit/scope as an
    inherited grant replaces that grant here and below)."""
    user = _user(request)
    directory = get_or_404(selectors.directory_get, user=user, pk=pk)
    access = user_access(user)
    can_grant = access.is_admin(directory.space_id)
    roles, unit_choices, units = _grant_choices()
    own = list(directory.grants.select_related("unit").order_by("id"))
    kwargs: dict[str, Any] = {"roles": roles, "units": unit_choices}
    formset = GrantFormSet(initial=_own_grant_rows(own), form_kwargs=kwargs, prefix="g")
    add_form = GrantRowForm(prefix="add", initial={"can_read": True, "include_subunits": True}, **kwargs)
    error, status = "", 200
    if request.method == "POST":
        op = request.POST.get("op")
        grants: list[services.GrantInput] | None = None
        if op == "add":
            add_form = GrantRowForm(request.POST, prefix="add", **kwargs)
            if add_form.is_valid():
                current = [_grant_input(row, units) for row in _own_grant_rows(own)]
                grants = [*current, _grant_input(add_form.cleaned_data, units)]
        else:
            formset = GrantFormSet(request.POST, form_kwargs=kwargs, prefix="g")
            if formset.is_valid():
                grants = [
                    _grant_input(f.cleaned_data, units)
                    for f in formset.forms
                    if f not in formset.deleted_forms
                ]
        if grants is None:
            error, status = _("请检查填写的内容"), 400
        else:
            try:
                services.directory_set_grants(actor=user, directory=directory, grants=grants)
            except ServiceError as exc:
                error, status = error_text(exc), exc.status_code
            else:
                messages.success(request, _("目录权限已保存。"))
                return redirect("kb-directory-grants", pk=directory.pk)
    paths = selectors.directory_breadcrumbs([directory])
    context = {
        "current": directory,
        "current_path": paths.get(directory.pk, directory.name),
        "own": [(g, _grant_who(g)) for g in own],
        "inherited": _inherited_grants(directory, own),
        "formset": formset,
        "add_form": add_form,
        "can_grant": can_grant,
        "grant_error": error,
    }
    return _render(request, "knowledge/grants.html", context, status=status)


@login_required
def kb_directory_stats(request: HttpRequest, pk: int) -> HttpResponse:
    """The statistics card of a directory (and below) for another period (htmx partial)."""
    user = _user(request)
    directory = get_or_404(selectors.directory_get, user=user, pk=pk)
    days = _stats_days(request)
    context = _stats_context(selectors.directory_stats(user=user, directory=directory, days=days), days)
    return render(request, "knowledge/_stats.html", {**context, "stats_url": request.path})


@login_required
def kb_directory_matches(request: HttpRequest) -> HttpResponse:
    """Directories by name or pinyin (full, initials or syllable prefixes), as an htmx partial."""
    user = _user(request)
    query = request.GET.get("dq", "")[:50]
    found = selectors.directory_search(user=user, query=query)
    paths = selectors.directory_breadcrumbs(found)
    return render(
        request,
        "knowledge/_directory_matches.html",
        {"matches": [(d, paths.get(d.pk, d.name)) for d in found], "dq": query},
    )


@login_required
@require_POST
def kb_directory_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Batch import from an .xlsx sheet or a .zip (sheet + attachments); all rows or none."""
    user = _user(request)
    directory = get_or_404(selectors.directory_get, user=user, pk=pk)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("请选择要导入的文件（.xlsx 或 .zip）"))
        return redirect("kb-directory", pk=directory.pk)
    importer = (
        importexport.directory_import_zip
        if extract.extension(upload.name or "") == ".zip"
        else importexport.directory_import
    )
    try:
        report = importer(actor=user, directory=directory, file=upload)
    except ServiceError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request,
            _("已导入%(created)d条：直接发布%(published)d条，待审核%(pending)d条，新建目录%(dirs)d个。")
            % {
                "created": report.created,
                "published": report.published,
                "pending": report.pending,
                "dirs": report.directories_created,
            },
        )
    return redirect("kb-directory", pk=directory.pk)


# --------------------------------------------------------------------------- rankings


RANKING_DAYS = [(7, gettext_lazy("近7天")), (30, gettext_lazy("近30天")), (0, gettext_lazy("全部"))]


@login_required
def kb_rankings(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    days = _int(request.GET.get("days"))
    days = days if days in {d for d, _label in RANKING_DAYS} else 30
    context = {
        "days": days,
        "day_choices": RANKING_DAYS,
        "most_viewed": selectors.rankings(user=user, kind="views", days=days or None, limit=20),
        "latest": selectors.rankings(user=user, kind="latest", limit=20),
        "most_favourited": selectors.rankings(user=user, kind="favourites", limit=20),
        "mine": [f.item for f in selectors.favourite_list(user=user)[:50]],
    }
    return _render(request, "knowledge/rankings.html", context)


# --------------------------------------------------------------------------- review


@login_required
def kb_reviews(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    queue = selectors.review_queue(user=user).prefetch_related("attachments")
    page = Paginator(queue, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "submissions": selectors.my_submissions(user=user)[:20],
    }
    return _render(request, "knowledge/reviews.html", context)


@login_required
@require_POST
def kb_version_approve(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    version = get_or_404(selectors.version_get, user=user, pk=pk)
    try:
        services.version_approve(actor=user, version=version, note=request.POST.get("note", "")[:500])
    except ServiceError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("“%(title)s”已审核通过并发布。") % {"title": version.title})
    return redirect_back(request, reverse("kb-reviews"))


@login_required
@require_POST
def kb_version_reject(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    version = get_or_404(selectors.version_get, user=user, pk=pk)
    try:
        services.version_reject(actor=user, version=version, reason=request.POST.get("reason", "")[:500])
    except ServiceError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("“%(title)s”已退回。") % {"title": version.title})
    return redirect_back(request, reverse("kb-reviews"))
