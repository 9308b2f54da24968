"""The index follows the database after each commit, never for a rolled-back transaction, and can be rebuilt."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction

from hotline.knowledge import selectors, services
from hotline.knowledge.engine import get_engine
from hotline.knowledge.services import ItemInput
from tests.conftest import People

from .conftest import KB, content, publish


def search_ids(user: Any, q: str) -> list[int]:
    return [h.item_id for h in selectors.kb_search(user=user, q=q).hits]


@pytest.mark.django_db(transaction=True)
def test_index_follows_commits_not_rollbacks(kb: KB, people: People) -> None:
    item = publish(kb, kb.card, "社保卡激活", "到银行激活。")  # autocommit: indexed on commit
    assert search_ids(people.agent, "激活") == [item.pk]

    with pytest.raises(RuntimeError), transaction.atomic():
        services.item_update(
            actor=kb.chief, item=item, data=ItemInput(title="社保卡激活", content=content("线上激活"))
        )
        raise RuntimeError("roll back")
    assert search_ids(people.agent, "线上") == []
    assert search_ids(people.agent, "银行") == [item.pk]

    with transaction.atomic():
        services.item_update(
            actor=kb.chief, item=item, data=ItemInput(title="社保卡激活", content=content("线上激活"))
        )
        assert search_ids(people.agent, "线上") == []  # not before the commit
    assert search_ids(people.agent, "线上") == [item.pk]
    assert search_ids(people.agent, "银行") == []


def test_rebuild_command(kb: KB, people: People, commit: Any) -> None:
    a = publish(kb, kb.card, "社保卡激活", "到银行激活。")  # no commit captured: not indexed yet
    publish(kb, kb.card, "社保卡挂失", "拨打热线挂失。", actor=kb.editor)  # pending: never indexed
    assert search_ids(people.agent, "社保卡") == []
    out = StringIO()
    call_command("rebuild_kb_index", stdout=out)
    assert "已索引 1 条知识" in out.getvalue()
    assert search_ids(people.agent, "社保卡") == [a.pk]
    assert get_engine().count() == 1


@pytest.mark.django_db(transaction=True)
def test_index_updates_run_on_the_kb_index_queue(kb: KB, people: People, settings: Any) -> None:
    """Production: after the commit the update is queued; the `kb-index` worker (real Redis) writes the index."""
    import time

    from config.celery import app
    from tests.notify.test_celery_redis import redis_up, worker_on_redis

    if not redis_up():
        pytest.skip("Redis is not running here")
    settings.HOTLINE_KB_INDEX_QUEUE = True
    route = app.amqp.router.route({}, "hotline.knowledge.tasks.sync_items_task")
    assert route["queue"].name == "kb-index"
    # (a worker's queue list sticks to the app: consume the default queue too, as later tests expect)
    with worker_on_redis(queues=["celery", "kb-index"]):
        item = publish(kb, kb.card, "社保卡激活", "到银行激活。")
        deadline = time.monotonic() + 15
        while search_ids(people.agent, "激活") != [item.pk] and time.monotonic() < deadline:
            time.sleep(0.1)
    assert search_ids(people.agent, "激活") == [item.pk]


@pytest.mark.django_db(transaction=True)
def test_index_update_done_here_when_the_broker_is_down(
    kb: KB, people: People, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kombu.exceptions import OperationalError

    from hotline.knowledge.tasks import sync_items_task

    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("[Errno 111] Connection refused")

    settings.HOTLINE_KB_INDEX_QUEUE = True
    monkeypatch.setattr(sync_items_task, "apply_async", broker_down)
    item = publish(kb, kb.card, "社保卡激活", "到银行激活。")
    assert search_ids(people.agent, "激活") == [item.pk]
