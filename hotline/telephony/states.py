"""The agent state machine (ACD-3): which event moves an agent from which state to which state.

This is the single place that says so, like `cases/lifecycle.py`: services call `next_state()` before they
change an agent, the agent-state log records every move, and the ACD only offers calls to READY agents.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from hotline.common.errors import ServiceError


class AgentState(models.TextChoices):
    LOGGED_OUT = "logged_out", _("未登录")
    READY = "ready", _("空闲")
    NOT_READY = "not_ready", _("示忙")
    RINGING = "ringing", _("振铃")
    TALKING = "talking", _("通话")
    HOLD = "hold", _("保持")
    WRAP_UP = "wrap_up", _("话后处理")


class AgentEvent(models.TextChoices):
    LOGIN = "login", _("签入")
    LOGOUT = "logout", _("签出")
    READY = "ready", _("置闲")
    NOT_READY = "not_ready", _("置忙")
    OFFER = "offer", _("呼叫分配")
    ANSWER = "answer", _("应答")
    NO_ANSWER = "no_answer", _("振铃未应答")
    HOLD = "hold", _("保持")
    RETRIEVE = "retrieve", _("取回")
    HANGUP = "hangup", _("挂机")
    WRAP_UP_DONE = "wrap_up_done", _("话后处理完成")
    DIAL = "dial", _("外呼")


S, E = AgentState, AgentEvent

# (state, event) -> next state. Anything not listed is refused.
TRANSITIONS: dict[tuple[str, str], str] = {
    (S.LOGGED_OUT, E.LOGIN): S.NOT_READY,
    (S.NOT_READY, E.READY): S.READY,
    (S.NOT_READY, E.NOT_READY): S.NOT_READY,  # another reason
    (S.NOT_READY, E.LOGOUT): S.LOGGED_OUT,
    (S.READY, E.NOT_READY): S.NOT_READY,
    (S.READY, E.LOGOUT): S.LOGGED_OUT,
    (S.READY, E.OFFER): S.RINGING,
    (S.RINGING, E.ANSWER): S.TALKING,
    # A phone that does not answer (or rejects) is set not-ready so the next call does not ring it again.
    (S.RINGING, E.NO_ANSWER): S.NOT_READY,
    (S.RINGING, E.HANGUP): S.READY,  # the caller gave up while it rang: nothing to wrap up
    (S.TALKING, E.HOLD): S.HOLD,
    (S.HOLD, E.RETRIEVE): S.TALKING,
    (S.TALKING, E.HANGUP): S.WRAP_UP,
    (S.HOLD, E.HANGUP): S.WRAP_UP,
    (S.WRAP_UP, E.WRAP_UP_DONE): S.READY,
    (S.WRAP_UP, E.NOT_READY): S.NOT_READY,
    # Click-to-call: the agent's own phone rings first (then the citizen is called), from any idle state.
    (S.READY, E.DIAL): S.RINGING,
    (S.NOT_READY, E.DIAL): S.RINGING,
    (S.WRAP_UP, E.DIAL): S.RINGING,
}

# States in which the agent is on a call (the media side must be torn down before a logout).
ON_CALL = frozenset({S.RINGING, S.TALKING, S.HOLD})


def next_state(state: str, event: str) -> str:
    target = TRANSITIONS.get((state, event))
    if target is None:
        raise ServiceError(
            _("坐席当前状态为“%(state)s”，不能“%(event)s”")
            % {"state": AgentState(state).label, "event": AgentEvent(event).label},
            code="bad_agent_state",
        )
    return target


def allowed_events(state: str) -> list[str]:
    return [event for (source, event) in TRANSITIONS if source == state]
