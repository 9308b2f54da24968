"""Recompute every unit's `path` and `depth` from the parent links (issue 10: units added or moved in Django
admin before it went through the services kept an empty or stale path, which widened their scope).
Run by migration 0002 on existing installations; changes only the rows that are wrong."""

from __future__ import annotations

from typing import Any


def repair_unit_paths(unit_model: Any) -> int:
    """Fix paths and depths top-down; returns how many rows changed. Works with the historical model too."""
    rows = list(unit_model._default_manager.order_by("id").values_list("id", "parent_id", "path", "depth"))
    children: dict[int | None, list[int]] = {}
    current = {pk: (path, depth) for pk, _parent, path, depth in rows}
    for pk, parent, _path, _depth in rows:
        children.setdefault(parent, []).append(pk)
    wanted: dict[int, tuple[str, int]] = {}
    stack: list[tuple[int, str, int]] = [(pk, "/", 1) for pk in children.get(None, [])]
    while stack:
        pk, prefix, depth = stack.pop()
        path = f"{prefix}{pk}/"
        wanted[pk] = (path, depth)
        stack.extend((child, path, depth + 1) for child in children.get(pk, []))
    changed = [pk for pk, value in wanted.items() if current[pk] != value]
    for pk in changed:
        path, depth = wanted[pk]
        unit_model._default_manager.filter(pk=pk).update(path=path, depth=depth)
    return len(changed)
