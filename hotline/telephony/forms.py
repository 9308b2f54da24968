"""The IVR editor's form: one block of inputs per node (`n-<i>-<field>`) turned into the graph JSON and back.
Only parsing lives here; what makes a graph publishable is `ivr.validate` (called by the services)."""

from __future__ import annotations

import re
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _

from . import ivr

FIELDS = (
    "id",
    "type",
    "prompt",
    "audio",
    "next",
    "digits",
    "timeout",
    "retries",
    "options",
    "fallback",
    "ranges",
    "days",
    "open",
    "closed",
    "queue",
    "number",
    "var",
    "invalid",
    "branches",
    "priority",
)
INT_FIELDS = ("digits", "timeout", "retries", "priority")
# Which inputs a node type uses (the others are dropped when the graph is built).
USED: dict[str, tuple[str, ...]] = {
    ivr.PLAY: ("prompt", "audio", "next"),
    ivr.MENU: ("prompt", "audio", "digits", "timeout", "retries", "options", "fallback", "var"),
    ivr.HOURS: ("ranges", "days", "open", "closed"),
    ivr.QUEUE: ("prompt", "audio", "queue", "priority"),
    ivr.VOICEMAIL: ("prompt", "audio"),
    ivr.HANGUP: ("prompt", "audio"),
    ivr.TRANSFER: ("number", "fallback"),
    ivr.CASE_PROGRESS: ("prompt", "audio", "timeout", "retries", "next"),
    ivr.COLLECT: ("prompt", "audio", "digits", "timeout", "retries", "var", "next", "fallback", "invalid"),
    ivr.CONDITION: ("branches", "fallback"),
    ivr.BACK: (),
}
MAX_ROWS = ivr.MAX_NODES + 10
OPTION_RE = re.compile(r"^\s*([^=\s]+)\s*=\s*(\S+)\s*$")
BRANCH_SEP = "=>"


def options_text(options: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in (options or {}).items())


def branches_text(branches: Any) -> str:
    """A condition node's branches as the editor shows them: one `condition => node` per line."""
    if not isinstance(branches, list):
        return ""
    return "\n".join(
        f"{b.get('when', '')} {BRANCH_SEP} {b.get('next', '')}" for b in branches if isinstance(b, dict)
    )


def parse_branches(nid: str, text: str) -> tuple[list[dict[str, str]], list[ivr.Problem]]:
    branches: list[dict[str, str]] = []
    problems: list[ivr.Problem] = []
    for line in [p.strip() for p in re.split(r"[;；\n]", text) if p.strip()]:
        when, sep, target = line.rpartition(BRANCH_SEP)
        if not sep or not when.strip() or not target.strip():
            problems.append(
                ivr.Problem(nid, "branches", _("条件分支“%(line)s”格式应为 条件 => 节点") % {"line": line})
            )
            continue
        branches.append({"when": when.strip(), "next": target.strip()})
    return branches, problems


def graph_from_post(data: QueryDict) -> tuple[dict[str, Any], list[ivr.Problem]]:
    """The graph the admin typed, and what could not even be read (a malformed key option)."""
    nodes: list[dict[str, Any]] = []
    problems: list[ivr.Problem] = []
    for i in range(MAX_ROWS):
        row = {f: str(data.get(f"n-{i}-{f}", ""))[:2000].strip() for f in FIELDS}
        if not row["id"] or data.get(f"n-{i}-delete"):
            continue
        kind = row["type"]
        node: dict[str, Any] = {"id": row["id"], "type": kind}
        for field in USED.get(kind, ()):
            value: Any = row[field]
            if field in INT_FIELDS:
                value = int(value) if value.isdigit() else (value or None)
                if value is None:
                    continue
            elif field == "options":
                parsed: dict[str, str] = {}
                for part in [p for p in re.split(r"[;；\n]", row["options"]) if p.strip()]:
                    m = OPTION_RE.match(part)
                    if not m:
                        problems.append(
                            ivr.Problem(
                                row["id"],
                                "options",
                                _("按键选项“%(part)s”格式应为 按键=节点") % {"part": part.strip()},
                            )
                        )
                        continue
                    parsed[m[1]] = m[2]
                value = parsed
            elif field == "branches":
                value, bad = parse_branches(row["id"], row["branches"])
                problems += bad
            elif not value:
                continue
            node[field] = value
        nodes.append(node)
    return {"start": str(data.get("start", "")).strip()[:32], "nodes": nodes}, problems


def rows_for(graph: dict[str, Any], blank: int = 3) -> list[dict[str, Any]]:
    """The editor's rows: each node's values as strings, then `blank` empty rows to add nodes."""
    rows = []
    for node in graph.get("nodes", []):
        row = {f: "" for f in FIELDS}
        for f in FIELDS:
            value = node.get(f)
            if f == "options":
                row[f] = options_text(value or {})
            elif f == "branches":
                row[f] = branches_text(value)
            elif value is not None:
                row[f] = str(value)
        rows.append(row)
    rows += [{f: "" for f in FIELDS} for _ in range(blank)]
    return rows
