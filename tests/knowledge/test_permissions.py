"""KB-4: read / edit / review per role and unit on a directory, inherited below, overridable below;
enforced in lists, search, exports and API answers (another unit's user gets 404)."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.common.errors import NotAllowed, NotFound, ServiceError
from hotline.knowledge import selectors, services
from hotline.knowledge.models import MAX_DEPTH
from hotline.knowledge.permissions import user_access
from hotline.knowledge.services import GrantInput
from hotline.orgs.models import Role
from tests.conftest import City, People, as_user

from .conftest import KB, kb_user, publish


def search_ids(user: Any, q: str, **kw: Any) -> list[int]:
    return [h.item_id for h in selectors.kb_search(user=user, q=q, **kw).hits]


def test_default_root_grants(kb: KB, people: People) -> None:
    access = user_access(people.west)
    assert access.can_read(kb.card.pk) and not access.can_edit(kb.card.pk)
    editor = user_access(kb.editor)
    assert editor.can_edit(kb.card.pk) and not editor.can_review(kb.card.pk)
    reviewer = user_access(kb.reviewer)
    assert reviewer.can_review(kb.card.pk) and not reviewer.can_edit(kb.card.pk)
    admin = user_access(kb.admin)
    assert admin.can_edit(kb.tax.pk) and admin.can_review(kb.tax.pk)


def test_unit_grant_inherited_by_subdirectories(kb: KB, city: City, people: People, commit: Any) -> None:
    deep = services.directory_create(actor=kb.admin, space=kb.space, parent=kb.tax, name="个税")
    deeper = services.directory_create(actor=kb.admin, space=kb.space, parent=deep, name="专项附加扣除")
    with commit():
        item = publish(kb, deeper, "子女教育扣除", "子女教育专项附加扣除每月2000元。", actor=people.tax)
    assert user_access(people.tax).can_edit(deeper.pk)
    assert selectors.item_get(user=people.tax, pk=item.pk) == item
    assert search_ids(people.tax, "专项附加扣除") == [item.pk]
    for outsider in (people.west, people.agent, kb.chief):
        with pytest.raises(NotFound):
            selectors.item_get(user=outsider, pk=item.pk)
        with pytest.raises(NotFound):
            selectors.directory_get(user=outsider, pk=deeper.pk)
        assert search_ids(outsider, "专项附加扣除") == []
        assert (
            not selectors.item_list(user=outsider, filters=selectors.ItemFilters())
            .filter(pk=item.pk)
            .exists()
        )


def test_another_units_user_gets_404_through_the_api(kb: KB, people: People, api: Any, commit: Any) -> None:
    with commit():
        item = publish(kb, kb.tax, "发票查验", "增值税发票可在税务网站查验。", actor=people.tax)
    assert as_user(api, people.tax).get(f"/api/v1/kb/items/{item.pk}/").status_code == 200
    client = as_user(api, people.west)
    for url in (
        f"/api/v1/kb/items/{item.pk}/",
        f"/api/v1/kb/items/{item.pk}/versions/",
        f"/api/v1/kb/directories/{kb.tax.pk}/",
        f"/api/v1/kb/directories/{kb.tax.pk}/export/",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "不存在或无权查看" in response.json()["detail"]
    assert client.get("/api/v1/kb/search/", {"q": "发票查验"}).json()["count"] == 0
    assert client.get("/api/v1/kb/search/", {"q": "发票", "directory": str(kb.tax.pk)}).status_code == 404
    assert client.post(f"/api/v1/kb/items/{item.pk}/favourite/").status_code == 404


def test_override_below_takes_rights_away_and_gives_others(
    kb: KB, city: City, people: People, commit: Any
) -> None:
    internal = services.directory_create(actor=kb.admin, space=kb.space, parent=kb.social, name="内部口径")
    services.directory_set_grants(
        actor=kb.admin,
        directory=internal,
        grants=[
            GrantInput(can_read=False),  # everyone: no longer reads here
            GrantInput(unit=city.east, include_subunits=True, can_read=True),
        ],
    )
    below = services.directory_create(actor=kb.admin, space=kb.space, parent=internal, name="区级口径")
    with commit():
        item = publish(kb, below, "东湖区社保经办口径", "东湖区社保经办点的内部口径。")
    # east and its sub-units (liyuan street, xingfu community) read; west and the office agent do not.
    for reader in (people.east, people.liyuan, people.xingfu):
        assert search_ids(reader, "内部口径") == [item.pk]
        selectors.item_get(user=reader, pk=item.pk)
    for outsider in (people.west, people.agent):
        assert search_ids(outsider, "内部口径") == []
        with pytest.raises(NotFound):
            selectors.item_get(user=outsider, pk=item.pk)
    # The KB editor role's own grant at the root is not overridden: editors still edit below.
    assert user_access(kb.editor).can_edit(below.pk)
    # Siblings keep the inherited rights.
    assert user_access(people.west).can_read(kb.card.pk)


def test_unit_grant_without_subunits(kb: KB, city: City, people: People) -> None:
    street = services.directory_create(
        actor=kb.admin,
        space=kb.space,
        name="街道专栏",
        grants=[
            GrantInput(unit=city.liyuan, include_subunits=False, can_read=True, can_edit=True),
        ],
    )
    assert user_access(people.liyuan).can_edit(street.pk)
    assert not user_access(people.xingfu).can_read(street.pk)


def test_role_and_unit_together(kb: KB, city: City, people: People) -> None:
    d = services.directory_create(
        actor=kb.admin,
        space=kb.space,
        name="税务编辑专区",
        grants=[
            GrantInput(role=Role.KB_EDITOR, unit=city.tax, can_edit=True),
        ],
    )
    tax_editor = kb_user("tax_editor", city.tax, Role.KB_EDITOR)
    assert user_access(tax_editor).can_edit(d.pk)
    assert not user_access(people.tax).can_read(d.pk)  # tax bureau, but not an editor
    assert not user_access(kb.editor).can_read(d.pk)  # editor, but not of the tax bureau


def test_only_kb_admins_change_level_one(kb: KB) -> None:
    with pytest.raises(NotAllowed):
        services.directory_create(actor=kb.chief, space=kb.space, name="新一级目录")
    with pytest.raises(NotAllowed):
        services.directory_update(actor=kb.chief, directory=kb.social, name="改名")
    with pytest.raises(NotAllowed):
        services.directory_move(actor=kb.chief, directory=kb.card, parent=None)
    with pytest.raises(NotAllowed):
        services.directory_set_grants(actor=kb.chief, directory=kb.card, grants=[])
    sub = services.directory_create(actor=kb.editor, space=kb.space, parent=kb.card, name="补办")
    assert sub.depth == 3 and sub.path == f"{kb.card.path}{sub.pk}/"
    services.directory_update(actor=kb.admin, directory=kb.social, name="社会保险")


def test_depth_limit(kb: KB) -> None:
    parent = kb.card
    while parent.depth < MAX_DEPTH:
        parent = services.directory_create(
            actor=kb.editor, space=kb.space, parent=parent, name=f"第{parent.depth + 1}级"
        )
    with pytest.raises(ServiceError, match="最多7级"):
        services.directory_create(actor=kb.editor, space=kb.space, parent=parent, name="第8级")


def test_moving_a_subtree_keeps_permissions_consistent(kb: KB, people: People, commit: Any) -> None:
    sub = services.directory_create(actor=kb.editor, space=kb.space, parent=kb.card, name="补办流程")
    with commit():
        item = publish(kb, sub, "社保卡挂失补办", "社保卡挂失后可补办。")
    assert search_ids(people.west, "挂失") == [item.pk]
    with commit():
        moved = services.directory_move(actor=kb.admin, directory=sub, parent=kb.tax)
    assert moved.path == f"{kb.tax.path}{sub.pk}/" and moved.depth == 2
    # Now under 税务: inherits the tax bureau's rights, the rest no longer see it (also in search).
    assert search_ids(people.west, "挂失") == []
    assert search_ids(people.tax, "挂失") == [item.pk]
    assert search_ids(people.tax, "挂失", directory=kb.tax.pk) == [item.pk]
    with pytest.raises(NotFound):
        selectors.item_get(user=people.west, pk=item.pk)
    with pytest.raises(ServiceError, match="自身或其下级"):
        services.directory_move(actor=kb.admin, directory=kb.tax, parent=moved)


def test_editing_needs_edit_right(kb: KB, people: People) -> None:
    with pytest.raises(NotAllowed):
        publish(kb, kb.card, "标题", "内容", actor=people.agent)
    with pytest.raises(NotAllowed):
        publish(kb, kb.card, "标题", "内容", actor=kb.reviewer)


def test_export_only_has_readable_items(kb: KB, city: City, people: People, commit: Any) -> None:
    import io

    import openpyxl

    hidden = services.directory_create(
        actor=kb.admin,
        space=kb.space,
        parent=kb.social,
        name="隐藏",
        grants=[
            GrantInput(can_read=False),
        ],
    )
    with commit():
        publish(kb, kb.card, "公开条目", "大家都能看。")
        publish(kb, hidden, "隐藏条目", "只有管理员能看。", actor=kb.admin)
    from hotline.knowledge.importexport import directory_export

    book = openpyxl.load_workbook(io.BytesIO(directory_export(user=people.west, directory=kb.social)))
    titles = [row[1] for row in book.active.iter_rows(min_row=2, values_only=True)]
    assert titles == ["公开条目"]


def test_readable_directory_inside_an_unreadable_one(kb: KB, city: City, people: People, commit: Any) -> None:
    closed = services.directory_create(
        actor=kb.admin, space=kb.space, parent=kb.social, name="封闭", grants=[GrantInput(can_read=False)]
    )
    reopened = services.directory_create(
        actor=kb.admin, space=kb.space, parent=closed, name="重新开放", grants=[GrantInput(can_read=True)]
    )
    still_closed = services.directory_create(actor=kb.admin, space=kb.space, parent=closed, name="仍封闭")
    with commit():
        a = publish(kb, closed, "封闭条目", "测试口径甲", actor=kb.admin)
        b = publish(kb, reopened, "开放条目", "测试口径乙", actor=kb.admin)
        c = publish(kb, still_closed, "仍封闭条目", "测试口径丙", actor=kb.admin)
    access = user_access(people.west)
    tops, rest = access.covering(access.unreadable)
    assert still_closed.pk in tops and kb.tax.pk in tops and closed.pk in rest
    assert search_ids(people.west, "测试口径") == [b.pk]
    assert sorted(search_ids(kb.admin, "测试口径")) == sorted([a.pk, b.pk, c.pk])


def test_switched_off_space_is_not_searched(kb: KB, people: People, commit: Any) -> None:
    with commit():
        item = publish(kb, kb.card, "社保卡激活", "到银行激活。")
    assert search_ids(people.agent, "激活") == [item.pk]
    kb.space.is_active = False
    kb.space.save(update_fields=["is_active"])
    from hotline.knowledge.permissions import bump_generation

    bump_generation()
    assert search_ids(people.agent, "激活") == []
    assert search_ids(people.west, "激活") == []
