"""The knowledge-base management screens: item states and moves, the recycle bin, directory management,
the grants editor and the statistics cards. Same rules and answers as the API (no read → 404, read without
the right → 403 with the service's Chinese message)."""

from __future__ import annotations

from typing import Any

from django.test import Client

from hotline.knowledge import selectors, services
from hotline.knowledge.models import Directory, Grant, ItemState
from hotline.knowledge.services import GrantInput
from hotline.orgs.models import Role
from tests.conftest import City, People

from .conftest import KB, fresh, publish


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def state(client: Client, item: Any, action: str, **extra: Any) -> Any:
    return client.post(f"/kb/items/{item.pk}/state/", {"action": action, **extra})


def test_item_state_buttons_follow_the_rights(kb: KB, people: People) -> None:
    item = publish(kb, kb.card, "社保卡年审", "社保卡无需年审")
    html = client_for(kb.editor).get(f"/kb/items/{item.pk}/").content.decode()
    for action in ("pause", "archive", "recycle"):
        assert f'data-testid="kb-state-{action}"' in html
    assert 'data-testid="kb-state-delete"' not in html and 'data-testid="kb-move-form"' in html
    reader = client_for(people.agent).get(f"/kb/items/{item.pk}/").content.decode()
    assert 'data-testid="kb-item-manage"' not in reader and "kb-state-" not in reader


def test_state_actions_need_edit_right_like_the_api(kb: KB, people: People) -> None:
    item = publish(kb, kb.card, "社保卡年审", "社保卡无需年审")
    secret = publish(kb, kb.tax, "个税", "个税内部口径", actor=kb.admin)
    agent = client_for(people.agent)
    assert state(agent, secret, "pause").status_code == 404  # cannot read: 404, as the API
    response = state(agent, item, "pause")  # reads but may not edit: 403 with the reason inline
    assert response.status_code == 403
    assert "您没有该目录的编辑权限" in response.content.decode()
    assert 'data-testid="kb-action-error"' in response.content.decode()
    assert fresh(item).state == ItemState.NORMAL
    api = agent.post(f"/api/v1/kb/items/{item.pk}/state/", {"action": "pause"})
    assert api.status_code == response.status_code


def test_pause_archive_recycle_and_stale_page(kb: KB) -> None:
    item = publish(kb, kb.card, "社保卡年审", "社保卡无需年审")
    editor = client_for(kb.editor)
    response = state(editor, item, "pause", state="normal")
    assert response.status_code == 302 and response["Location"] == f"/kb/items/{item.pk}/"
    assert fresh(item).state == ItemState.PAUSED
    # a second tab still showing "normal" is told the state changed instead of acting
    stale = state(editor, item, "archive", state="normal")
    assert (
        stale.status_code == 409
        and "已被他人修改" in stale.content.decode()
        and "暂停" in stale.content.decode()
    )
    assert fresh(item).state == ItemState.PAUSED
    page = editor.get(f"/kb/items/{item.pk}/").content.decode()
    assert 'data-testid="kb-state-resume"' in page and 'data-testid="kb-state-pause"' not in page
    state(editor, item, "archive", state="paused")
    assert fresh(item).state == ItemState.ARCHIVED
    # a state the service refuses from here: its Chinese message, inline
    refused = state(editor, item, "pause")
    assert refused.status_code == 400 and "不能暂停" in refused.content.decode()
    state(editor, item, "recycle", state="archived")
    assert fresh(item).state == ItemState.RECYCLED
    page = editor.get(f"/kb/items/{item.pk}/").content.decode()
    assert 'data-testid="kb-state-restore"' in page and "修改条目" not in page


def test_recycle_bin_restore_delete_and_admin_restore(kb: KB, people: People) -> None:
    item = publish(kb, kb.card, "社保卡年审", "社保卡无需年审")
    other = publish(kb, kb.tax, "个税", "个税内部口径", actor=kb.admin)
    services.item_change_state(actor=kb.editor, item=item, action="pause")
    services.item_change_state(actor=kb.editor, item=fresh(item), action="recycle")
    services.item_change_state(actor=kb.admin, item=other, action="recycle")
    editor = client_for(kb.editor)
    assert 'data-testid="kb-nav-recycle"' in editor.get("/kb/").content.decode()
    assert 'data-testid="kb-nav-recycle"' not in client_for(people.agent).get("/kb/").content.decode()
    assert client_for(people.agent).get("/kb/recycle/").status_code == 404
    bin_page = editor.get("/kb/recycle/").content.decode()
    assert f'data-testid="kb-recycled-{item.pk}"' in bin_page
    assert f'data-testid="kb-recycled-{other.pk}"' not in bin_page  # not a directory the editor manages
    assert f'data-testid="kb-bin-restore-{item.pk}"' in bin_page
    assert f'data-testid="kb-bin-delete-{item.pk}"' not in bin_page  # purging needs review right
    assert 'data-testid="kb-deleted-list"' not in bin_page
    response = state(editor, item, "restore", state="recycled", next="/kb/recycle/")
    assert response.status_code == 302 and response["Location"] == "/kb/recycle/"
    assert fresh(item).state == ItemState.PAUSED  # back to the state before the bin
    follow = editor.get("/kb/recycle/").content.decode()
    assert "已还原" in follow and f'data-testid="kb-recycled-{item.pk}"' not in follow

    # the reviewer purges; the editor no longer finds it; the KB admin restores it to the bin
    services.item_change_state(actor=kb.editor, item=fresh(item), action="recycle")
    reviewer = client_for(kb.reviewer)
    assert f'data-testid="kb-bin-delete-{item.pk}"' in reviewer.get("/kb/recycle/").content.decode()
    response = state(reviewer, item, "delete", state="recycled", next="/kb/recycle/")
    assert response.status_code == 302 and fresh(item).state == ItemState.DELETED
    assert editor.get(f"/kb/items/{item.pk}/").status_code == 404
    assert state(editor, item, "restore").status_code == 404
    admin = client_for(kb.admin)
    admin_bin = admin.get("/kb/recycle/").content.decode()
    assert f'data-testid="kb-deleted-{item.pk}"' in admin_bin
    assert f'data-testid="kb-bin-restore-{item.pk}"' in admin_bin
    state(admin, item, "restore", state="deleted", next="/kb/recycle/")
    assert fresh(item).state == ItemState.RECYCLED


def test_item_move_picker_and_refusals(kb: KB, people: People) -> None:
    item = publish(kb, kb.card, "社保卡年审", "社保卡无需年审")
    # the editor may only read (not edit) 医疗保险: an override of the inherited kb_editor grant
    services.directory_set_grants(
        actor=kb.admin, directory=kb.medical, grants=[GrantInput(role=Role.KB_EDITOR, can_read=True)]
    )
    editor = client_for(kb.editor)
    page = editor.get(f"/kb/items/{item.pk}/").content.decode()
    picker = page[page.index('data-testid="kb-move-form"') :]
    picker = picker[: picker.index("</form>")]
    assert "医疗保险" not in picker and "税务" not in picker and "社会保障" in picker
    refused = editor.post(f"/kb/items/{item.pk}/move/", {"directory": kb.medical.pk})
    assert refused.status_code == 403 and "您没有该目录的编辑权限" in refused.content.decode()
    assert editor.post(f"/kb/items/{item.pk}/move/", {"directory": kb.tax.pk}).status_code == 404
    assert (
        client_for(people.agent).post(f"/kb/items/{item.pk}/move/", {"directory": kb.social.pk}).status_code
        == 403
    )
    response = editor.post(f"/kb/items/{item.pk}/move/", {"directory": kb.social.pk})
    assert response.status_code == 302 and fresh(item).directory_id == kb.social.pk
    assert "已移动到" in editor.get(f"/kb/items/{item.pk}/").content.decode()


def test_sub_directory_create_rename_and_delete(kb: KB, people: People) -> None:
    chief = client_for(kb.chief)
    page = chief.get(f"/kb/directories/{kb.card.pk}/").content.decode()
    assert 'data-testid="kb-subdir-form"' in page and 'data-testid="kb-rename-form"' in page
    assert 'data-testid="kb-root-create-form"' not in page  # level 1: KB admins only
    response = chief.post("/kb/directories/create/", {"parent": kb.card.pk, "name": "补办"})
    child = Directory.objects.get(name="补办")
    assert response.status_code == 302 and response["Location"] == f"/kb/directories/{child.pk}/"
    assert child.parent_id == kb.card.pk and child.depth == 3
    duplicate = chief.post("/kb/directories/create/", {"parent": kb.card.pk, "name": "补办"})
    assert duplicate.status_code == 400 and "同一级已有名为“补办”的目录" in duplicate.content.decode()
    response = chief.post(f"/kb/directories/{child.pk}/rename/", {"name": "补办与挂失", "sort_order": "3"})
    assert response.status_code == 302
    child.refresh_from_db()
    assert (child.name, child.sort_order) == ("补办与挂失", 3)
    # level 1 is for KB admins: hidden and refused
    social = chief.get(f"/kb/directories/{kb.social.pk}/").content.decode()
    assert 'data-testid="kb-rename-form"' not in social and 'data-testid="kb-subdir-form"' in social
    refused = chief.post(f"/kb/directories/{kb.social.pk}/rename/", {"name": "社保"})
    assert refused.status_code == 403 and "只有知识库管理员可以修改一级目录" in refused.content.decode()
    refused = chief.post("/kb/directories/create/", {"space": kb.space.pk, "name": "新一级"})
    assert refused.status_code == 403 and "只有知识库管理员可以新建一级目录" in refused.content.decode()
    # a reader: 403; no read: 404
    agent = client_for(people.agent)
    assert (
        'data-testid="kb-directory-manage"'
        not in agent.get(f"/kb/directories/{kb.card.pk}/").content.decode()
    )
    assert agent.post("/kb/directories/create/", {"parent": kb.card.pk, "name": "x"}).status_code == 403
    assert agent.post("/kb/directories/create/", {"parent": kb.tax.pk, "name": "x"}).status_code == 404
    assert agent.post(f"/kb/directories/{child.pk}/delete/").status_code == 403
    assert agent.post(f"/kb/directories/{kb.tax.pk}/delete/").status_code == 404
    # not empty: the service's rule, inline
    publish(kb, child, "挂失", "拨打12333挂失")
    refused = chief.post(f"/kb/directories/{child.pk}/delete/")
    assert refused.status_code == 400 and "该目录下还有知识条目" in refused.content.decode()
    empty = services.directory_create(actor=kb.chief, space=kb.space, parent=kb.card, name="空目录")
    response = chief.post(f"/kb/directories/{empty.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == f"/kb/directories/{kb.card.pk}/"
    assert not Directory.objects.filter(pk=empty.pk).exists()
    # the KB admin creates a level-1 directory with the default grants
    admin = client_for(kb.admin)
    assert 'data-testid="kb-root-create-form"' in admin.get("/kb/directories/").content.decode()
    response = admin.post("/kb/directories/create/", {"space": kb.space.pk, "name": "住房"})
    housing = Directory.objects.get(name="住房")
    assert response.status_code == 302 and housing.depth == 1 and housing.grants.count() == 3


def test_directory_move_through_the_screen(kb: KB, people: People, commit: Any) -> None:
    with commit():
        item = publish(kb, kb.card, "社保卡激活", "到银行网点激活社保卡")
    admin = client_for(kb.admin)
    page = admin.get(f"/kb/directories/{kb.card.pk}/").content.decode()
    form = page[page.index('data-testid="kb-dir-move-form"') :]
    form = form[: form.index("</form>")]
    assert f'value="{kb.medical.pk}"' in form and "（作为一级目录）" in form
    assert f'value="{kb.card.pk}"' not in form and f'value="{kb.social.pk}"' not in form  # itself, its parent
    refused = admin.post(f"/kb/directories/{kb.social.pk}/move/", {"parent": kb.card.pk})
    assert refused.status_code == 400 and "不能移动到自身或其下级目录中" in refused.content.decode()
    with commit():
        response = admin.post(f"/kb/directories/{kb.card.pk}/move/", {"parent": kb.medical.pk})
    assert response.status_code == 302
    card = Directory.objects.get(pk=kb.card.pk)
    assert card.parent_id == kb.medical.pk and card.depth == 3
    assert card.path == f"{kb.medical.path}{card.pk}/"
    # the item follows in the search: found under 医疗保险 now
    assert [
        h.item_id for h in selectors.kb_search(user=people.agent, q="激活", directory=kb.medical.pk).hits
    ] == [item.pk]
    assert "社会保障/医疗保险/社保卡" in admin.get(f"/kb/directories/{card.pk}/").content.decode()
    # an editor may not move a directory below a level-1 directory out to the top level
    chief = client_for(kb.chief)
    form = chief.get(f"/kb/directories/{card.pk}/").content.decode()
    assert "（作为一级目录）" not in form
    refused = chief.post(f"/kb/directories/{card.pk}/move/", {"parent": ""})
    assert refused.status_code == 403 and "只有知识库管理员可以调整一级目录" in refused.content.decode()


def test_grant_override_makes_a_directory_unreadable_for_a_role(kb: KB, people: People) -> None:
    item = publish(kb, kb.card, "社保卡内部口径", "仅班长可见")
    admin = client_for(kb.admin)
    page = admin.get(f"/kb/directories/{kb.card.pk}/grants/").content.decode()
    inherited = page[page.index('data-testid="kb-inherited-grants"') :]
    inherited = inherited[: inherited.index("</table>")]
    assert "所有人" in inherited and "知识库编辑" in inherited and "社会保障" in inherited
    assert 'data-testid="kb-grant-add-form"' in page
    # everyone: no rights here (replaces the inherited "everyone reads"); monitors read
    response = admin.post(
        f"/kb/directories/{kb.card.pk}/grants/", {"op": "add", "add-role": "", "add-unit": ""}
    )
    assert response.status_code == 302
    admin.post(
        f"/kb/directories/{kb.card.pk}/grants/",
        {"op": "add", "add-role": Role.MONITOR, "add-unit": "", "add-can_read": "on"},
    )
    grants = {(g.role, g.can_read) for g in Grant.objects.filter(directory=kb.card)}
    assert grants == {("", False), (Role.MONITOR, True)}
    page = admin.get(f"/kb/directories/{kb.card.pk}/grants/").content.decode()
    assert "已被本目录取代" in page
    assert client_for(people.agent).get(f"/kb/items/{item.pk}/").status_code == 404
    assert client_for(people.agent).get(f"/kb/directories/{kb.card.pk}/").status_code == 404
    assert client_for(people.monitor).get(f"/kb/items/{item.pk}/").status_code == 200
    assert client_for(kb.editor).get(f"/kb/items/{item.pk}/").status_code == 200  # inherited kb_editor grant
    # the other directories keep the inherited grants
    assert client_for(people.agent).get(f"/kb/directories/{kb.medical.pk}/").status_code == 200
    # editors see the grants read-only and may not change them
    editor = client_for(kb.editor)
    read_only = editor.get(f"/kb/directories/{kb.card.pk}/grants/").content.decode()
    assert (
        'data-testid="kb-grant-add-form"' not in read_only and "只有知识库管理员可以设置目录权限" in read_only
    )
    refused = editor.post(f"/kb/directories/{kb.card.pk}/grants/", {"op": "add", "add-role": Role.AGENT})
    assert refused.status_code == 403 and "只有知识库管理员可以设置目录权限" in refused.content.decode()
    assert client_for(people.agent).get(f"/kb/directories/{kb.card.pk}/grants/").status_code == 404


def test_grants_formset_edits_and_removes_own_grants(kb: KB, city: City, people: People) -> None:
    admin = client_for(kb.admin)
    url = f"/kb/directories/{kb.tax.pk}/grants/"
    page = admin.get(url).content.decode()
    assert page.count('data-testid="kb-grant-row"') == 1 and "没有继承的权限" in page
    # the tax bureau's own grant becomes read-only for the bureau and its sub-units; add the east district
    data = {
        "op": "save",
        "g-TOTAL_FORMS": "1",
        "g-INITIAL_FORMS": "1",
        "g-MIN_NUM_FORMS": "0",
        "g-MAX_NUM_FORMS": "1000",
        "g-0-role": "",
        "g-0-unit": str(city.tax.pk),
        "g-0-include_subunits": "on",
        "g-0-can_read": "on",
    }
    assert admin.post(url, data).status_code == 302
    assert (
        client_for(people.tax).post("/kb/directories/create/", {"parent": kb.tax.pk, "name": "x"}).status_code
        == 403
    )
    admin.post(
        url,
        {"op": "add", "add-unit": str(city.east.pk), "add-include_subunits": "", "add-can_read": "on"},
    )
    assert client_for(people.east).get(f"/kb/directories/{kb.tax.pk}/").status_code == 200
    assert (
        client_for(people.liyuan).get(f"/kb/directories/{kb.tax.pk}/").status_code == 404
    )  # without sub-units
    # the same grant twice: the service's message
    dup = admin.post(url, {"op": "add", "add-unit": str(city.east.pk), "add-can_read": "on"})
    assert dup.status_code == 400 and "重复" in dup.content.decode()
    # remove the east grant
    rows = list(Grant.objects.filter(directory=kb.tax).order_by("id"))
    data = {
        "op": "save",
        "g-TOTAL_FORMS": "2",
        "g-INITIAL_FORMS": "2",
        "g-MIN_NUM_FORMS": "0",
        "g-MAX_NUM_FORMS": "1000",
    }
    for i, g in enumerate(rows):
        data.update({f"g-{i}-role": g.role, f"g-{i}-unit": str(g.unit_id or ""), f"g-{i}-can_read": "on"})
        if g.include_subunits:
            data[f"g-{i}-include_subunits"] = "on"
    data["g-1-DELETE"] = "on"
    assert admin.post(url, data).status_code == 302
    assert client_for(people.east).get(f"/kb/directories/{kb.tax.pk}/").status_code == 404
    assert Grant.objects.filter(directory=kb.tax).count() == 1


def test_statistics_on_item_and_directory_pages(kb: KB, people: People) -> None:
    item = publish(kb, kb.card, "社保卡挂失", "拨打12333")
    publish(kb, kb.medical, "医保报销", "异地报销")
    for user in (people.agent, people.dispatcher):
        services.item_record_view(user=user, item=item)
    services.helpful_vote(user=people.agent, item=item, helpful=True)
    client = client_for(people.leader)
    page = client.get(f"/kb/items/{item.pk}/").content.decode()  # this view counts too
    assert 'data-testid="kb-stats-period-views">3<' in page
    assert 'data-testid="kb-stats-helpful">1 / 0<' in page
    partial = client.get(f"/kb/items/{item.pk}/stats/?days=7", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="kb-stats-period-views">3<' in partial and "近7天浏览" in partial
    assert fresh(item).view_count == 3  # the statistics partial does not count a view
    directory = client.get(f"/kb/directories/{kb.social.pk}/").content.decode()
    assert 'data-testid="kb-stats-items">2<' in directory and 'data-testid="kb-stats-views">3<' in directory
    only_card = client.get(f"/kb/directories/{kb.medical.pk}/stats/?days=90").content.decode()
    assert 'data-testid="kb-stats-views">0<' in only_card and "近90天浏览" in only_card
    secret = publish(kb, kb.tax, "个税", "个税", actor=kb.admin)
    assert client.get(f"/kb/items/{secret.pk}/stats/").status_code == 404
    assert client.get(f"/kb/directories/{kb.tax.pk}/stats/").status_code == 404
