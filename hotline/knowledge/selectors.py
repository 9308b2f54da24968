"""Every read of the knowledge base, restricted to what the user may see (KB-4).

A user without read in a directory gets NotFound for it and its items, exactly as if they did not exist.
Readers see items that are published, in state "normal" and within their validity period; editors and
reviewers of a directory also see drafts, pending changes and the other states there (deleted items only
KB admins).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from hotline.common import clock
from hotline.common.errors import NotFound
from hotline.orgs.models import User

from .engine import SearchFilters, SearchHit, SortKey, get_engine
from .models import (
    Attachment,
    Directory,
    Favourite,
    Grant,
    Item,
    ItemState,
    ItemVersion,
    Space,
    VersionStatus,
    ViewDay,
)
from .permissions import Access, user_access
from .query import ParsedQuery, parse_query
from .text import SEPARATORS, normalize, pinyin_matches

MAX_PAGE_SIZE = 100
MAX_RESULT_WINDOW = 1000


def valid_q(now: dt.datetime | None = None, prefix: str = "") -> Q:
    now = now or clock.now()
    return (Q(**{f"{prefix}valid_from__isnull": True}) | Q(**{f"{prefix}valid_from__lte": now})) & (
        Q(**{f"{prefix}valid_to__isnull": True}) | Q(**{f"{prefix}valid_to__gt": now})
    )


def published_q(now: dt.datetime | None = None, prefix: str = "") -> Q:
    """What readers may see of the items in directories they can read."""
    return Q(**{f"{prefix}state": ItemState.NORMAL, f"{prefix}published_version__isnull": False}) & valid_q(
        now, prefix
    )


# --------------------------------------------------------------------------- spaces and directories


def space_list(*, user: User) -> QuerySet[Space]:
    access = user_access(user)
    ids = access.readable_space_ids() | access.admin_space_ids
    return Space.objects.filter(pk__in=ids, is_active=True).order_by("id")


def space_get(*, user: User, pk: int) -> Space:
    space = space_list(user=user).filter(pk=pk).first()
    if space is None:
        access = user_access(user)
        space = Space.objects.filter(pk=pk, is_active=True).first() if access.is_global_admin else None
    if space is None:
        raise NotFound(_("知识空间不存在或无权查看"))
    return space


def directory_list(*, user: User, space: int | None = None, parent: int | None = None) -> QuerySet[Directory]:
    """Readable directories, tree order (by path)."""
    access = user_access(user)
    qs = Directory.objects.filter(pk__in=access.readable)
    if space is not None:
        qs = qs.filter(space_id=space)
    if parent is not None:
        qs = qs.filter(parent_id=parent)
    return qs.order_by("path")


def directory_get(*, user: User, pk: int) -> Directory:
    access = user_access(user)
    directory = Directory.objects.select_related("space", "parent").filter(pk=pk).first()
    if directory is None or not access.can_read(directory.pk):
        raise NotFound(_("知识目录不存在或无权查看"))
    return directory


def directory_search(*, user: User, query: str, space: int | None = None, limit: int = 20) -> list[Directory]:
    """Directories by name or pinyin: full (`shebao`), initials (`sb`), or any mix of syllable prefixes
    (`shb`, `sbao`), matching from any syllable on; Chinese text matches names by substring."""
    q = (query or "").strip()
    if not q:
        return []
    candidates = directory_list(user=user, space=space)
    letters = normalize(q)
    ascii_query = letters.isascii()
    out: list[tuple[int, Directory]] = []
    for d in candidates:
        if q in d.name:
            out.append((0, d))
        elif (
            ascii_query
            and letters.replace(" ", "")
            and (d.pinyin_full.startswith(letters) or d.pinyin_initials.startswith(letters))
        ):
            out.append((1, d))
        elif ascii_query and pinyin_matches(letters, d.pinyin_syllables.split()):
            out.append((2, d))
    out.sort(key=lambda pair: (pair[0], pair[1].depth, pair[1].path))
    return [d for _, d in out[:limit]]


def inherited_grants(directory: Directory) -> list[Grant]:
    """The grants that reach this directory from above: the nearest ancestor's grant wins for the same
    role / unit / scope (as permissions.user_access applies them)."""
    above = directory.ancestor_ids[:-1]
    grants = Grant.objects.filter(directory_id__in=above).select_related("unit", "directory")
    by_directory: dict[int, list[Grant]] = {}
    for g in grants:
        by_directory.setdefault(g.directory_id, []).append(g)
    effective: dict[Any, Grant] = {}
    for pk in above:
        for g in by_directory.get(pk, []):
            effective[g.key] = g
    return list(effective.values())


def directory_breadcrumbs(directories: Collection[Directory]) -> dict[int, str]:
    """`一级/二级/…` for each directory, from one query."""
    ids = {i for d in directories for i in d.ancestor_ids}
    names = dict(Directory.objects.filter(pk__in=ids).values_list("pk", "name"))
    return {d.pk: "/".join(names.get(i, "?") for i in d.ancestor_ids) for d in directories}


# --------------------------------------------------------------------------- items


@dataclass
class ItemFilters:
    directory: int | None = None  # this directory and below
    space: int | None = None
    scope: Literal["published", "manage"] = "published"
    state: str = ""
    expired: bool | None = None  # manage scope: only expired / only not expired
    pending: bool | None = None  # manage scope: with a change waiting for review
    title: str = ""
    ordering: str = "-published_at"


ITEM_ORDERINGS = {
    "-published_at": ("-published_at", "-id"),
    "published_at": ("published_at", "id"),
    "-views": ("-view_count", "-id"),
    "-updated_at": ("-updated_at", "-id"),
    "title": ("title", "id"),
}


def _manageable_dirs(access: Access) -> frozenset[int]:
    return access.editable | access.reviewable


def item_list(*, user: User, filters: ItemFilters) -> QuerySet[Item]:
    access = user_access(user)
    f = filters
    if f.scope == "manage":
        qs = Item.objects.filter(directory_id__in=_manageable_dirs(access))
        qs = qs.filter(state=f.state) if f.state else qs.exclude(state=ItemState.DELETED)
        if f.state == ItemState.DELETED:
            admin_spaces = access.admin_space_ids
            qs = qs.filter(space_id__in=admin_spaces)
        if f.expired is not None:
            now = clock.now()
            expired = Q(valid_to__lte=now)
            qs = qs.filter(expired) if f.expired else qs.exclude(expired)
        if f.pending is not None:
            pending = Q(versions__status=VersionStatus.PENDING)
            qs = qs.filter(pending).distinct() if f.pending else qs.exclude(pending)
    else:
        qs = Item.objects.filter(published_q(), directory_id__in=access.readable)
    if f.directory is not None:
        directory = directory_get(user=user, pk=f.directory)
        qs = qs.filter(directory__path__startswith=directory.path)
    if f.space is not None:
        qs = qs.filter(space_id=f.space)
    if f.title:
        qs = qs.filter(title__icontains=f.title.strip())
    return qs.select_related("directory", "space").order_by(
        *ITEM_ORDERINGS.get(f.ordering, ITEM_ORDERINGS["-published_at"])
    )


def can_manage(user: User, item: Item) -> bool:
    access = user_access(user)
    if item.state == ItemState.DELETED:
        return access.is_admin(item.space_id)
    return item.directory_id in _manageable_dirs(access)


def item_get(*, user: User, pk: int) -> Item:
    item = (
        Item.objects.select_related("directory", "space", "published_version", "created_by")
        .filter(pk=pk)
        .first()
    )
    if item is None:
        raise NotFound(_("知识条目不存在或无权查看"))
    access = user_access(user)
    readable = access.can_read(item.directory_id) and Item.objects.filter(published_q(), pk=item.pk).exists()
    if not readable and not can_manage(user, item):
        raise NotFound(_("知识条目不存在或无权查看"))
    return item


def item_versions(*, user: User, item: Item) -> QuerySet[ItemVersion]:
    """All versions for editors and reviewers; the published history for readers."""
    qs = item.versions.select_related("submitted_by", "reviewed_by").prefetch_related("attachments")
    if not can_manage(user, item):
        qs = qs.filter(status=VersionStatus.APPROVED)
    return qs.order_by("-number")


def version_get(*, user: User, pk: int) -> ItemVersion:
    version = ItemVersion.objects.select_related("item", "item__directory").filter(pk=pk).first()
    if version is None:
        raise NotFound(_("版本不存在或无权查看"))
    item = item_get(user=user, pk=version.item_id)
    if version.status != VersionStatus.APPROVED and not can_manage(user, item):
        raise NotFound(_("版本不存在或无权查看"))
    return version


def review_queue(*, user: User) -> QuerySet[ItemVersion]:
    """Changes waiting for this user's review, oldest first."""
    access = user_access(user)
    return (
        ItemVersion.objects.filter(status=VersionStatus.PENDING, item__directory_id__in=access.reviewable)
        .exclude(item__state=ItemState.DELETED)
        .select_related("item", "item__directory", "submitted_by")
        .order_by("submitted_at", "id")
    )


def my_submissions(*, user: User) -> QuerySet[ItemVersion]:
    """The user's own submissions (with reject reasons), newest first."""
    return (
        ItemVersion.objects.filter(submitted_by=user)
        .select_related("item", "reviewed_by")
        .order_by("-submitted_at")
    )


def favourite_list(*, user: User) -> QuerySet[Favourite]:
    access = user_access(user)
    return (
        Favourite.objects.filter(user=user, item__directory_id__in=access.readable)
        .filter(published_q(prefix="item__"))
        .select_related("item", "item__directory")
    )


# --------------------------------------------------------------------------- search (KB-5)


@dataclass
class SearchPage:
    total: int
    hits: list[SearchHit]
    items: dict[int, Item]
    paths: dict[int, str]
    warnings: tuple[str, ...] = field(default=())


def _permission_filters(access: Access, filters: SearchFilters) -> SearchFilters:
    """Restrict a search to the directories the user may read: by whichever of the readable or unreadable
    sets is smaller, each described as whole subtrees plus single directories."""
    readable = access.readable
    unreadable = access.unreadable
    if not readable:
        filters.allowed_dir_ids = [0]
    elif len(readable) <= len(unreadable):
        tops, rest = access.covering(readable)
        filters.allowed_subtree_ids, filters.allowed_dir_ids = sorted(tops), sorted(rest)
    else:
        tops, rest = access.covering(unreadable)
        filters.denied_subtree_ids, filters.denied_dir_ids = sorted(tops), sorted(rest)
        spaces = access.readable_space_ids()  # also keeps out spaces that were switched off
        filters.space_ids = sorted(
            spaces & set(filters.space_ids) if filters.space_ids is not None else spaces
        )
    return filters


def _page_bounds(page: int, page_size: int) -> tuple[int, int]:
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    page = max(1, page)
    offset = (page - 1) * page_size
    if offset + page_size > MAX_RESULT_WINDOW:
        from .query import QueryError

        raise QueryError(_("最多浏览前%(n)d条结果，请增加关键词缩小范围") % {"n": MAX_RESULT_WINDOW})
    return offset, page_size


def kb_search(
    *,
    user: User,
    q: str,
    directory: int | None = None,
    space: int | None = None,
    sort: SortKey = "relevance",
    page: int = 1,
    page_size: int = 20,
    with_items: bool = True,
) -> SearchPage:
    parsed = parse_query(q)
    access = user_access(user)
    offset, limit = _page_bounds(page, page_size)
    filters = SearchFilters(now=clock.now(), sort=sort, limit=limit, offset=offset)
    if directory is not None:
        subtree = directory_get(user=user, pk=directory)
        filters.subtree_id = subtree.pk
    if space is not None:
        filters.space_ids = [space]
    _permission_filters(access, filters)
    return _run(parsed, filters, with_items=with_items, allow=lambda item: access.can_read(item.directory_id))


def _run(
    parsed: ParsedQuery, filters: SearchFilters, *, with_items: bool, allow: Callable[[Item], bool]
) -> SearchPage:
    result = get_engine().search(parsed, filters)
    items: dict[int, Item] = {}
    paths: dict[int, str] = {}
    if with_items and result.hits:
        ids = [h.item_id for h in result.hits]
        items = {i.pk: i for i in Item.objects.filter(pk__in=ids).select_related("directory")}
        # The database has the last word: an item changed a moment ago (paused, moved) is dropped from the page.
        now = filters.now
        result.hits = [
            h
            for h in result.hits
            if h.item_id in items and _still_searchable(items[h.item_id], now) and allow(items[h.item_id])
        ]
        paths = directory_breadcrumbs({i.directory for i in items.values()})
    return SearchPage(
        total=result.total, hits=result.hits, items=items, paths=paths, warnings=parsed.warnings
    )


def _still_searchable(item: Item, now: dt.datetime) -> bool:
    return (
        item.state == ItemState.NORMAL
        and item.published_version_id is not None
        and (item.valid_from is None or item.valid_from <= now)
        and (item.valid_to is None or item.valid_to > now)
    )


def kb_search_external(
    *,
    space_ids: Collection[int],
    public_only: bool,
    q: str,
    space: int | None = None,
    page: int = 1,
    page_size: int = 20,
) -> SearchPage:
    """KB-8: a third-party system (an integrations partner) searches the spaces it was given; public items only
    unless allowed. Inactive spaces are left out."""
    parsed = parse_query(q)
    offset, limit = _page_bounds(page, page_size)
    allowed = set(Space.objects.filter(pk__in=list(space_ids), is_active=True).values_list("pk", flat=True))
    if space is not None:
        allowed &= {space}
    filters = SearchFilters(
        now=clock.now(),
        space_ids=sorted(allowed) or [0],
        public_only=public_only,
        limit=limit,
        offset=offset,
    )
    return _run(
        parsed,
        filters,
        with_items=True,
        allow=lambda item: item.space_id in allowed and (item.is_public or not public_only),
    )


RELATED_BELOW = 3  # the exact search found fewer than this: related results are added below
RELATED_LIMIT = 10


def related_search(
    *,
    user: User,
    q: str,
    exclude: Collection[int] = (),
    directory: int | None = None,
    space: int | None = None,
    limit: int = RELATED_LIMIT,
) -> SearchPage:
    """ "相关结果": items containing the query's words or their synonyms (see related.py), those with more of
    them first, leaving out the exact hits already shown; same permission filters as `kb_search`."""
    from .related import related_query

    parsed = related_query(q)
    if parsed is None:
        return SearchPage(total=0, hits=[], items={}, paths={})
    access = user_access(user)
    filters = SearchFilters(now=clock.now(), limit=max(1, min(limit, 50)) + len(exclude))
    if directory is not None:
        filters.subtree_id = directory_get(user=user, pk=directory).pk
    if space is not None:
        filters.space_ids = [space]
    _permission_filters(access, filters)
    page = _run(parsed, filters, with_items=True, allow=lambda item: access.can_read(item.directory_id))
    page.hits = [h for h in page.hits if h.item_id not in set(exclude)][:limit]
    page.total = len(page.hits)
    return page


STOP_CHARS = set("的了是在我有和就不人都一上也很到说要去你会着没看好自这那么他她它们请您吗呢吧啊")


def suggest_for_text(*, user: User, text: str, limit: int = 5) -> SearchPage:
    """Side panel of the intake form: items sharing the most two-character words with what is being typed."""
    norm = normalize(text or "")[-300:]
    grams: dict[str, None] = {}
    for run in SEPARATORS.split(norm):
        for i in range(len(run) - 1):
            gram = run[i : i + 2]
            if not (set(gram) & STOP_CHARS) and not gram.isdigit():
                grams.setdefault(gram, None)
    if not grams:
        return SearchPage(total=0, hits=[], items={}, paths={})
    words = list(grams)[-40:]
    parsed = ParsedQuery(groups=tuple((w,) for w in words))
    filters = SearchFilters(now=clock.now(), limit=max(1, min(limit, 20)))
    access = user_access(user)
    _permission_filters(access, filters)
    return _run(parsed, filters, with_items=True, allow=lambda item: access.can_read(item.directory_id))


# --------------------------------------------------------------------------- rankings and statistics (KB-6)


def rankings(
    *, user: User, kind: str, days: int | None = None, directory: int | None = None, limit: int = 10
) -> list[tuple[Item, int]]:
    """`views` (in the last `days`, or all time), `latest`, `favourites`, `helpful`: (item, figure) pairs."""
    qs = item_list(user=user, filters=ItemFilters(directory=directory))
    limit = max(1, min(limit, 100))
    if kind == "views" and days:
        since = clock.now().date() - dt.timedelta(days=days - 1)
        counted = (
            qs.filter(view_days__day__gte=since)
            .annotate(period_views=Sum("view_days__count"))
            .order_by("-period_views", "-id")[:limit]
        )
        return [(i, int(getattr(i, "period_views", 0) or 0)) for i in counted]
    if kind == "views":
        return [(i, i.view_count) for i in qs.order_by("-view_count", "-id")[:limit]]
    if kind == "favourites":
        return [
            (i, i.favourite_count)
            for i in qs.filter(favourite_count__gt=0).order_by("-favourite_count", "-id")[:limit]
        ]
    if kind == "helpful":
        return [
            (i, i.helpful_count)
            for i in qs.filter(helpful_count__gt=0).order_by("-helpful_count", "-id")[:limit]
        ]
    return [(i, 0) for i in qs.order_by("-published_at", "-id")[:limit]]


def view_series(*, item_ids: Any, days: int) -> list[dict[str, object]]:
    since = clock.now().date() - dt.timedelta(days=max(1, days) - 1)
    rows = (
        ViewDay.objects.filter(item_id__in=item_ids, day__gte=since)
        .values("day")
        .annotate(views=Sum("count"))
        .order_by("day")
    )
    return [{"day": r["day"], "views": r["views"]} for r in rows]


def item_stats(*, item: Item, days: int = 30) -> dict[str, object]:
    return {
        "views": item.view_count,
        "favourites": item.favourite_count,
        "helpful": item.helpful_count,
        "unhelpful": item.unhelpful_count,
        "daily": view_series(item_ids=[item.pk], days=days),
    }


def directory_stats(*, user: User, directory: Directory, days: int = 30) -> dict[str, object]:
    """Views and counts over the readable items of the directory and everything below it."""
    items = item_list(user=user, filters=ItemFilters(directory=directory.pk))
    totals = items.aggregate(
        items=Count("id"),
        views=Sum("view_count"),
        favourites=Sum("favourite_count"),
        helpful=Sum("helpful_count"),
        unhelpful=Sum("unhelpful_count"),
    )
    return {
        **{k: int(v or 0) for k, v in totals.items()},
        "daily": view_series(item_ids=items.values("pk"), days=days),
    }


def item_attachments(*, user: User, item: Item) -> list[Attachment]:
    """The published version's files for readers; editors see the latest version's (with any problem)."""
    version = item.published_version
    if version is None or user_access(user).can_edit(item.directory_id):
        version = item.versions.order_by("-number").first() or version
    return list(version.attachments.all()) if version is not None else []


def attachment_get(*, user: User, pk: int) -> Attachment:
    """A file the user may download: readers only files of approved versions (the published one and the
    history they can see); a file that so far belongs only to a pending or rejected change is for the item's
    editors and reviewers alone."""
    attachment = Attachment.objects.filter(pk=pk).first()
    if attachment is None:
        raise NotFound(_("附件不存在或无权查看"))
    item = item_get(user=user, pk=attachment.item_id)
    if not can_manage(user, item) and not attachment.versions.filter(status=VersionStatus.APPROVED).exists():
        raise NotFound(_("附件不存在或无权查看"))
    return attachment


# --------------------------------------------------------------------------- citizen portal (KB: public items)


def _public_items() -> QuerySet[Item]:
    return Item.objects.filter(published_q(), is_public=True, space__is_active=True)


def public_search(*, q: str, page: int = 1, page_size: int = 10) -> SearchPage:
    """Anonymous search: public items of active spaces that are published, normal and valid."""
    parsed = parse_query(q)
    offset, limit = _page_bounds(page, page_size)
    spaces = set(Space.objects.filter(is_active=True).values_list("pk", flat=True))
    filters = SearchFilters(
        now=clock.now(), space_ids=sorted(spaces) or [0], public_only=True, limit=limit, offset=offset
    )
    return _run(
        parsed, filters, with_items=True, allow=lambda item: item.is_public and item.space_id in spaces
    )


def public_item_get(*, pk: int) -> Item:
    item = _public_items().select_related("published_version").filter(pk=pk).first()
    if item is None:
        raise NotFound(_("知识条目不存在或未公开"))
    return item


def public_attachment_get(*, pk: int) -> Attachment:
    """A file of the published version of a public item."""
    attachment = Attachment.objects.filter(
        pk=pk, versions__pk__in=_public_items().values("published_version_id")
    ).first()
    if attachment is None:
        raise NotFound(_("附件不存在或未公开"))
    return attachment
