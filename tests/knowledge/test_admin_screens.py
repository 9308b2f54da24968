"""Django admin cannot write knowledge-base structure around the services (a directory added there had no
path, so grants and search scope broke — the unit-tree defect of issue 10 in the knowledge base)."""

from __future__ import annotations

from django.test import Client

from hotline.common.models import AuditLog
from hotline.knowledge.models import Directory, Item, Space
from hotline.orgs.models import Role
from tests.conftest import City

from .conftest import KB, kb_user, publish


def test_directories_and_items_are_read_only_in_admin(kb: KB, city: City) -> None:
    root = kb_user("root-admin", city.office, Role.ADMIN)
    client = Client()
    client.force_login(root)
    item = publish(kb, kb.card, "社保卡", "补办")
    before = Directory.objects.count()
    assert client.get("/admin/knowledge/directory/add/").status_code == 403
    response = client.post(
        "/admin/knowledge/directory/add/", {"space": kb.space.pk, "name": "无路径目录", "sort_order": 0}
    )
    assert response.status_code == 403 and Directory.objects.count() == before
    response = client.post(
        f"/admin/knowledge/directory/{kb.card.pk}/change/", {"parent": kb.tax.pk, "name": "x"}
    )
    assert response.status_code == 403 and Directory.objects.get(pk=kb.card.pk).parent_id == kb.social.pk
    assert client.get(f"/admin/knowledge/directory/{kb.card.pk}/change/").status_code == 200  # still viewable
    response = client.post(f"/admin/knowledge/item/{item.pk}/change/", {"title": "改", "content": "<p>x</p>"})
    assert response.status_code == 403 and Item.objects.get(pk=item.pk).title == "社保卡"

    response = client.post(
        "/admin/knowledge/space/add/",
        {"name": "区知识库", "code": "DISTRICT", "description": "", "is_active": "on"},
    )
    assert response.status_code == 302
    space = Space.objects.get(code="DISTRICT")
    assert AuditLog.objects.filter(
        object_type="knowledge.space", object_id=str(space.pk), action="create"
    ).exists()
