"""Knowledge-base fixtures: a space with a small directory tree, KB editors and reviewers, an index per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hotline.knowledge import services
from hotline.knowledge.engine import reset_engines
from hotline.knowledge.models import Directory, Item, Space
from hotline.knowledge.services import GrantInput, ItemInput
from hotline.orgs.models import Role, User
from hotline.orgs.services import user_create
from tests.conftest import City, People


@pytest.fixture(autouse=True)
def kb_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own empty search index."""
    path = tmp_path / "kb-index"
    monkeypatch.setenv("HOTLINE_KB_INDEX_DIR", str(path))
    reset_engines()
    yield path
    reset_engines()


@pytest.fixture
def commit(django_capture_on_commit_callbacks: Any) -> Callable[[], AbstractContextManager[Any]]:
    """`with commit(): …` runs what the code queued for after the commit (the index update) at the end."""

    def run() -> AbstractContextManager[Any]:
        return django_capture_on_commit_callbacks(execute=True)

    return run


@dataclass
class KB:
    space: Space
    admin: User  # administrator of the space (no system role)
    editor: User  # KB editor: may edit, not review
    reviewer: User  # KB reviewer: may review, not edit
    chief: User  # editor and reviewer: publishes directly
    social: Directory  # 社会保障 (level 1, default grants: everyone reads)
    card: Directory  # 社会保障/社保卡
    medical: Directory  # 社会保障/医疗保险
    tax: Directory  # 税务 (level 1, only the tax bureau reads and edits)


def kb_user(name: str, unit: Any, *roles: str) -> User:
    return user_create(username=name, password="pw-123456", full_name=name, unit=unit, roles=roles)


@pytest.fixture
def kb(city: City, people: People) -> KB:
    root = kb_user("root", city.office, Role.ADMIN)
    admin = kb_user("kbadmin", city.office)
    space = services.space_create(actor=root, name="12345知识库", code="HOTLINE", admins=[admin])
    social = services.directory_create(actor=admin, space=space, name="社会保障")
    card = services.directory_create(actor=admin, space=space, parent=social, name="社保卡")
    medical = services.directory_create(actor=admin, space=space, parent=social, name="医疗保险")
    tax = services.directory_create(
        actor=admin,
        space=space,
        name="税务",
        grants=[GrantInput(unit=city.tax, can_read=True, can_edit=True, can_review=True)],
    )
    return KB(
        space=space,
        admin=admin,
        editor=kb_user("editor", city.office, Role.KB_EDITOR),
        reviewer=kb_user("reviewer", city.office, Role.KB_REVIEWER),
        chief=kb_user("chief", city.office, Role.KB_EDITOR, Role.KB_REVIEWER),
        social=social,
        card=card,
        medical=medical,
        tax=tax,
    )


def content(text: str) -> str:
    return f"<p>{text}</p>"


def publish(
    kb: KB,
    directory: Directory,
    title: str,
    text: str,
    *,
    actor: User | None = None,
    **extra: Any,
) -> Item:
    """An item published at once (by an editor with review right unless `actor` is given)."""
    data = ItemInput(title=title, content=content(text), **extra)
    return services.item_create(actor=actor or kb.chief, directory=directory, data=data)


def fresh(item: Item) -> Item:
    return Item.objects.get(pk=item.pk)
