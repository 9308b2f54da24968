"""IVR menus as data (IVR-1, IVR-3, IVR-5): the graph of a flow version, its validation and the pure steps the
call controller takes through it.

A graph is JSON: `{"start": "<node id>", "nodes": [{"id": ..., "type": ..., ...}, ...]}`. Node types:

- `play`: say `prompt` (text, spoken by TTS) or play `audio` (an uploaded prompt's name), then go to `next`;
- `menu`: say the prompt and collect `digits` keys (fixed length, 1 by default; keys pressed during the prompt
  count); `options` maps the keys to nodes; a timeout or an unknown key replays the menu up to `retries` times,
  then goes to `fallback` (the defined path for DTMF timeouts and invalid keys);
- `hours`: the service-hours check: inside `ranges` ("08:30-12:00,13:30-17:30") on working days of the
  working-day calendar (`days` = `workdays`) or every day (`everyday`) → `open`, otherwise → `closed`;
- `queue`: (optional prompt, then) music on hold in the queue `queue` (a queue code): a person answers;
  `priority` (0–4, optional) raises the caller's place in that queue (ACD-2 caller priority): a condition on
  `urgency` (the caller's open case) or on a keyed variable routes urgent callers to a queue node with a
  priority, and they are served before the ordinary callers already waiting (never below the priority the
  caller's citizen level gives; a transferred caller keeps the transfer priority above all);
- `voicemail`: say the prompt, then record the caller's message (it lands on the callback list);
- `hangup`: (optional prompt, then) hang up;
- `transfer`: call an outside `number` (a duty number, the unit's emergency line; IVR-3) with music meanwhile;
  no answer → `fallback` (e.g. voicemail).
- `case_progress`: self-service (IVR-1): the caller keys in a case number and its query password (each ended
  by #), the progress is read out by TTS, then → `next`. Wrong number or password: asked again up to `retries`
  times; the web lookup's guards apply (per-case lockout, per-caller throttle).
- `collect`: say the prompt and collect exactly `digits` keys (0–9; # ends early) into the variable `var`; a
  complete entry → `next`; nothing keyed in `timeout` seconds → asked again up to `retries` times, then →
  `fallback`; a short or malformed entry (e.g. ended by # too early, or a *) → asked again, then → `invalid`.
- `back`: back to the agent who transferred the caller into this flow (ACD-3 "to the IVR and back": the agent
  waits on hold meanwhile); without one (the agent hung up, or the call came straight in) → the number's queue.
- `condition`: `branches` (`[{"when": <expression>, "next": <node>}, ...]`, the first that holds wins, else →
  `fallback`); the expressions are the whitelisted language of `ivr_expr` over the caller's level, the business
  type and urgency of the caller's open case, the working-day calendar, the time, and the variables the menu and
  collect nodes set (a menu's `var` keeps the key pressed).

`queue`, `voicemail`, `hangup`, `transfer` and `back` end a flow. A graph can be published only when `validate()` finds nothing:
every node reachable from the start, every target an existing node, and from every node an end reachable (no
dead end, no loop without a way out).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

PLAY, MENU, HOURS, QUEUE, VOICEMAIL, HANGUP = "play", "menu", "hours", "queue", "voicemail", "hangup"
TRANSFER = "transfer"
CASE_PROGRESS = "case_progress"
COLLECT, CONDITION, BACK = "collect", "condition", "back"
NODE_TYPES = (PLAY, MENU, HOURS, QUEUE, VOICEMAIL, HANGUP, TRANSFER, CASE_PROGRESS, COLLECT, CONDITION, BACK)
ENDS = frozenset({QUEUE, VOICEMAIL, HANGUP, TRANSFER, BACK})
# Which fields of a node name other nodes.
TARGET_FIELDS: dict[str, tuple[str, ...]] = {
    PLAY: ("next",),
    MENU: ("fallback",),
    HOURS: ("open", "closed"),
    QUEUE: (),
    VOICEMAIL: (),
    HANGUP: (),
    TRANSFER: ("fallback",),
    CASE_PROGRESS: ("next",),
    COLLECT: ("next", "fallback", "invalid"),
    CONDITION: ("fallback",),
    BACK: (),
}
NEEDS_PROMPT = frozenset({PLAY, MENU, VOICEMAIL, COLLECT})
MAX_BRANCHES = 10
NODE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
KEYS_RE = re.compile(r"^[0-9*#]{1,20}$")
NUMBER_RE = re.compile(r"^[0-9]{3,20}$")
RANGE_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
MAX_NODES = 100
MAX_PROMPT_CHARS = 500
MAX_QUEUE_PRIORITY = (
    4  # below the transfer priority (a caller sent back by an agent stays ahead of new calls)
)
# The default path (IVR-6) has no menu to route urgency through a queue node: there, the urgency of the caller's
# open case (the `urgency` fact an IVR condition tests) raises the place by itself, as a queue node with this
# priority would (above a VIP's citizen level, below a transferred caller).
URGENCY_PRIORITY: dict[str, int] = {"urgent": 3, "very_urgent": MAX_QUEUE_PRIORITY}


@dataclass(frozen=True)
class Problem:
    node: str  # "" for the graph as a whole
    field: str
    message: str


def nodes_by_id(graph: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(n.get("id", "")): n for n in graph.get("nodes", []) if isinstance(n, dict)}


def targets(node: dict[str, Any]) -> list[str]:
    """The nodes this node can go to."""
    kind = node.get("type", "")
    out = [str(node.get(f) or "") for f in TARGET_FIELDS.get(kind, ())]
    if kind == MENU:
        out += [str(v or "") for v in (node.get("options") or {}).values()]
    if kind == CONDITION:
        out += [str(b.get("next") or "") for b in branches_of(node)]
    return [t for t in out if t]


def branches_of(node: dict[str, Any]) -> list[dict[str, Any]]:
    branches = node.get("branches")
    return [b for b in branches if isinstance(b, dict)] if isinstance(branches, list) else []


def variables(graph: dict[str, Any]) -> set[str]:
    """The variables the graph's menu and collect nodes set (`var`), usable in conditions."""
    return {
        str(n["var"])
        for n in graph.get("nodes", [])
        if isinstance(n, dict) and n.get("type") in (MENU, COLLECT) and n.get("var")
    }


def parse_ranges(text: str) -> list[tuple[dt.time, dt.time]]:
    """'08:30-12:00,13:30-17:30' → time pairs; ValueError on a malformed or empty range."""
    out = []
    for part in [p.strip() for p in str(text or "").replace("，", ",").split(",") if p.strip()]:
        m = RANGE_RE.match(part)
        if not m:
            raise ValueError(part)
        start = dt.time(int(m[1]), int(m[2]))
        end = dt.time(23, 59, 59) if m[3] == "24" else dt.time(int(m[3]), int(m[4]))
        if end <= start:
            raise ValueError(part)
        out.append((start, end))
    if not out:
        raise ValueError("")
    return out


def validate(
    graph: Any, *, queue_codes: Iterable[str] = (), audio_names: Iterable[str] = ()
) -> list[Problem]:
    """Everything that stops the graph from being published (empty: it may be published)."""
    if not isinstance(graph, dict) or not isinstance(graph.get("nodes"), list):
        return [Problem("", "nodes", _("流程格式错误"))]
    problems: list[Problem] = []
    queues, audios = set(queue_codes), set(audio_names)
    nodes = graph["nodes"]
    if not nodes:
        return [Problem("", "nodes", _("流程至少需要一个节点"))]
    if len(nodes) > MAX_NODES:
        problems.append(Problem("", "nodes", _("节点不能超过 %(n)d 个") % {"n": MAX_NODES}))
    seen: set[str] = set()
    declared = variables(graph)
    for node in nodes:
        if not isinstance(node, dict):
            problems.append(Problem("", "nodes", _("流程格式错误")))
            continue
        nid, kind = str(node.get("id", "")), node.get("type", "")
        if not NODE_ID_RE.match(nid):
            problems.append(Problem(nid, "id", _("节点编号只能由字母、数字、-、_ 组成（最多 32 位）")))
        elif nid in seen:
            problems.append(Problem(nid, "id", _("节点编号重复")))
        seen.add(nid)
        if kind not in NODE_TYPES:
            problems.append(Problem(nid, "type", _("未知的节点类型")))
            continue
        problems += _check_node(nid, kind, node, queues, audios)
        if kind in (MENU, COLLECT, CONDITION):
            problems += _check_logic(nid, kind, node, declared)
    ids = nodes_by_id(graph)
    start = str(graph.get("start") or "")
    if start not in ids:
        problems.append(Problem("", "start", _("请选择存在的起始节点")))
        return problems
    for nid, node in ids.items():
        for field in TARGET_FIELDS.get(node.get("type", ""), ()):
            target = str(node.get(field) or "")
            if not target:
                problems.append(Problem(nid, field, _("请选择下一步节点")))
            elif target not in ids:
                problems.append(Problem(nid, field, _("节点“%(id)s”不存在") % {"id": target}))
        if node.get("type") == MENU:
            for key, target in (node.get("options") or {}).items():
                if str(target) not in ids:
                    problems.append(
                        Problem(
                            nid,
                            "options",
                            _("按键 %(key)s 指向的节点“%(id)s”不存在") % {"key": key, "id": target},
                        )
                    )
        for branch in branches_of(node) if node.get("type") == CONDITION else []:
            target = str(branch.get("next") or "")
            if target not in ids:
                problems.append(
                    Problem(nid, "branches", _("条件分支指向的节点“%(id)s”不存在") % {"id": target})
                )
    if problems:
        return problems
    # Reachability from the start, then: from every node an end must be reachable.
    reached, todo = {start}, [start]
    while todo:
        for t in targets(ids[todo.pop()]):
            if t not in reached:
                reached.add(t)
                todo.append(t)
    for nid in ids:
        if nid not in reached:
            problems.append(Problem(nid, "id", _("节点“%(id)s”从起始节点无法到达") % {"id": nid}))
    ending = {nid for nid, n in ids.items() if n["type"] in ENDS}
    changed = True
    while changed:
        changed = False
        for nid, node in ids.items():
            if nid not in ending and any(t in ending for t in targets(node)):
                ending.add(nid)
                changed = True
    for nid in ids:
        if nid in reached and nid not in ending:
            problems.append(
                Problem(nid, "id", _("节点“%(id)s”是死路：之后无法到达转人工、留言或挂机") % {"id": nid})
            )
    return problems


def _check_node(
    nid: str, kind: str, node: dict[str, Any], queues: set[str], audios: set[str]
) -> list[Problem]:
    out: list[Problem] = []
    prompt, audio = str(node.get("prompt") or ""), str(node.get("audio") or "")
    if len(prompt) > MAX_PROMPT_CHARS:
        out.append(Problem(nid, "prompt", _("提示语不能超过 %(n)d 字") % {"n": MAX_PROMPT_CHARS}))
    if audio and audio not in audios:
        out.append(Problem(nid, "audio", _("录音提示“%(name)s”不存在") % {"name": audio}))
    if kind in NEEDS_PROMPT and not prompt.strip() and not audio:
        out.append(Problem(nid, "prompt", _("请填写提示语或选择录音")))
    digits = node.get("digits", 1)
    if kind in (MENU, COLLECT):
        if not isinstance(digits, int) or not 1 <= digits <= 20:
            out.append(Problem(nid, "digits", _("按键位数应为 1–20")))
            digits = 1
        timeout = node.get("timeout", 5)
        if not isinstance(timeout, int) or not 1 <= timeout <= 60:
            out.append(Problem(nid, "timeout", _("等待按键时间应为 1–60 秒")))
        retries = node.get("retries", 2)
        if not isinstance(retries, int) or not 0 <= retries <= 5:
            out.append(Problem(nid, "retries", _("重听次数应为 0–5")))
    if kind == MENU:
        options = node.get("options")
        if not isinstance(options, dict) or not options:
            out.append(Problem(nid, "options", _("菜单至少需要一个按键选项")))
        else:
            for key in options:
                if not KEYS_RE.match(str(key)) or len(str(key)) != digits:
                    out.append(
                        Problem(
                            nid,
                            "options",
                            _("按键“%(key)s”应为 %(n)d 位（0–9、*、#）") % {"key": key, "n": digits},
                        )
                    )
    if kind == HOURS:
        try:
            parse_ranges(str(node.get("ranges") or ""))
        except ValueError:
            out.append(Problem(nid, "ranges", _("服务时间格式应为 08:30-12:00,13:30-17:30")))
        if node.get("days", "workdays") not in ("workdays", "everyday"):
            out.append(Problem(nid, "days", _("请选择工作日或每天")))
    if kind == TRANSFER and not NUMBER_RE.match(str(node.get("number") or "")):
        out.append(Problem(nid, "number", _("转接号码应为 3–20 位数字")))
    if kind == QUEUE and str(node.get("queue") or "") not in queues:
        out.append(Problem(nid, "queue", _("请选择存在的队列")))
    if kind == QUEUE and "priority" in node:
        priority = node["priority"]
        if (
            not isinstance(priority, int)
            or isinstance(priority, bool)
            or not 0 <= priority <= MAX_QUEUE_PRIORITY
        ):
            out.append(
                Problem(
                    nid, "priority", _("排队优先级应为 0–%(n)d（越大越先接听）") % {"n": MAX_QUEUE_PRIORITY}
                )
            )
    return out


def _check_logic(nid: str, kind: str, node: dict[str, Any], declared: set[str]) -> list[Problem]:
    """Variables (menu / collect) and conditions (condition nodes): names and expressions that parse."""
    from . import ivr_expr

    out: list[Problem] = []
    var = node.get("var")
    if kind in (MENU, COLLECT) and var not in (None, ""):
        if not isinstance(var, str) or not ivr_expr.VAR_RE.match(var) or var in ivr_expr.KEYWORDS:
            out.append(Problem(nid, "var", _("变量名应为小写字母开头的字母、数字、_（最多 20 位）")))
        elif var in ivr_expr.FACTS:
            out.append(Problem(nid, "var", _("变量名“%(var)s”是系统条件，不能用作变量") % {"var": var}))
    if kind == CONDITION:
        raw = node.get("branches")
        branches = branches_of(node)
        if not isinstance(raw, list) or not branches or len(branches) != len(raw):
            out.append(Problem(nid, "branches", _("条件节点至少需要一个分支（条件 => 节点）")))
        elif len(branches) > MAX_BRANCHES:
            out.append(Problem(nid, "branches", _("条件分支不能超过 %(n)d 个") % {"n": MAX_BRANCHES}))
        for branch in branches:
            try:
                ivr_expr.parse(str(branch.get("when") or ""), variables=declared)
            except ivr_expr.ExprError as exc:
                out.append(Problem(nid, "branches", f"{branch.get('when') or ''}: {exc}"))
            if not str(branch.get("next") or ""):
                out.append(Problem(nid, "branches", _("请选择条件成立时的下一步节点")))
    return out


# --------------------------------------------------------------------------- walking the graph


def is_open(node: dict[str, Any], moment: dt.datetime, is_workday: Callable[[dt.date], bool]) -> bool:
    """Service hours: `moment` (local time) inside the node's ranges, on a working day unless every day."""
    if node.get("days", "workdays") == "workdays" and not is_workday(moment.date()):
        return False
    now = moment.time()
    return any(start <= now < end for start, end in parse_ranges(str(node.get("ranges") or "")))


def menu_choice(node: dict[str, Any], digits: str, reason: str) -> str | None:
    """The node a menu goes to for the keys collected; None: timeout or an unknown key (retry or fallback)."""
    if reason == "timeout" and len(digits) < int(node.get("digits", 1)):
        return None
    target = (node.get("options") or {}).get(digits)
    return str(target) if target else None


def outline(graph: dict[str, Any]) -> list[tuple[int, str, dict[str, Any], str]]:
    """The preview: the graph as an indented walk from the start (depth, edge label, node, note); a node already
    shown is referred to, not repeated."""
    ids = nodes_by_id(graph)
    out: list[tuple[int, str, dict[str, Any], str]] = []
    shown: set[str] = set()

    def walk(nid: str, depth: int, label: str) -> None:
        node = ids.get(nid)
        if node is None:
            out.append((depth, label, {"id": nid, "type": "?"}, "missing"))
            return
        if nid in shown:
            out.append((depth, label, node, "again"))
            return
        shown.add(nid)
        out.append((depth, label, node, ""))
        kind = node.get("type")
        if kind == MENU:
            for key, target in (node.get("options") or {}).items():
                walk(str(target), depth + 1, _("按 %(key)s") % {"key": key})
            walk(str(node.get("fallback") or ""), depth + 1, _("超时/无效按键"))
        elif kind == HOURS:
            walk(str(node.get("open") or ""), depth + 1, _("服务时间内"))
            walk(str(node.get("closed") or ""), depth + 1, _("服务时间外"))
        elif kind in (PLAY, CASE_PROGRESS):
            walk(str(node.get("next") or ""), depth + 1, "")
        elif kind == TRANSFER:
            walk(str(node.get("fallback") or ""), depth + 1, _("无人接听"))
        elif kind == COLLECT:
            walk(str(node.get("next") or ""), depth + 1, _("输入完整"))
            walk(str(node.get("fallback") or ""), depth + 1, _("超时"))
            walk(str(node.get("invalid") or ""), depth + 1, _("输入无效"))
        elif kind == CONDITION:
            for branch in branches_of(node):
                walk(
                    str(branch.get("next") or ""), depth + 1, _("若 %(when)s") % {"when": branch.get("when")}
                )
            walk(str(node.get("fallback") or ""), depth + 1, _("其他情况"))

    if graph.get("start"):
        walk(str(graph["start"]), 0, "")
    return out


def collected(node: dict[str, Any], digits: str, reason: str) -> str:
    """A collect node's outcome: "ok" (exactly `digits` keys 0–9), "timeout" (nothing keyed) or "invalid"."""
    if not digits and reason == "timeout":
        return "timeout"
    if len(digits) == int(node.get("digits", 1)) and digits.isdigit():
        return "ok"
    return "invalid"


def prompt_texts(graph: dict[str, Any]) -> list[str]:
    """Every TTS text of the graph (rendered to audio when the version is published)."""
    return [
        str(n["prompt"]).strip()
        for n in graph.get("nodes", [])
        if str(n.get("prompt") or "").strip() and not n.get("audio")
    ]
