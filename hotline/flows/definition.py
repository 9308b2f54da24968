"""A flow version as plain data: built from its rows or from JSON, checked before publishing, exported as JSON.

`FlowDef` is what the lifecycle consults (cached per published version: published versions never change) and what
the SVG view draws. The first step (by order) is the start. Validation refuses: duplicate or unknown step codes,
unknown statuses / actions / roles / unit levels / kinds, bad guards, a countersign or serial step where no unit
acts, a serial step without an order of at least two unit levels (or with one unit level of its own, or as a
parallel branch), an order on a step that is not serial, a dispatch mode on a step that is not
where cases wait for dispatch, a time limit on a step no open case is at (a gateway, an end, a draft), steps the start cannot reach, steps from
which no end can be reached (dead ends), an end step with outgoing flows, a parallel split with fewer than two
branches or whose branches do not all meet at one join before ending.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from hotline.cases.lifecycle import FINISHED_STATUSES, IN_UNITS, TRANSITIONS, Action
from hotline.cases.models import CaseStatus
from hotline.orgs.models import Role

from . import guards
from .models import DispatchMode, FlowVersion, LimitUnit, StepKind, UnitLevel

FORMAT = "hotline-flow/1"
GATEWAYS = frozenset({StepKind.SPLIT, StepKind.JOIN})


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


@dataclass(frozen=True)
class StepDef:
    code: str
    name: str
    kind: str = StepKind.SINGLE
    statuses: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    unit_level: str = ""
    limit_amount: int | None = None
    limit_unit: str = LimitUnit.WORKDAYS
    dispatch_mode: str = ""
    # A serial step: the unit levels in the order their units act (the main unit's level last).
    sequence: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "statuses": list(self.statuses),
            "roles": list(self.roles),
            "unit_level": self.unit_level,
            "limit": {"amount": self.limit_amount, "unit": self.limit_unit} if self.limit_amount else None,
            "dispatch_mode": self.dispatch_mode,
            "sequence": list(self.sequence),
        }

    @property
    def is_unit_step(self) -> bool:
        """Units act at this step (the case is with the units in one of its statuses)."""
        return bool(set(self.statuses) & IN_UNITS)

    @property
    def sequence_label(self) -> str:
        return "→".join(_label(UnitLevel, level) for level in self.sequence)

    @property
    def kind_label(self) -> str:
        return _label(StepKind, self.kind)

    @property
    def statuses_label(self) -> str:
        return "、".join(_label(CaseStatus, s) for s in self.statuses)

    @property
    def actors_label(self) -> str:
        level = _label(UnitLevel, self.unit_level) if self.unit_level else ""
        if self.sequence:
            level = (level + " " + _("依次：") + self.sequence_label).strip()
        return (level + " " + "、".join(_label(Role, r) for r in self.roles)).strip()

    @property
    def dispatch_label(self) -> str:
        return _label(DispatchMode, self.dispatch_mode) if self.dispatch_mode else ""

    @property
    def limit_text(self) -> str:
        if not self.limit_amount:
            return ""
        return f"{self.limit_amount}{LimitUnit(self.limit_unit).label}"


@dataclass(frozen=True)
class TransitionDef:
    source: str
    target: str
    action: str = ""
    label: str = ""
    guard: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.target,
            "action": self.action,
            "label": self.label,
            "guard": self.guard,
        }

    @property
    def title(self) -> str:
        if self.label:
            return self.label
        try:
            return str(Action(self.action).label) if self.action else ""
        except ValueError:
            return self.action


@dataclass(frozen=True)
class Problem:
    where: str  # "step:<code>", "transition:<n>" or "flow"
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class FlowDef:
    steps: list[StepDef]
    transitions: list[TransitionDef]
    name: str = ""
    version_id: int | None = None
    _by_code: dict[str, StepDef] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_code = {step.code: step for step in self.steps}

    def step(self, code: str) -> StepDef | None:
        return self._by_code.get(code)

    @property
    def start(self) -> StepDef | None:
        return self.steps[0] if self.steps else None

    def outgoing(self, code: str) -> list[TransitionDef]:
        return [t for t in self.transitions if t.source == code]

    def steps_at(self, status: str) -> list[StepDef]:
        """The steps during which a case in backbone `status` is (several for parallel branches)."""
        return [s for s in self.steps if status in s.statuses]

    def governed_actions(self) -> frozenset[str]:
        return frozenset(t.action for t in self.transitions if t.action)

    # ----------------------------------------------------------------------- JSON

    def as_json(self) -> dict[str, Any]:
        return {
            "steps": [s.as_json() for s in self.steps],
            "transitions": [t.as_json() for t in self.transitions],
        }


def from_version(version: FlowVersion) -> FlowDef:
    steps = list(version.steps.all())
    codes = {step.pk: step.code for step in steps}
    return FlowDef(
        steps=[
            StepDef(
                code=s.code,
                name=s.name,
                kind=s.kind,
                statuses=tuple(s.statuses or ()),
                roles=tuple(s.roles or ()),
                unit_level=s.unit_level,
                limit_amount=s.limit_amount,
                limit_unit=s.limit_unit,
                dispatch_mode=s.dispatch_mode,
                sequence=tuple(s.sequence or ()),
            )
            for s in steps
        ],
        transitions=[
            TransitionDef(
                source=codes[t.source_id],
                target=codes[t.target_id],
                action=t.action,
                label=t.label,
                guard=t.guard,
            )
            for t in version.transitions.all()
        ],
        name=version.template.name,
        version_id=version.pk,
    )


class FormatError(ValueError):
    """The JSON is not a flow definition (its shape, not its graph)."""


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FormatError(f"{what}必须是文本列表")
    return tuple(value)


def _text(item: dict[str, Any], key: str, what: str, *, required: bool = False, limit: int = 400) -> str:
    value = item.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise FormatError(f"{what}必须是文本")
    if required and not value.strip():
        raise FormatError(f"缺少{what}")
    if len(value) > limit:
        raise FormatError(f"{what}过长")
    return value.strip()


def from_json(data: Any) -> FlowDef:
    """The definition in `data` ({"steps": [...], "transitions": [...]}); FormatError for a wrong shape."""
    if not isinstance(data, dict):
        raise FormatError("流程定义必须是 JSON 对象")
    raw_steps, raw_transitions = data.get("steps"), data.get("transitions", [])
    if not isinstance(raw_steps, list) or not isinstance(raw_transitions, list):
        raise FormatError("steps 和 transitions 必须是列表")
    if len(raw_steps) > 100 or len(raw_transitions) > 400:
        raise FormatError("环节或流向过多")
    steps = []
    for item in raw_steps:
        if not isinstance(item, dict):
            raise FormatError("每个环节必须是 JSON 对象")
        limit = item.get("limit") or {}
        if not isinstance(limit, dict):
            raise FormatError("时限必须是对象")
        amount = limit.get("amount")
        if amount is not None and (not isinstance(amount, int) or isinstance(amount, bool) or amount < 0):
            raise FormatError("时限必须是非负整数")
        steps.append(
            StepDef(
                code=_text(item, "code", "环节编码", required=True, limit=40),
                name=_text(item, "name", "环节名称", required=True, limit=60),
                kind=_text(item, "kind", "环节类型", limit=16) or StepKind.SINGLE,
                statuses=tuple(sorted(set(_strings(item.get("statuses"), "对应状态")))),
                roles=tuple(sorted(set(_strings(item.get("roles"), "办理角色")))),
                unit_level=_text(item, "unit_level", "单位层级", limit=16),
                limit_amount=amount or None,
                limit_unit=str(limit.get("unit") or LimitUnit.WORKDAYS),
                dispatch_mode=_text(item, "dispatch_mode", "调度模式", limit=16),
                sequence=_strings(item.get("sequence"), "办理顺序"),
            )
        )
    transitions = []
    for item in raw_transitions:
        if not isinstance(item, dict):
            raise FormatError("每个流向必须是 JSON 对象")
        transitions.append(
            TransitionDef(
                source=_text(item, "from", "流向的起点", required=True, limit=40),
                target=_text(item, "to", "流向的终点", required=True, limit=40),
                action=_text(item, "action", "操作", limit=32),
                label=_text(item, "label", "流向名称", limit=60),
                guard=_text(item, "guard", "控制条件", limit=guards.MAX_LENGTH),
            )
        )
    return FlowDef(steps=steps, transitions=transitions)


# --------------------------------------------------------------------------- validation

ACTIONS = frozenset(Action.values)
STATUSES = frozenset(CaseStatus.values)
ROLES = frozenset(Role.values)
TIMED_STATUSES = STATUSES - FINISHED_STATUSES - {CaseStatus.DRAFT}


def validate(flow: FlowDef) -> list[Problem]:
    """Everything that keeps `flow` from being published (empty: it may be published)."""
    problems = row_problems(flow)
    if problems:
        return problems  # the graph checks need well-formed rows
    return _graph_problems(flow)


def row_problems(flow: FlowDef) -> list[Problem]:
    """What keeps `flow` from being stored at all: bad rows (the graph is judged when sent for review)."""
    problems: list[Problem] = []
    add = problems.append
    if not flow.steps:
        return [Problem("flow", "流程至少需要一个环节")]
    seen: set[str] = set()
    for step in flow.steps:
        where = f"step:{step.code}"
        if step.code in seen:
            add(Problem(where, f"环节编码“{step.code}”重复"))
        seen.add(step.code)
        if step.kind not in StepKind.values:
            add(Problem(where, f"环节“{step.name}”的类型“{step.kind}”未知"))
        for status in step.statuses:
            if status not in STATUSES:
                add(Problem(where, f"环节“{step.name}”的工单状态“{status}”未知"))
        if step.kind in GATEWAYS and step.statuses:
            add(Problem(where, f"并行分支/汇聚“{step.name}”不对应工单状态"))
        for role in step.roles:
            if role not in ROLES:
                add(Problem(where, f"环节“{step.name}”的角色“{role}”未知"))
        if step.unit_level not in UnitLevel.values:
            add(Problem(where, f"环节“{step.name}”的单位层级“{step.unit_level}”未知"))
        if step.limit_unit not in LimitUnit.values:
            add(Problem(where, f"环节“{step.name}”的时限单位“{step.limit_unit}”未知"))
        if step.dispatch_mode not in DispatchMode.values:
            add(Problem(where, f"环节“{step.name}”的调度模式“{step.dispatch_mode}”未知"))
        elif step.dispatch_mode and CaseStatus.SUBMITTED not in step.statuses:
            # auto-dispatch reads the mode of the step a case waits at for dispatch, nothing else
            add(Problem(where, f"环节“{step.name}”不对应“待派单”状态，不能设置调度模式"))
        problems.extend(_kind_problems(step))
        if step.limit_amount and not set(step.statuses) & TIMED_STATUSES:
            # a step's limit runs while a case is at it: not in a draft, not once it has ended, not at a gateway
            add(Problem(where, f"环节“{step.name}”不对应办理中的工单状态，不能设置时限"))
    for n, t in enumerate(flow.transitions, start=1):
        where = f"transition:{n}"
        source, target = flow.step(t.source), flow.step(t.target)
        if source is None or target is None:
            missing = t.source if source is None else t.target
            add(Problem(where, f"第{n}条流向指向不存在的环节“{missing}”"))
            continue
        if t.action and t.action not in ACTIONS:
            add(Problem(where, f"第{n}条流向的操作“{t.action}”未知"))
        elif t.action and not TRANSITIONS.get(t.action):
            add(Problem(where, f"第{n}条流向的操作“{t.action}”不是工单操作"))
        elif t.action and source.statuses and not set(source.statuses) & TRANSITIONS[t.action].sources:
            add(
                Problem(
                    where,
                    f"第{n}条流向：环节“{source.name}”的工单状态下不能执行“{Action(t.action).label}”",
                )
            )
        if not t.action and source.kind not in GATEWAYS:
            add(Problem(where, f"第{n}条流向（{source.name} → {target.name}）缺少操作"))
        if source.kind == StepKind.END:
            add(Problem(where, f"结束环节“{source.name}”不能再有流向"))
        reason = guards.validate(t.guard)
        if reason:
            add(Problem(where, f"第{n}条流向的控制条件无效：{reason}"))
    return problems


SEQUENCE_LEVELS = frozenset(UnitLevel.values) - {UnitLevel.ANY, UnitLevel.OFFICE}


def _kind_problems(step: StepDef) -> list[Problem]:
    """Countersign and serial steps are steps where units act; a serial step lists the unit levels in the order
    their units act (at least two, each once) and names no single unit level; only a serial step has an order."""
    where, name = f"step:{step.code}", step.name
    problems: list[Problem] = []
    if step.sequence and step.kind != StepKind.SERIAL:
        problems.append(Problem(where, f"环节“{name}”不是串行环节，不能设置办理顺序"))
    if step.kind in (StepKind.COUNTERSIGN, StepKind.SERIAL) and not step.is_unit_step:
        problems.append(
            Problem(
                where, f"环节“{name}”（{step.kind_label}）须对应单位办理的工单状态（待签收、办理中、重办）"
            )
        )
    if step.kind != StepKind.SERIAL:
        return problems
    unknown = [level for level in step.sequence if level not in SEQUENCE_LEVELS]
    if unknown:
        problems.append(Problem(where, f"串行环节“{name}”的办理顺序中单位层级“{unknown[0]}”无效"))
    elif len(set(step.sequence)) != len(step.sequence):
        problems.append(Problem(where, f"串行环节“{name}”的办理顺序中单位层级重复"))
    elif len(step.sequence) < 2:
        problems.append(Problem(where, f"串行环节“{name}”须按办理顺序列出至少两个单位层级"))
    if step.unit_level:
        problems.append(
            Problem(where, f"串行环节“{name}”由办理顺序中各层级的单位依次办理，不能限定单一单位层级")
        )
    return problems


def _successors(flow: FlowDef) -> dict[str, list[str]]:
    graph: dict[str, list[str]] = {s.code: [] for s in flow.steps}
    for t in flow.transitions:
        graph[t.source].append(t.target)
    return graph


def _reach(graph: dict[str, list[str]], starts: Iterable[str]) -> set[str]:
    seen = set(starts)
    queue = deque(seen)
    while queue:
        for nxt in graph[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def _graph_problems(flow: FlowDef) -> list[Problem]:
    problems: list[Problem] = []
    graph = _successors(flow)
    start = flow.steps[0]
    reachable = _reach(graph, [start.code])
    for step in flow.steps:
        if step.code not in reachable:
            problems.append(Problem(f"step:{step.code}", f"环节“{step.name}”从起始环节无法到达"))
    ends = {s.code for s in flow.steps if s.kind == StepKind.END}
    if not ends:
        problems.append(Problem("flow", "流程没有结束环节"))
    else:
        reverse: dict[str, list[str]] = {s.code: [] for s in flow.steps}
        for source, targets in graph.items():
            for target in targets:
                reverse[target].append(source)
        reaches_end = _reach(reverse, ends)
        for step in flow.steps:
            if step.code not in reaches_end:
                problems.append(Problem(f"step:{step.code}", f"环节“{step.name}”无法到达结束环节（死路）"))
    incoming: dict[str, int] = {s.code: 0 for s in flow.steps}
    for t in flow.transitions:
        incoming[t.target] += 1
    for step in flow.steps:
        if step.kind == StepKind.SPLIT:
            problems.extend(_split_problems(flow, graph, step))
        elif step.kind == StepKind.SERIAL and any(
            getattr(flow.step(t.target), "kind", "") == StepKind.JOIN for t in flow.outgoing(step.code)
        ):
            problems.append(Problem(f"step:{step.code}", f"串行环节“{step.name}”不能作为并行分支"))
        elif step.kind == StepKind.JOIN and incoming[step.code] < 2:
            problems.append(Problem(f"step:{step.code}", f"并行汇聚“{step.name}”至少需要两条流入的流向"))
    return problems


def _split_problems(flow: FlowDef, graph: dict[str, list[str]], split: StepDef) -> list[Problem]:
    """Every branch of a parallel split reaches the same join before any end (and does not loop back above it)."""
    where = f"step:{split.code}"
    branches = graph[split.code]
    if len(branches) < 2:
        return [Problem(where, f"并行分支“{split.name}”至少需要两条分支")]
    joins_per_branch: list[set[str]] = []
    for first in branches:
        joins: set[str] = set()
        seen = {split.code}
        queue = deque([first])
        while queue:
            code = queue.popleft()
            if code in seen:
                continue
            seen.add(code)
            step = flow.step(code)
            assert step is not None
            if step.kind == StepKind.JOIN:
                joins.add(code)
                continue  # the branch ends at its join
            if step.kind == StepKind.END:
                return [Problem(where, f"并行分支“{split.name}”的分支未汇聚就到达了结束环节“{step.name}”")]
            queue.extend(graph[code])
        joins_per_branch.append(joins)
    if not set.intersection(*joins_per_branch):
        return [Problem(where, f"并行分支“{split.name}”的各分支没有汇聚到同一个并行汇聚环节")]
    return []
