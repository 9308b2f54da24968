"""Readers for message CSVs in the shape of the TipDM 2020 "smart government" data (留言主题, 留言详情, 一级标签 …)
and its three-level taxonomy (一级分类, 二级分类, 三级分类)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from .classifier import Message
from .texts import clean

TITLE, CONTENT, CONTENT_CLEAN, LABEL, ID = "留言主题", "留言详情", "留言详情_clean", "一级标签", "留言编号"


@dataclass(frozen=True)
class Row:
    id: str
    message: Message
    label: str


class DataError(ValueError):
    pass


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or TITLE not in reader.fieldnames:
            raise DataError(f"{path}: no {TITLE} column")
        return list(reader)


def _message(row: dict[str, str]) -> Message:
    return Message(title=clean(row.get(TITLE)), content=clean(row.get(CONTENT_CLEAN) or row.get(CONTENT)))


def read_labelled(path: Path) -> list[Row]:
    rows = _rows(path)
    if rows and LABEL not in rows[0]:
        raise DataError(f"{path}: no {LABEL} column")
    return [
        Row(id=r.get(ID, str(i)), message=_message(r), label=clean(r[LABEL]))
        for i, r in enumerate(rows)
        if clean(r.get(LABEL))
    ]


def read_unlabelled(path: Path) -> list[Message]:
    return [_message(r) for r in _rows(path)]


def read_taxonomy(path: Path) -> dict[str, list[str]]:
    """First-level category → its second- and third-level names (each once, in file order)."""
    out: dict[str, list[str]] = {}
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for row in csv.reader(handle):
            if not row or row[0] in ("一级分类", ""):
                continue
            names = out.setdefault(clean(row[0]), [])
            for name in row[1:3]:
                name = clean(name)
                if name and name not in names:
                    names.append(name)
    return out


def without(pool: list[Message], labelled: list[Message]) -> list[Message]:
    """The unlabelled pool less any message that is also labelled (same title and content)."""
    seen = {(m.title, m.content) for m in labelled}
    return [m for m in pool if (m.title, m.content) not in seen]
