"""Staff screens of the knowledge base (HTML + htmx). Thin: parse, call one selector or service, render.

Every read goes through `selectors`, scoped by `permissions.user_access` exactly as the API is: a user
without read in a directory gets 404 for it and its items and never sees them in a list or a search.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from hotline.common.errors import NotFound, ServiceError
from hotline.orgs.models import User

from . import extract, importexport, selectors, services
from .forms import ItemForm
from .models import Directory, HelpfulVote, Item, ItemState, VersionStatus
from .permissions import user_access

T = TypeVar("T")
PAGE_SIZE = 20


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _or_404(fetch: Callable[..., T], **kwargs: Any) -> T:
    try:
        return fetch(**kwargs)
    except NotFound as exc:
        raise Http404(exc.message) from exc


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
    }


def _render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    return render(request, template, {**_kb_nav(_user(request)), **context}, status=status)


def _error_text(exc: ServiceError, limit: int = 20) -> str:
    details = [m for msgs in exc.field_errors.values() for m in msgs if m != exc.message]
    if not details:
        return exc.message
    more = _("等%(count)d处") % {"count": len(details)} if len(details) > limit else ""
    return _("%(message)s：%(details)s") % {
        "message": exc.message,
        "details": _("；").join(details[:limit]) + more,
    }


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


@login_required
def kb_item(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    item = _or_404(selectors.item_get, user=user, pk=pk)
    if item.is_published and item.state == ItemState.NORMAL:
        services.item_record_view(user=user, item=item)
    context = _item_context(request, item)
    manage = context["rights"].edit or context["rights"].review
    context.update(
        {
            "path": selectors.directory_breadcrumbs([item.directory]).get(item.directory_id, ""),
            "attachments": selectors.item_attachments(user=user, item=item),
            "versions": selectors.item_versions(user=user, item=item),
            "pending": item.versions.filter(status=VersionStatus.PENDING).order_by("-number").first()
            if manage
            else None,
        }
    )
    return _render(request, "knowledge/item.html", context)


@login_required
def kb_attachment(request: HttpRequest, pk: int) -> FileResponse:
    attachment = _or_404(selectors.attachment_get, user=_user(request), pk=pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("附件文件已不存在")) from exc
    return FileResponse(handle, as_attachment=True, filename=attachment.name)


@login_required
@require_POST
def kb_favourite(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    item = _or_404(selectors.item_get, user=user, pk=pk)
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
    item = _or_404(selectors.item_get, user=user, pk=pk)
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
        directory = _or_404(selectors.directory_get, user=user, pk=form.cleaned_data["directory"])
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
    item = _or_404(selectors.item_get, user=user, pk=pk)
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


@login_required
def kb_directories(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The directory tree of every readable space; a chosen directory lists its items (and below)."""
    user = _user(request)
    current = _or_404(selectors.directory_get, user=user, pk=pk) if pk is not None else None
    options = _directory_options(user)
    context: dict[str, Any] = {
        "spaces": selectors.space_list(user=user),
        "tree": options,
        "current": current,
        "dq": request.GET.get("dq", "")[:50],
    }
    if current is not None:
        rights = user_access(user).of(current.pk)
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
            }
        )
    return _render(request, "knowledge/directories.html", context)


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
    directory = _or_404(selectors.directory_get, user=user, pk=pk)
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
        messages.error(request, _error_text(exc))
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


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback)


@login_required
@require_POST
def kb_version_approve(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    version = _or_404(selectors.version_get, user=user, pk=pk)
    try:
        services.version_approve(actor=user, version=version, note=request.POST.get("note", "")[:500])
    except ServiceError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("“%(title)s”已审核通过并发布。") % {"title": version.title})
    return _back(request, reverse("kb-reviews"))


@login_required
@require_POST
def kb_version_reject(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    version = _or_404(selectors.version_get, user=user, pk=pk)
    try:
        services.version_reject(actor=user, version=version, reason=request.POST.get("reason", "")[:500])
    except ServiceError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("“%(title)s”已退回。") % {"title": version.title})
    return _back(request, reverse("kb-reviews"))
