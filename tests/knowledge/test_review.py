"""KB-2: submitted changes stay invisible until approved; reviewers publish directly; rejections carry a reason."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.common.errors import Conflict, NotAllowed, NotFound, ServiceError
from hotline.common.models import AuditLog
from hotline.knowledge import selectors, services
from hotline.knowledge.models import ItemVersion, VersionStatus
from hotline.knowledge.services import ItemInput
from tests.conftest import People

from .conftest import KB, content, fresh, publish


def search_ids(user: Any, q: str) -> list[int]:
    return [h.item_id for h in selectors.kb_search(user=user, q=q).hits]


def test_new_item_is_invisible_until_approved(kb: KB, people: People, commit: Any) -> None:
    with commit():
        item = services.item_create(
            actor=kb.editor,
            directory=kb.card,
            data=ItemInput(
                title="社保卡激活", content=content("新社保卡须先激活金融功能。"), keywords="激活"
            ),
        )
    assert not item.is_published
    with pytest.raises(NotFound):
        selectors.item_get(user=people.agent, pk=item.pk)
    assert search_ids(people.agent, "激活") == []
    assert search_ids(kb.editor, "激活") == []  # not even the author finds it in search before approval
    assert selectors.item_get(user=kb.editor, pk=item.pk) == item  # but sees it among their items
    queue = list(selectors.review_queue(user=kb.reviewer))
    assert [v.item_id for v in queue] == [item.pk]
    assert list(selectors.review_queue(user=people.agent)) == []

    with commit():
        services.version_approve(actor=kb.reviewer, version=queue[0], note="同意")
    item = fresh(item)
    assert item.is_published and item.published_at is not None
    assert selectors.item_get(user=people.agent, pk=item.pk) == item
    assert search_ids(people.agent, "激活") == [item.pk]
    assert AuditLog.objects.filter(object_type="knowledge.item", object_id=str(item.pk)).count() == 2


def test_editor_with_review_right_publishes_directly(kb: KB, people: People, commit: Any) -> None:
    with commit():
        item = publish(kb, kb.card, "社保卡挂失", "拨打12345或到银行网点挂失。")
    assert fresh(item).is_published
    version = item.versions.get()
    assert version.status == VersionStatus.APPROVED and version.reviewed_by == kb.chief
    assert search_ids(people.agent, "挂失") == [item.pk]


def test_change_is_invisible_until_approved(kb: KB, people: People, commit: Any) -> None:
    with commit():
        item = publish(kb, kb.card, "社保卡补办", "补办费用为20元。")
    with commit():
        change = services.item_update(
            actor=kb.editor,
            item=item,
            data=ItemInput(title="社保卡补办", content=content("补办现已免费。")),
            expected_version=1,
        )
    assert change.number == 2 and change.status == VersionStatus.PENDING
    # Readers still get the published text, in the item and in search.
    assert "20元" in selectors.item_get(user=people.agent, pk=item.pk).content
    assert search_ids(people.agent, "20元") == [item.pk]
    assert search_ids(people.agent, "免费") == []
    # Readers see only the published history; editors see the pending change too.
    assert [v.number for v in selectors.item_versions(user=people.agent, item=item)] == [1]
    assert [v.number for v in selectors.item_versions(user=kb.editor, item=item)] == [2, 1]
    with pytest.raises(NotFound):
        selectors.version_get(user=people.agent, pk=change.pk)

    with commit():
        services.version_approve(actor=kb.reviewer, version=change)
    assert "免费" in fresh(item).content
    assert search_ids(people.agent, "免费") == [item.pk]
    assert search_ids(people.agent, "20元") == []


def test_reject_needs_a_reason_and_goes_back_to_the_author(kb: KB, commit: Any) -> None:
    with commit():
        item = services.item_create(
            actor=kb.editor, directory=kb.card, data=ItemInput(title="草稿", content=content("有误的内容"))
        )
    version = item.versions.get()
    with pytest.raises(ServiceError) as err:
        services.version_reject(actor=kb.reviewer, version=version, reason="  ")
    assert err.value.field_errors == {"reason": ["请填写退回原因"]}
    services.version_reject(actor=kb.reviewer, version=version, reason="政策依据已过期")
    version.refresh_from_db()
    assert version.status == VersionStatus.REJECTED and version.review_note == "政策依据已过期"
    mine = list(selectors.my_submissions(user=kb.editor))
    assert mine[0].review_note == "政策依据已过期"
    assert not fresh(item).is_published
    with pytest.raises(Conflict):
        services.version_approve(actor=kb.reviewer, version=version)


def test_review_needs_review_right(kb: KB, commit: Any) -> None:
    item = services.item_create(
        actor=kb.editor, directory=kb.card, data=ItemInput(title="t", content="<p>c</p>")
    )
    with pytest.raises(NotAllowed):
        services.version_approve(actor=kb.editor, version=item.versions.get())


def test_newer_change_supersedes_a_pending_one(kb: KB) -> None:
    item = publish(kb, kb.card, "标题", "第一版")
    first = services.item_update(
        actor=kb.editor, item=item, data=ItemInput(title="标题", content="<p>第二版</p>")
    )
    with pytest.raises(Conflict):
        services.item_update(
            actor=kb.editor, item=item, data=ItemInput(title="标题", content="<p>x</p>"), expected_version=1
        )
    second = services.item_update(
        actor=kb.editor, item=item, data=ItemInput(title="标题", content="<p>第三版</p>"), expected_version=2
    )
    first.refresh_from_db()
    assert first.status == VersionStatus.SUPERSEDED
    assert ItemVersion.objects.filter(item=item, status=VersionStatus.PENDING).get() == second


def test_content_is_sanitized(kb: KB) -> None:
    item = publish(
        kb,
        kb.card,
        "安全",
        '<a href="javascript:alert(1)" onclick="x()">链接</a><script>alert(1)</script><b>加粗</b>',
    )
    assert "script" not in item.content and "onclick" not in item.content and "javascript" not in item.content
    assert "<b>加粗</b>" in item.content
    assert item.content_text == "链接加粗"


def test_validation_errors(kb: KB) -> None:
    with pytest.raises(ServiceError) as err:
        services.item_create(actor=kb.chief, directory=kb.card, data=ItemInput(title=" ", content="<p>x</p>"))
    assert "title" in err.value.field_errors
    with pytest.raises(ServiceError) as err:
        services.item_create(
            actor=kb.chief, directory=kb.card, data=ItemInput(title="t", content="<script>x</script>")
        )
    assert "content" in err.value.field_errors
