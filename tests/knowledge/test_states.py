"""KB-1: states with restore; validity periods (expired items disappear from lists and search on time)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from hotline.common import clock
from hotline.common.errors import NotAllowed, NotFound, ServiceError
from hotline.knowledge import selectors, services
from hotline.knowledge.models import ItemState
from tests.conftest import People

from .conftest import KB, fresh, publish


def search_ids(user: Any, q: str) -> list[int]:
    return [h.item_id for h in selectors.kb_search(user=user, q=q).hits]


def listed(user: Any) -> list[int]:
    return list(selectors.item_list(user=user, filters=selectors.ItemFilters()).values_list("pk", flat=True))


def test_pause_archive_recycle_restore_delete(kb: KB, people: People, commit: Any) -> None:
    with commit():
        item = publish(kb, kb.card, "社保卡年审", "社保卡无需年审。")
    assert search_ids(people.agent, "年审") == [item.pk]

    with commit():
        services.item_change_state(actor=kb.editor, item=item, action="pause")
    assert search_ids(people.agent, "年审") == [] and listed(people.agent) == []
    with pytest.raises(NotFound):
        selectors.item_get(user=people.agent, pk=item.pk)
    assert selectors.item_get(user=kb.editor, pk=item.pk).state == ItemState.PAUSED

    with commit():
        services.item_change_state(actor=kb.editor, item=fresh(item), action="recycle")
    assert fresh(item).state == ItemState.RECYCLED
    with pytest.raises(ServiceError, match="不能暂停"):
        services.item_change_state(actor=kb.editor, item=fresh(item), action="pause")

    with commit():
        services.item_change_state(actor=kb.editor, item=fresh(item), action="restore")
    assert fresh(item).state == ItemState.PAUSED  # back to where it was before the bin
    with commit():
        services.item_change_state(actor=kb.editor, item=fresh(item), action="resume")
    assert search_ids(people.agent, "年审") == [item.pk]

    with commit():
        services.item_change_state(actor=kb.editor, item=fresh(item), action="archive")
    assert search_ids(people.agent, "年审") == []
    with commit():
        services.item_change_state(actor=kb.editor, item=fresh(item), action="unarchive")
    assert search_ids(people.agent, "年审") == [item.pk]

    services.item_change_state(actor=kb.editor, item=fresh(item), action="recycle")
    with pytest.raises(NotAllowed):  # purging needs review right
        services.item_change_state(actor=kb.editor, item=fresh(item), action="delete")
    services.item_change_state(actor=kb.reviewer, item=fresh(item), action="delete")
    assert fresh(item).state == ItemState.DELETED
    with pytest.raises(NotFound):  # deleted items: KB admins only
        selectors.item_get(user=kb.editor, pk=item.pk)
    with pytest.raises(NotAllowed):
        services.item_change_state(actor=kb.chief, item=fresh(item), action="restore")
    services.item_change_state(actor=kb.admin, item=fresh(item), action="restore")
    assert fresh(item).state == ItemState.RECYCLED


def test_edit_refused_in_recycle_bin(kb: KB) -> None:
    item = publish(kb, kb.card, "标题", "内容")
    services.item_change_state(actor=kb.editor, item=item, action="recycle")
    with pytest.raises(ServiceError, match="回收站"):
        services.item_update(
            actor=kb.editor, item=fresh(item), data=services.ItemInput(title="t", content="<p>c</p>")
        )


def test_expiry(kb: KB, people: People, commit: Any) -> None:
    now = clock.now()
    with commit():
        old = publish(
            kb, kb.card, "旧版补贴政策", "补贴标准为每月300元。", valid_to=now + dt.timedelta(days=1)
        )
        new = publish(
            kb, kb.card, "新版补贴政策", "补贴标准为每月500元。", valid_from=now + dt.timedelta(days=1)
        )
    assert search_ids(people.agent, "补贴标准") == [old.pk]
    assert listed(people.agent) == [old.pk]
    with pytest.raises(NotFound):
        selectors.item_get(user=people.agent, pk=new.pk)

    with clock.frozen_now(now + dt.timedelta(days=2)):
        # Nothing was re-indexed: validity is a filter inside every search and list.
        assert search_ids(people.agent, "补贴标准") == [new.pk]
        assert listed(people.agent) == [new.pk]
        with pytest.raises(NotFound):
            selectors.item_get(user=people.agent, pk=old.pk)
        # Editors still find the expired item among the ones they maintain.
        expired = selectors.item_list(
            user=kb.editor, filters=selectors.ItemFilters(scope="manage", expired=True)
        ).values_list("pk", flat=True)
        assert list(expired) == [old.pk]
        assert selectors.item_get(user=kb.editor, pk=old.pk) == old


def test_validity_must_be_ordered(kb: KB) -> None:
    now = clock.now()
    with pytest.raises(ServiceError) as err:
        publish(kb, kb.card, "t", "c", valid_from=now, valid_to=now - dt.timedelta(days=1))
    assert "valid_to" in err.value.field_errors
