"""The default template: today's backbone drawn as a flow (every step action where `cases.lifecycle` allows it,
by the roles it names; no unit level, so it refuses nothing the backbone allows; no step time limit, so the sla
rules set every deadline as for a case without a template).

The demo city publishes it; a city starts from it and narrows (drop 呈请领导批示 for consultations, add guards,
set step time limits, which then replace the sla rule of that step's clock) in a new version.
"""

from __future__ import annotations

from typing import Any

from hotline.cases.lifecycle import TRANSITIONS as BACKBONE

from .definition import FORMAT

OFFICE_ROLES = ["dispatcher"]
UNIT_ROLES = ["unit_handler", "unit_leader"]

STEPS: list[dict[str, Any]] = [
    {
        "code": "intake",
        "name": "受理登记",
        "statuses": ["draft", "returned"],
        "roles": ["agent", "dispatcher"],
    },
    {
        "code": "not-accepted-review",
        "name": "不予受理确认",
        "statuses": ["pending_not_accepted"],
        "roles": OFFICE_ROLES,
    },
    {
        "code": "dispatch",
        "name": "审核派单",
        "statuses": ["submitted"],
        "roles": OFFICE_ROLES,
        "dispatch_mode": "auto_realtime",
    },
    {
        "code": "leader",
        "name": "领导批示",
        "statuses": ["leader_review"],
        "roles": ["leader"],
    },
    {
        "code": "handling",
        "name": "单位办理",
        "kind": "countersign",
        "statuses": ["dispatched", "handling", "redo"],
        "roles": UNIT_ROLES,
    },
    {
        "code": "return-review",
        "name": "退件审核",
        "statuses": ["return_review"],
        "roles": OFFICE_ROLES,
    },
    {
        "code": "result-review",
        "name": "结果审核",
        "statuses": ["result_review"],
        "roles": OFFICE_ROLES,
    },
    {
        "code": "callback",
        "name": "回访评价",
        "statuses": ["callback"],
        "roles": ["agent", "dispatcher", "monitor"],
    },
    {
        "code": "supervision",
        "name": "特别督办",
        "statuses": ["special_supervision"],
        "roles": ["unit_leader"],
    },
    {"code": "closed", "name": "办结", "kind": "end", "statuses": ["closed"]},
    {"code": "not-accepted", "name": "不予受理", "kind": "end", "statuses": ["not_accepted"]},
]

TRANSITIONS: list[tuple[str, str, str, str]] = [
    ("intake", "dispatch", "submit", ""),
    ("intake", "closed", "archive", ""),
    ("intake", "not-accepted-review", "propose_not_accepted", ""),
    ("dispatch", "not-accepted-review", "propose_not_accepted", ""),
    ("not-accepted-review", "not-accepted", "confirm_not_accepted", ""),
    ("not-accepted-review", "dispatch", "reject_not_accepted", ""),
    ("dispatch", "handling", "dispatch", ""),
    ("dispatch", "intake", "return_to_agent", ""),
    ("dispatch", "closed", "close_directly", ""),
    ("dispatch", "leader", "ask_leader", ""),
    ("leader", "dispatch", "leader_instruct", ""),
    ("handling", "handling", "sign_for", ""),
    ("handling", "result-review", "report", ""),
    ("handling", "return-review", "return_to_office", ""),
    ("handling", "handling", "reassign", ""),
    ("handling", "closed", "office_close", ""),
    ("return-review", "handling", "approve_return", ""),
    ("return-review", "handling", "reject_return", ""),
    ("return-review", "handling", "reassign", ""),
    ("return-review", "closed", "office_close", ""),
    ("result-review", "callback", "review_accept", ""),
    ("result-review", "handling", "review_reject", ""),
    ("result-review", "handling", "reassign", ""),
    ("result-review", "closed", "office_close", ""),
    ("callback", "closed", "callback", "满意办结"),
    ("callback", "handling", "callback", "不满意重办"),
    ("callback", "supervision", "callback", "转特别督办"),
    ("callback", "closed", "office_close", ""),
    ("supervision", "handling", "supervision_opinion", ""),
    ("supervision", "closed", "office_close", ""),
]


def _roles(step: dict[str, Any]) -> list[str]:
    """Who acts at a step: everyone the backbone lets take one of the step's actions (the office's own actions
    on a unit's step included — reassigning, closing); each action still checks its own roles."""
    roles = set(step.get("roles", []))
    for source, _target, action, _label in TRANSITIONS:
        if source == step["code"]:
            roles |= set(BACKBONE[action].roles)
    return sorted(roles)


def default_flow_json(code: str = "default", name: str = "标准办理流程") -> dict[str, Any]:
    """The default template as an export file (`services.template_import` reads it)."""
    return {
        "format": FORMAT,
        "template": {
            "code": code,
            "name": name,
            "description": "与系统主干流程一致：受理、审核派单、单位办理、结果审核、回访、办结。",
            "case_types": [],
            "bureaus": [],
            "channels": [],
            "valid_from": None,
            "valid_to": None,
            "priority": 0,
        },
        "steps": [{**step, "roles": _roles(step)} for step in STEPS],
        "transitions": [
            {"from": a, "to": b, "action": action, "label": label, "guard": ""}
            for a, b, action, label in TRANSITIONS
        ],
    }
