"""Keeping the search index in step with the database.

Services call `schedule_reindex(ids)` inside their transaction; after the commit the items are read again
and indexed (if searchable: state normal and published) or removed — in the request's thread, or, with
HOTLINE_KB_INDEX_QUEUE (production), by the `kb-index` queue's worker (tasks.sync_items_task). Nothing is indexed for a transaction
that rolls back. Validity periods are filters inside the engine, so an item expires from search on time
without any sweep. `rebuild` (the `rebuild_kb_index` command) builds the whole index from the database.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.db import transaction

from .engine import IndexDoc, SearchEngine, get_engine
from .models import Item, ItemState

logger = logging.getLogger(__name__)

_pending = threading.local()


def _pending_ids() -> set[int]:
    ids: set[int] | None = getattr(_pending, "ids", None)
    if ids is None:
        ids = set()
        _pending.ids = ids
    return ids


def schedule_reindex(item_ids: Iterable[int]) -> None:
    """Re-read and re-index these items once the current transaction commits (at once outside one)."""
    ids = _pending_ids()
    ids.update(item_ids)
    # Each call queues a flush; the first to run after the commit does the work for all pending ids.
    # Ids left behind by a rolled-back transaction are simply re-read from the database with the next flush.
    transaction.on_commit(flush, robust=True)


def flush() -> None:
    ids = _pending_ids()
    if not ids:
        return
    batch = set(ids)
    ids.clear()
    if settings.HOTLINE_KB_INDEX_QUEUE:
        _enqueue(sorted(batch))
    else:
        sync_items(batch)


def _enqueue(item_ids: list[int]) -> None:
    """Hand the update to the task queue's single index writer; if the broker is down, write it here."""
    from .tasks import sync_items_task

    try:
        sync_items_task.apply_async((item_ids,), retry=False)
    except Exception:
        logger.warning("知识库索引任务无法入队，改为当场更新（条目 %s）", item_ids, exc_info=True)
        sync_items(item_ids)


def searchable_items() -> Iterator[Item]:
    return (
        Item.objects.filter(state=ItemState.NORMAL, published_version__isnull=False)
        .select_related("directory")
        .prefetch_related("published_version__attachments")
        .iterator(chunk_size=500)
    )


def index_doc(item: Item) -> IndexDoc:
    version = item.published_version
    attachments = list(version.attachments.all()) if version is not None else []
    body = "\n".join([item.content_text, *(f"{a.name}\n{a.text}" for a in attachments)])
    return IndexDoc(
        item_id=item.pk,
        space_id=item.space_id,
        directory_id=item.directory_id,
        ancestor_ids=tuple(item.directory.ancestor_ids),
        title=item.title,
        keywords=item.keywords,
        body=body,
        is_public=item.is_public,
        valid_from=item.valid_from,
        valid_to=item.valid_to,
        views=item.view_count,
        published_at=item.published_at,
    )


def sync_items(item_ids: Iterable[int], engine: SearchEngine | None = None) -> None:
    ids = set(item_ids)
    if not ids:
        return
    engine = engine or get_engine()
    items = list(
        Item.objects.filter(pk__in=ids, state=ItemState.NORMAL, published_version__isnull=False)
        .select_related("directory")
        .prefetch_related("published_version__attachments")
    )
    keep = {item.pk for item in items}
    try:
        engine.index_many([index_doc(item) for item in items], remove=ids - keep)
    except Exception:
        logger.exception("知识库索引更新失败（条目 %s），请运行 manage.py rebuild_kb_index", sorted(ids))
        raise


def rebuild(engine: SearchEngine | None = None) -> int:
    """Empty the index and index every searchable item again. Returns how many were indexed."""
    engine = engine or get_engine()
    engine.clear()
    count = 0

    def docs() -> Iterator[IndexDoc]:
        nonlocal count
        for item in searchable_items():
            count += 1
            yield index_doc(item)

    engine.index_many(docs(), bulk=True)
    return count
