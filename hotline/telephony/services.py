"""Every telephony write: agents (login, state changes), calls and their legs (CDR), the queue log, recordings,
the call ↔ case link. One transaction each; agent events are pushed to the workbench after commit."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.common import clock
from hotline.common.audit import audit_record
from hotline.common.errors import NotAllowed, NotFound, ServiceError
from hotline.common.models import AuditLog

from . import ivr, push, tts
from .models import (
    Agent,
    AgentNote,
    AgentNoteKind,
    AgentStateLog,
    Call,
    CallbackStatus,
    CallCase,
    CallControl,
    CallLeg,
    CallStatus,
    ControlKind,
    Disposition,
    IvrFlow,
    IvrPrompt,
    IvrStep,
    IvrVersion,
    IvrVersionStatus,
    LegPurpose,
    LegRole,
    MissedCall,
    NotReadyReason,
    Queue,
    QueueCallback,
    QueueCallbackStatus,
    QueueEvent,
    QueueLog,
    RatingCall,
    RatingCallStatus,
    Recording,
)
from .states import AgentEvent, AgentState, next_state

_behind = threading.local()


def _log_row(model: type[models.Model], **fields: Any) -> None:
    """An append-only log row (agent-state log, queue log, IVR steps): inserted now, or, inside
    `logs_written_behind` (the call controller's pass), kept and inserted with the pass's other log rows in one
    statement per table. The CDR (calls, legs, recordings) is never held back."""
    rows = getattr(_behind, "rows", None)
    if rows is None:
        model._default_manager.create(**fields)
    else:
        rows.append(model(**fields))


def logs_mark() -> int:
    """Where the held rows end now (`logs_drop_after`: an event that rolled back takes its rows with it)."""
    return len(getattr(_behind, "rows", None) or ())


def logs_drop_after(mark: int) -> None:
    rows = getattr(_behind, "rows", None)
    if rows is not None:
        del rows[mark:]


@contextlib.contextmanager
def logs_written_behind() -> Iterator[None]:
    """Hold this thread's log rows until the block ends, then insert them: one transaction, one INSERT per table.
    If the block fails the rows are flushed all the same (each belongs to a committed event: a failed event
    dropped its own with `logs_drop_after`); a process killed inside the block loses at most these rows, never a
    CDR row."""
    if getattr(_behind, "rows", None) is not None:  # nested: the outer block writes them
        yield
        return
    _behind.rows = []
    try:
        yield
    finally:
        rows, _behind.rows = _behind.rows, None
        if rows:
            by_model: dict[type[models.Model], list[models.Model]] = {}
            for row in rows:
                by_model.setdefault(type(row), []).append(row)
            with transaction.atomic():
                for model, batch in by_model.items():
                    model._default_manager.bulk_create(batch)


def _event_atomic() -> Any:
    """The transaction of a call-controller write. The controller runs each media event in one transaction of
    its own; a write inside it takes no savepoint (two round trips each): a failure rolls the whole event back.
    Alone (tests, the web process), it is a transaction of its own as before."""
    return transaction.atomic(savepoint=False)


@contextlib.contextmanager
def _agent_state_atomic(*, savepoint: bool = True) -> Iterator[None]:
    """The transaction of an agent-state change made on its own (the agent's buttons, the bench): on PostgreSQL,
    with HOTLINE_AGENT_STATE_ASYNC_COMMIT (default on), its commit does not wait for the WAL to reach the disk,
    so the new state reaches the agent's screen without that wait (most of the 100 ms budget on a loaded
    server). What it risks: a PostgreSQL crash within ~0.2 s (wal_writer_delay) may forget that last state change
    and its log row — never a call's CDR: inside the call controller's pass (or any other transaction) the
    change commits with that transaction, synchronously."""
    connection = transaction.get_connection()
    top = not connection.in_atomic_block
    with transaction.atomic(savepoint=savepoint):
        if top and connection.vendor == "postgresql" and settings.HOTLINE_AGENT_STATE_ASYNC_COMMIT:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO off")
        yield


def _ms(later: dt.datetime, earlier: dt.datetime | None) -> int:
    return max(0, int((later - earlier).total_seconds() * 1000)) if earlier else 0


# --------------------------------------------------------------------------- agents


def agent_create(
    *,
    agent_id: str,
    password: str,
    extension: str,
    skills: Iterable[Queue] = (),
    user: Any = None,
    actor: Any,
) -> Agent:
    errors: dict[str, list[str]] = {}
    if not agent_id.strip():
        errors["agent_id"] = [_("请填写工号")]
    elif Agent.objects.filter(agent_id=agent_id.strip()).exists():
        errors["agent_id"] = [_("工号已存在")]
    if len(password) < 6:
        errors["password"] = [_("签入密码至少 6 位")]
    if not extension.strip():
        errors["extension"] = [_("请填写分机号")]
    elif Agent.objects.filter(extension=extension.strip()).exists():
        errors["extension"] = [_("分机号已被占用")]
    if errors:
        raise ServiceError(_("坐席信息有误"), field_errors=errors)
    with transaction.atomic():
        agent = Agent.objects.create(
            agent_id=agent_id.strip(),
            password=make_password(password),
            extension=extension.strip(),
            user=user,
        )
        agent.skills.set(list(skills))
        audit_record(actor=actor, action=AuditLog.Action.CREATE, obj=agent, summary=f"坐席 {agent.agent_id}")
    return agent


def _transition(
    agent: Agent, event: str, *, reason: str = "", call: Call | None = None, at: dt.datetime | None = None
) -> Agent:
    """Move a locked agent row; write the state log; push the new state after commit."""
    target = next_state(agent.state, event)
    now = at or clock.now()
    _log_row(
        AgentStateLog,
        agent=agent,
        event=event,
        from_state=agent.state,
        to_state=target,
        reason=reason,
        call=call,
        previous_ms=_ms(now, agent.state_since),
        at=now,
    )
    agent.state, agent.state_since = target, now
    agent.state_reason = reason if target == AgentState.NOT_READY else ""
    if target == AgentState.READY:
        agent.ready_since = now
    if target in (AgentState.RINGING, AgentState.TALKING, AgentState.HOLD, AgentState.WRAP_UP):
        agent.current_call = call or agent.current_call
    else:
        agent.current_call = None
    agent.save(update_fields=["state", "state_since", "state_reason", "ready_since", "current_call"])
    payload = agent_payload(agent)
    transaction.on_commit(lambda: push.publish_agent(agent.pk, payload))
    push.board_on_commit(
        {"type": "agent_state", "agent": agent.agent_id, "state": target, "at": now.timestamp()}
    )
    return agent


def agent_payload(agent: Agent, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "agent_state",
        "agent": agent.agent_id,
        "state": agent.state,
        "state_label": str(AgentState(agent.state).label),
        "reason": agent.state_reason,
        "call_id": agent.current_call.call_id if agent.current_call_id and agent.current_call else "",
        **(extra or {}),
    }


def agent_login(*, agent_id: str, password: str, actor: Any) -> Agent:
    with transaction.atomic():
        agent = Agent.objects.select_for_update().filter(agent_id=agent_id.strip()).first()
        if agent is None or not check_password(password, agent.password):
            raise ServiceError(_("工号或签入密码错误"), field_errors={"password": [_("工号或签入密码错误")]})
        if agent.user_id and getattr(actor, "pk", None) != agent.user_id:
            raise NotAllowed(_("该工号属于其他员工"))
        _transition(agent, AgentEvent.LOGIN, reason=NotReadyReason.LOGIN)
        audit_record(
            actor=actor, action=AuditLog.Action.LOGIN, obj=agent, summary=f"坐席签入 {agent.agent_id}"
        )
    return agent


def agent_set_state(*, agent: Agent, event: str, reason: str = "", actor: Any) -> Agent:
    """The agent's own buttons: ready, not ready (with a reason), wrap-up done, logout."""
    if event not in (AgentEvent.READY, AgentEvent.NOT_READY, AgentEvent.WRAP_UP_DONE, AgentEvent.LOGOUT):
        raise ServiceError(_("不支持的操作"), field_errors={"event": [_("不支持的操作")]})
    if event == AgentEvent.NOT_READY and reason not in NotReadyReason.values:
        raise ServiceError(_("请选择示忙原因"), field_errors={"reason": [_("请选择示忙原因")]})
    with _agent_state_atomic():
        locked = Agent.objects.select_for_update().get(pk=agent.pk)
        if getattr(actor, "pk", None) != locked.user_id and not getattr(actor, "is_superuser", False):
            raise NotAllowed(_("只能操作自己的坐席"))
        _transition(locked, event, reason=reason)
        audit_record(
            actor=actor, action=AuditLog.Action.UPDATE, obj=locked, summary=f"agent_{event} {reason}".strip()
        )
    return locked


def agents_end_wrap_up(*, before: dt.datetime) -> int:
    """After-call work that ends after a configured time: every agent in wrap-up since `before` is ready again
    (locked and moved in one transaction; rows another writer holds are left for the next pass)."""
    with transaction.atomic():
        agents = list(
            Agent.objects.select_for_update(skip_locked=True).filter(
                state=AgentState.WRAP_UP, state_since__lte=before
            )
        )
        for agent in agents:
            _transition(agent, AgentEvent.WRAP_UP_DONE)
    return len(agents)


def agent_event(
    *,
    agent_pk: int,
    event: str,
    call: Call | None = None,
    reason: str = "",
    only_from: tuple[str, ...] = (),
) -> Agent:
    """A move the call controller makes (offer, answer, no answer, hang-up); with `only_from`, made only if the
    agent is in one of those states (checked on the locked row: one read, not two). Inside a service's
    transaction it takes no savepoint of its own (a failure rolls the whole service back, as before, in two
    round trips fewer)."""
    with _agent_state_atomic(savepoint=False):
        agent = Agent.objects.select_for_update().get(pk=agent_pk)
        if only_from and agent.state not in only_from:
            return agent
        return _transition(agent, event, call=call, reason=reason)


# The call-bar actions and the agent state each needs (None: talking or on hold).
CALL_ACTIONS: dict[str, str | None] = {
    "hold": AgentState.TALKING,
    "retrieve": AgentState.HOLD,
    "hangup": None,
    "transfer": None,  # blind: to an agent, a queue or an outside number
    "consult": AgentState.TALKING,  # the citizen hears music while the agent talks to an agent or number
    "consult_cancel": AgentState.TALKING,
    "consult_transfer": AgentState.TALKING,
    "conference": AgentState.TALKING,
}
TARGET_KINDS = {"transfer": ("agent", "queue", "number", "ivr"), "consult": ("agent", "number")}
OUTSIDE_NUMBER_RE = re.compile(r"^[0-9]{3,20}$")


def _call_target(agent: Agent, action: str, kind: str, target: str) -> dict[str, Any]:
    """Where a transfer or consult goes, checked: a ready agent (not oneself), a queue, an outside number."""
    kinds = TARGET_KINDS[action]
    target = target.strip()
    if kind not in kinds:
        raise ServiceError(_("请选择转接目标类型"), field_errors={"target_kind": [_("请选择转接目标类型")]})
    if kind == "agent":
        other = Agent.objects.filter(agent_id=target).exclude(pk=agent.pk).first()
        if other is None:
            raise ServiceError(_("坐席工号不存在"), field_errors={"target": [_("坐席工号不存在")]})
        if other.state != AgentState.READY:
            message = _("坐席 %(id)s 当前不空闲（%(state)s）") % {
                "id": other.agent_id,
                "state": AgentState(other.state).label,
            }
            raise ServiceError(message, field_errors={"target": [message]}, code="agent_busy")
        return {"target_kind": kind, "target": other.pk, "target_label": other.agent_id}
    if kind == "ivr":  # to an IVR flow and back (its `back` node returns the caller to this agent)
        flow = IvrFlow.objects.filter(code=target, versions__status=IvrVersionStatus.PUBLISHED).first()
        if flow is None:
            message = _("语音导航流程不存在或未发布")
            raise ServiceError(message, field_errors={"target": [message]})
        return {"target_kind": kind, "target": flow.pk, "target_label": flow.code}
    if kind == "queue":
        queue = Queue.objects.filter(code=target).first()
        if queue is None:
            raise ServiceError(_("队列不存在"), field_errors={"target": [_("队列不存在")]})
        return {"target_kind": kind, "target": queue.pk, "target_label": queue.code}
    if not OUTSIDE_NUMBER_RE.match(target):
        raise ServiceError(_("号码应为 3–20 位数字"), field_errors={"target": [_("号码应为 3–20 位数字")]})
    return {"target_kind": kind, "target": target, "target_label": target}


def agent_call_action(
    *, agent: Agent, action: str, actor: Any, target_kind: str = "", target: str = ""
) -> None:
    """The agent's call-bar buttons (and the API): hold, retrieve, hang up, blind transfer, consult, cancel the
    consult, transfer after consulting, three-way conference. Checked here, carried out by the call controller,
    which changes the agents' states when the media has followed."""
    if action not in CALL_ACTIONS:
        raise ServiceError(_("不支持的操作"), field_errors={"action": [_("不支持的操作")]})
    with transaction.atomic():
        locked = Agent.objects.select_for_update(of=("self",)).select_related("current_call").get(pk=agent.pk)
        if getattr(actor, "pk", None) != locked.user_id and not getattr(actor, "is_superuser", False):
            raise NotAllowed(_("只能操作自己的坐席"))
        needed = CALL_ACTIONS[action]
        on_call = locked.state in (AgentState.TALKING, AgentState.HOLD)
        if locked.current_call is None or not on_call or (needed and locked.state != needed):
            raise ServiceError(
                _("坐席当前状态为“%(state)s”，不能执行该操作") % {"state": AgentState(locked.state).label},
                code="bad_agent_state",
            )
        extra = _call_target(locked, action, target_kind, target) if action in TARGET_KINDS else {}
        audit_record(
            actor=actor,
            action=AuditLog.Action.UPDATE,
            obj=locked,
            summary=f"call_{action} {locked.current_call.call_id} {extra.get('target_label', '')}".strip(),
        )
        message = {
            "action": action,
            "agent": locked.pk,
            "call_id": locked.current_call.call_id,
            "actor": getattr(actor, "pk", None),
            **extra,
        }
        transaction.on_commit(lambda: push.send_control(message))


def call_control_log(
    *,
    call: Call,
    kind: str,
    agent_pk: int | None = None,
    actor_pk: int | None = None,
    target: str = "",
    leg_id: str = "",
) -> CallControl:
    return CallControl.objects.create(
        call=call,
        kind=kind,
        agent_id=agent_pk,
        actor_id=actor_pk,
        target=target[:64],
        leg_id=leg_id,
        at=clock.now(),
    )


def call_leg_out(
    *, call: Call, leg_id: str, role: str, purpose: str, remote: str, node: str, agent_pk: int | None = None
) -> CallLeg:
    """An outbound leg that is not an ACD offer: a consult, a transfer to an outside number, a supervisor's phone.
    A consulted agent rings (its state moves like an offer)."""
    with transaction.atomic():
        if agent_pk is not None:
            agent_event(agent_pk=agent_pk, event=AgentEvent.OFFER, call=call)
        return CallLeg.objects.create(
            call=call,
            leg_id=leg_id,
            role=role,
            purpose=purpose,
            direction="out",
            remote=remote,
            agent_id=agent_pk,
            node=node,
            started_at=clock.now(),
        )


def call_leg_connected(*, call: Call, leg_id: str, first_person: bool = False) -> None:
    """A consult / transfer / supervisor leg answered (the call's own answer time is not touched, unless this is
    the first person the caller reaches: an outside duty number the IVR called)."""
    with _event_atomic():
        if first_person:
            locked = Call.objects.select_for_update().get(pk=call.pk)
            locked.status = CallStatus.TALKING
            if locked.answered_at is None:
                now = clock.now()
                locked.answered_at, locked.time_to_person_ms = now, _ms(now, locked.started_at)
            locked.save(update_fields=["status", "answered_at", "time_to_person_ms"])
            call.status, call.answered_at = locked.status, locked.answered_at
            call.time_to_person_ms = locked.time_to_person_ms
        leg = CallLeg.objects.select_for_update().get(leg_id=leg_id)
        leg.answered_at = leg.answered_at or clock.now()
        leg.save(update_fields=["answered_at"])
        if leg.agent_id:
            agent_event(
                agent_pk=leg.agent_id, event=AgentEvent.ANSWER, call=call, only_from=(AgentState.RINGING,)
            )


def call_leg_left(*, call: Call, leg_id: str, sip_code: int | None = None, cause: str = "") -> None:
    """A leg left a call that goes on (the transferring agent, a consulted party, a supervisor): its CDR row is
    closed, its agent goes to wrap-up (or not ready if it never answered)."""
    with _event_atomic():
        leg = CallLeg.objects.select_for_update().filter(leg_id=leg_id).first()
        if leg is None or leg.ended_at is not None:
            return  # closed with its call (`call_end` released its agent) or by an earlier event
        _close_leg(leg, clock.now(), sip_code=sip_code, cause=cause)
        if leg.agent_id is None or leg.role == LegRole.SUPERVISOR:
            return
        agent = Agent.objects.select_for_update().get(pk=leg.agent_id)
        if agent.current_call_id != call.pk:
            return
        if agent.state == AgentState.RINGING:
            agent_event(
                agent_pk=agent.pk, event=AgentEvent.NO_ANSWER, call=call, reason=NotReadyReason.NO_ANSWER
            )
        elif agent.state in (AgentState.TALKING, AgentState.HOLD):
            agent_event(agent_pk=agent.pk, event=AgentEvent.HANGUP, call=call)


def call_handover(*, call: Call, leg_id: str, purpose: str, agent_pk: int | None) -> None:
    """The call now belongs to this leg's party (a transfer completed, or the transferring agent left a
    conference): the call's agent follows, the leg's purpose records how it joined."""
    with _event_atomic():
        CallLeg.objects.filter(leg_id=leg_id).update(purpose=purpose)
        if agent_pk is not None:
            Call.objects.filter(pk=call.pk).update(agent_id=agent_pk)
            call.agent_id = agent_pk


def call_requeue(*, call: Call, queue: Queue, priority: int) -> Call:
    """Blind transfer to a queue: the caller waits again (ahead of ordinary calls), nobody is offered yet."""
    now = clock.now()
    with _event_atomic():
        call.queue, call.priority, call.status, call.agent = queue, priority, CallStatus.QUEUED, None
        call.enqueued_at = call.enqueued_at or now
        call.save(update_fields=["queue", "priority", "status", "agent"])
        _log_row(QueueLog, call=call, queue=queue, event=QueueEvent.TRANSFER, wait_ms=0, at=now)
        push.board_on_commit({"type": "call", "call_id": call.call_id, "status": call.status})
    return call


# --------------------------------------------------------------------------- calls, legs, queue log


def _queue_log(call: Call, event: str, *, agent_id: int | None, now: dt.datetime) -> None:
    if call.queue_id is not None:
        _log_row(
            QueueLog,
            call=call,
            queue_id=call.queue_id,
            event=event,
            agent_id=agent_id,
            wait_ms=_ms(now, call.enqueued_at),
            at=now,
        )


_UNREAD: Any = object()


def call_arrive(
    *, call_id: str, leg_id: str, caller: str, dialed: str, node: str, number: Any = _UNREAD
) -> Call:
    """A call came in. `number`: the active `Number` dialled (with its queue), or None, when the caller (the call
    controller, which keeps them for a second) has already read it."""
    from .models import Number

    now = clock.now()
    with _event_atomic():
        if number is _UNREAD:
            number = Number.objects.filter(number=dialed, is_active=True).select_related("queue").first()
        call = Call.objects.create(
            call_id=call_id,
            caller=caller,
            dialed=dialed,
            number=number,
            queue=number.queue if number else None,
            started_at=now,
            status=CallStatus.IVR,
        )
        CallLeg.objects.create(
            call=call, leg_id=leg_id, role="citizen", direction="in", remote=caller, node=node, started_at=now
        )
        push.board_on_commit({"type": "call", "call_id": call_id, "status": call.status})
    return call


def call_enqueue(*, call: Call, queue: Queue, priority: int = 0) -> Call:
    now = clock.now()
    with _event_atomic():
        call.queue, call.priority, call.status = queue, priority, CallStatus.QUEUED
        call.enqueued_at = call.enqueued_at or now
        call.save(update_fields=["queue", "priority", "status", "enqueued_at"])
        _log_row(QueueLog, call=call, queue=queue, event=QueueEvent.ENQUEUE, at=now)
        push.board_on_commit({"type": "call", "call_id": call.call_id, "status": call.status})
    return call


def call_offer(*, call: Call, agent_pk: int, leg_id: str, remote: str, node: str) -> Agent:
    """The ACD chose an agent: its phone rings (agent → ringing, an outbound leg, a queue-log row). Inside the
    controller's pass it takes no savepoint (two statements per offer): a failure rolls the pass back."""
    now = clock.now()
    with _event_atomic():
        agent = agent_event(agent_pk=agent_pk, event=AgentEvent.OFFER, call=call)
        call.status, call.agent = CallStatus.RINGING, agent
        call.save(update_fields=["status", "agent"])
        CallLeg.objects.create(
            call=call,
            leg_id=leg_id,
            role="agent",
            direction="out",
            remote=remote,
            agent=agent,
            node=node,
            started_at=now,
        )
        _queue_log(call, QueueEvent.OFFER, agent_id=agent.pk, now=now)
        from .selectors import caller_shown, shows_numbers

        seat_user = agent.user
        if call.caller and shows_numbers(seat_user):
            # ORG-4: an unmasked number shown to a person is audited — once per offer, the call bar and its
            # push show this same call until it ends.
            audit_record(
                actor=seat_user,
                action="view",
                obj=call,
                summary=f"来电号码显示给坐席 {agent.agent_id}",
            )
        caller = caller_shown(user=seat_user, number=call.caller)
        payload = agent_payload(
            agent, {"type": "ringing", "caller": caller, "queue": call.queue.name if call.queue else ""}
        )
        transaction.on_commit(lambda: push.publish_agent(agent.pk, payload))
    return agent


def call_overflow(*, call: Call, to_queue: Queue | None) -> Call:
    """The call waited past its queue's limit: on to the overflow queue, or (None) to voicemail."""
    now = clock.now()
    with _event_atomic():
        _queue_log(call, QueueEvent.OVERFLOW, agent_id=None, now=now)
        push.board_on_commit({"type": "call", "call_id": call.call_id, "status": "overflow"})
        if to_queue is None:
            call.status = CallStatus.IVR
            call.save(update_fields=["status"])
        else:
            call.queue = to_queue
            call.save(update_fields=["queue"])
            _log_row(
                QueueLog,
                call=call,
                queue=to_queue,
                event=QueueEvent.ENQUEUE,
                wait_ms=_ms(now, call.enqueued_at),
                at=now,
            )
    return call


def call_offer_failed(*, call: Call, leg_id: str, sip_code: int | None, cause: str) -> None:
    """The agent's phone did not answer: agent not ready (no answer), the call back to the head of its queue."""
    now = clock.now()
    with _event_atomic():
        leg_end(leg_id=leg_id, sip_code=sip_code, cause=cause)
        if call.agent_id:
            agent_event(
                agent_pk=call.agent_id,
                event=AgentEvent.NO_ANSWER,
                call=call,
                reason=NotReadyReason.NO_ANSWER,
                only_from=(AgentState.RINGING,),
            )
            _queue_log(call, QueueEvent.NO_ANSWER, agent_id=call.agent_id, now=now)
        call.status, call.agent = CallStatus.QUEUED, None
        call.save(update_fields=["status", "agent"])


def call_connect(*, call: Call, leg_id: str) -> Call:
    """The agent answered: the citizen reached a person (IVR-6 time measured here)."""
    now = clock.now()
    with _event_atomic():
        CallLeg.objects.filter(leg_id=leg_id).update(answered_at=now)
        call.status = CallStatus.TALKING
        if call.answered_at is None:  # the first person only: a transferred call keeps its figure
            call.answered_at, call.time_to_person_ms = now, _ms(now, call.started_at)
        call.save(update_fields=["status", "answered_at", "time_to_person_ms"])
        _queue_log(call, QueueEvent.CONNECT, agent_id=call.agent_id, now=now)
        push.board_on_commit({"type": "call", "call_id": call.call_id, "status": call.status})
        if call.agent_id:
            agent_event(
                agent_pk=call.agent_id, event=AgentEvent.ANSWER, call=call, only_from=(AgentState.RINGING,)
            )
    return call


def leg_answered(*, leg_id: str) -> None:
    CallLeg.objects.filter(leg_id=leg_id, answered_at__isnull=True).update(answered_at=clock.now())


def _close_leg(leg: CallLeg, now: dt.datetime, *, sip_code: int | None = None, cause: str = "") -> None:
    leg.ended_at, leg.sip_code, leg.hangup_cause = now, sip_code, cause[:64]
    leg.billsec = _ms(now, leg.answered_at) // 1000 if leg.answered_at else 0
    # one UPDATE per leg: `bulk_update`'s CASE statement for a call's legs cost more CPU than two plain ones
    leg.save(update_fields=["ended_at", "sip_code", "hangup_cause", "billsec"])


def leg_end(*, leg_id: str, sip_code: int | None = None, cause: str = "") -> None:
    now = clock.now()
    with transaction.atomic(savepoint=False):
        leg = CallLeg.objects.select_for_update().filter(leg_id=leg_id, ended_at__isnull=True).first()
        if leg is None:
            return
        _close_leg(leg, now, sip_code=sip_code, cause=cause)


def call_end(
    *,
    call: Call,
    disposition: str = "",
    cause: str = "call_ended",
    hungup: tuple[str, int | None, str] | None = None,
) -> Call:
    """The last leg is gone: close open legs (`hungup`: the leg whose hang-up ends the call, with its SIP code and
    reason), the queue log (abandoned if it never reached a person), the agent (talking → wrap-up, ringing →
    ready), the recording."""
    now = clock.now()
    with _event_atomic():
        if not disposition:
            disposition = Disposition.ANSWERED if call.answered_at else Disposition.ABANDONED
        # The guard and the lock in one statement: a call already ended (by an earlier event, or a recovery) is
        # left alone; otherwise its row stays locked to the end of the transaction, as `select_for_update` did.
        # What decides the rest (answered, queue, enqueued) is read from `call`: the controller's row, which every
        # write to a live call goes through (`CallController._call`; dropped and re-read after a rollback).
        if (
            not Call.objects.filter(pk=call.pk)
            .exclude(status=CallStatus.ENDED)
            .update(status=CallStatus.ENDED, disposition=disposition, ended_at=now)
        ):
            call.status = CallStatus.ENDED  # as the row says (the earlier end wrote the rest)
            return call
        for leg in call.legs.select_for_update().filter(ended_at__isnull=True):
            if hungup is not None and leg.leg_id == hungup[0]:
                _close_leg(leg, now, sip_code=hungup[1], cause=hungup[2])
            else:
                _close_leg(leg, now, cause=cause)
        if (
            disposition in (Disposition.ABANDONED, Disposition.FAILED)
            and call.queue_id
            and call.enqueued_at
            and not call.answered_at
        ):
            # Left the queue without reaching a person: by the caller's choice, or lost with its media node.
            _log_row(
                QueueLog,
                call=call,
                queue_id=call.queue_id,
                event=QueueEvent.ABANDON if disposition == Disposition.ABANDONED else QueueEvent.FAILED,
                wait_ms=_ms(now, call.enqueued_at),
                at=now,
            )
        # Every agent still on this call (the answering one, a consulted one, one ringing).
        for agent in Agent.objects.select_for_update().filter(
            current_call=call, state__in=(AgentState.RINGING, AgentState.TALKING, AgentState.HOLD)
        ):
            _transition(agent, AgentEvent.HANGUP, call=call)
        call.status, call.disposition, call.ended_at = CallStatus.ENDED, disposition, now
        push.board_on_commit({"type": "call", "call_id": call.call_id, "status": call.status})
        lost = disposition == Disposition.FAILED and call.direction == "in"  # the caller is owed a call back
        if (disposition in (Disposition.ABANDONED, Disposition.VOICEMAIL) or lost) and call.caller:
            missed_call_add(call=call, reason=disposition, at=now)
    return call


def missed_call_add(*, call: Call, reason: str, at: dt.datetime) -> MissedCall:
    """On the callback list, due `HOTLINE_MISSED_CALLBACK_HOURS` after the call (the voicemail attached)."""
    hours = int(getattr(settings, "HOTLINE_MISSED_CALLBACK_HOURS", 24))
    missed, _created = MissedCall.objects.get_or_create(
        call=call,
        defaults={
            "number": call.caller,
            "reason": reason,
            "recording": call.recordings.order_by("-started_at").first(),
            "due_at": at + dt.timedelta(hours=hours),
            "created_at": at,
        },
    )
    return missed


def missed_call_done(*, missed: MissedCall, actor: Any) -> MissedCall:
    with transaction.atomic():
        locked = MissedCall.objects.select_for_update().get(pk=missed.pk)
        if locked.status == CallbackStatus.DONE:
            raise ServiceError(_("该来电已回拨"), code="already_done")
        locked.status, locked.done_by, locked.done_at = CallbackStatus.DONE, actor, clock.now()
        locked.save(update_fields=["status", "done_by", "done_at"])
        audit_record(
            actor=actor,
            action=AuditLog.Action.UPDATE,
            obj=locked,
            summary=f"missed_call_done {locked.number}",
        )
    return locked


def call_mark_blacklisted(*, call: Call, treatment: str) -> Call:
    call.blacklist_treatment = treatment
    call.save(update_fields=["blacklist_treatment"])
    return call


def recording_start(*, call: Call, path: str) -> Recording:
    return Recording.objects.create(call=call, path=path, started_at=clock.now())


def recording_finish(*, recording: Recording, size_bytes: int) -> Recording:
    now = clock.now()
    recording.ended_at, recording.size_bytes = now, size_bytes
    # 16-bit mono 8 kHz WAV: 16 bytes per millisecond after the 44-byte header.
    recording.duration_ms = max(0, size_bytes - 44) // 16
    recording.save(update_fields=["ended_at", "size_bytes", "duration_ms"])
    return recording


RETENTION_KINDS = ("inbound", "outbound", "voicemail")


def recordings_expire(*, batch: int = 500) -> int:
    """REC-1 retention (`HOTLINE_RECORDING_RETENTION_DAYS`, per kind; 0 = kept for ever): delete the files of the
    recordings that ended before their kind's limit and mark their rows (`deleted_at`; the CDR keeps the row). A
    voicemail still waiting on the callback list is kept until the callback is done. Returns how many went."""
    from pathlib import Path

    from django.db.models import Q

    days = getattr(settings, "HOTLINE_RECORDING_RETENTION_DAYS", {}) or {}
    now = clock.now()
    kinds = {
        "voicemail": Q(call__disposition=Disposition.VOICEMAIL),
        "outbound": Q(call__direction="out") & ~Q(call__disposition=Disposition.VOICEMAIL),
        "inbound": Q(call__direction="in") & ~Q(call__disposition=Disposition.VOICEMAIL),
    }
    done = 0
    for kind in RETENTION_KINDS:
        keep = int(days.get(kind, 0) or 0)
        if keep <= 0:
            continue
        expired = (
            Recording.objects.filter(
                kinds[kind], deleted_at__isnull=True, ended_at__lt=now - dt.timedelta(days=keep)
            )
            .exclude(call__missed__status=CallbackStatus.OPEN, call__missed__recording_id__isnull=False)
            .order_by("ended_at")
        )
        while rows := list(expired.values_list("pk", "path")[:batch]):
            for _pk, path in rows:
                (Path(settings.VAR_DIR) / path).unlink(missing_ok=True)
            Recording.objects.filter(pk__in=[pk for pk, _path in rows]).update(deleted_at=now)
            done += len(rows)
    return done


# --------------------------------------------------------------------------- call ↔ case


def call_link_case(*, call_id: str, case: Any) -> CallCase:
    call = Call.objects.filter(call_id=call_id).first()
    if call is None:
        raise NotFound(_("呼叫不存在"))
    link, _created = CallCase.objects.get_or_create(call=call, case=case, defaults={"linked_at": clock.now()})
    return link


def on_case_event(sender: Any, instance: Any, created: bool = False, raw: bool = False, **_: Any) -> None:
    """post_save of CaseEvent: a case registered from a call (its origin carries `call_id`) is linked to it in
    the same transaction; a result the office accepted gets its automated rating call (CLS-5, when on)."""
    if created and not raw and instance.action == "review_accept":
        if getattr(settings, "HOTLINE_RATING_CALLS", False):  # off: not even the case row is read
            rating_call_plan(case=instance.case)
        return
    if not created or raw or instance.action not in ("create", "save_draft"):
        return
    origin = instance.case.origin or {}
    call_id = str(origin.get("call_id") or "")[:40]
    if call_id and Call.objects.filter(call_id=call_id).exists():
        call_link_case(call_id=call_id, case=instance.case)


# --------------------------------------------------------------------------- IVR flows (IVR-1, IVR-3, IVR-5)


def _need_ivr_admin(actor: Any) -> None:
    from .permissions import may_edit_ivr

    if not may_edit_ivr(actor):
        raise NotAllowed(_("只有系统管理员可以编辑语音导航"))


def ivr_flow_create(*, code: str, name: str, description: str = "", actor: Any) -> IvrFlow:
    """A new flow with an empty draft (version 1): one node that puts the caller through to a person."""
    _need_ivr_admin(actor)
    errors: dict[str, list[str]] = {}
    code, name = code.strip(), name.strip()
    if not ivr.NODE_ID_RE.match(code):
        errors["code"] = [_("编码只能由字母、数字、-、_ 组成（最多 32 位）")]
    elif IvrFlow.objects.filter(code=code).exists():
        errors["code"] = [_("编码已存在")]
    if not name or len(name) > 50:
        errors["name"] = [_("请填写名称（最多 50 字）")]
    if len(description) > 200:
        errors["description"] = [_("说明最多 200 字")]
    if errors:
        raise ServiceError(_("流程信息有误"), field_errors=errors)
    now = clock.now()
    with transaction.atomic():
        flow = IvrFlow.objects.create(code=code, name=name, description=description.strip(), created_at=now)
        first = Queue.objects.order_by("code").first()
        graph = {
            "start": "start",
            "nodes": [{"id": "start", "type": ivr.QUEUE, "queue": first.code if first else ""}],
        }
        IvrVersion.objects.create(
            flow=flow, number=1, graph=graph, created_by=_user_or_none(actor), created_at=now, updated_at=now
        )
        audit_record(actor=actor, action=AuditLog.Action.CREATE, obj=flow, summary=f"ivr_flow {code}")
    return flow


def _user_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def ivr_problems(graph: Any) -> list[ivr.Problem]:
    return ivr.validate(
        graph,
        queue_codes=Queue.objects.values_list("code", flat=True),
        audio_names=IvrPrompt.objects.values_list("name", flat=True),
    )


def ivr_draft_save(
    *, flow: IvrFlow, graph: dict[str, Any], actor: Any
) -> tuple[IvrVersion, list[ivr.Problem]]:
    """Save the flow's draft (a new draft copied from nothing when none is open); a draft may still have
    problems (work in progress): they are returned, and publishing refuses them."""
    _need_ivr_admin(actor)
    if not isinstance(graph, dict) or not isinstance(graph.get("nodes"), list):
        raise ServiceError(_("流程格式错误"), field_errors={"graph": [_("流程格式错误")]})
    now = clock.now()
    with transaction.atomic():
        locked = IvrFlow.objects.select_for_update().get(pk=flow.pk)
        draft = locked.versions.filter(status=IvrVersionStatus.DRAFT).first()
        if draft is None:
            last = locked.versions.order_by("-number").first()
            draft = IvrVersion(
                flow=locked,
                number=(last.number + 1) if last else 1,
                created_by=_user_or_none(actor),
                created_at=now,
            )
        draft.graph, draft.updated_at = graph, now
        draft.save()
        audit_record(
            actor=actor,
            action=AuditLog.Action.UPDATE,
            obj=draft,
            summary=f"ivr_draft {locked.code} v{draft.number}",
        )
    return draft, ivr_problems(graph)


def ivr_draft_start(*, flow: IvrFlow, actor: Any) -> IvrVersion:
    """A new draft copied from the published version (published versions are never edited)."""
    _need_ivr_admin(actor)
    current = flow.versions.filter(status=IvrVersionStatus.PUBLISHED).first()
    existing = flow.versions.filter(status=IvrVersionStatus.DRAFT).first()
    if existing is not None:
        return existing
    graph = current.graph if current else {"start": "", "nodes": []}
    return ivr_draft_save(flow=flow, graph=graph, actor=actor)[0]


def ivr_publish(*, flow: IvrFlow, actor: Any) -> IvrVersion:
    """The draft becomes the version calls run (the previous one retired). Refused while the graph has problems
    (unreachable node, dead end, unknown target, queue or prompt); every TTS prompt is rendered first, so the
    first caller does not wait for it."""
    _need_ivr_admin(actor)
    draft = flow.versions.filter(status=IvrVersionStatus.DRAFT).first()
    if draft is None:
        raise ServiceError(_("没有待发布的草稿"), code="no_draft")
    problems = ivr_problems(draft.graph)
    if problems:
        errors: dict[str, list[str]] = {}
        for p in problems:
            errors.setdefault(f"{p.node}:{p.field}" if p.node else p.field, []).append(p.message)
        raise ServiceError(_("流程有误，不能发布"), field_errors=errors, code="invalid_flow")
    try:
        for text in ivr.prompt_texts(draft.graph):
            tts.speak(text)
    except tts.TtsError as exc:
        raise ServiceError(
            _("语音合成失败：%(error)s") % {"error": str(exc)[:200]}, code="tts_failed"
        ) from exc
    now = clock.now()
    with transaction.atomic():
        locked = IvrVersion.objects.select_for_update().get(pk=draft.pk)
        if locked.status != IvrVersionStatus.DRAFT:
            raise ServiceError(_("该版本已发布"), code="already_published")
        IvrVersion.objects.filter(flow=flow, status=IvrVersionStatus.PUBLISHED).update(
            status=IvrVersionStatus.RETIRED
        )
        locked.status, locked.published_by, locked.published_at = (
            IvrVersionStatus.PUBLISHED,
            _user_or_none(actor),
            now,
        )
        locked.save(update_fields=["status", "published_by", "published_at"])
        audit_record(
            actor=actor,
            action=AuditLog.Action.UPDATE,
            obj=locked,
            summary=f"ivr_publish {flow.code} v{locked.number}",
        )
    return locked


MAX_PROMPT_BYTES = 5 * 1024 * 1024


def ivr_prompt_upload(*, name: str, label: str = "", data: bytes, actor: Any) -> IvrPrompt:
    """A recorded prompt (WAV), converted to 8 kHz 16-bit mono by sox when it is in another WAV format."""
    import hashlib
    import shutil
    import subprocess
    import tempfile
    import wave
    from pathlib import Path

    _need_ivr_admin(actor)
    name = name.strip()
    errors: dict[str, list[str]] = {}
    if not ivr.NODE_ID_RE.match(name):
        errors["name"] = [_("名称只能由字母、数字、-、_ 组成（最多 32 位）")]
    elif IvrPrompt.objects.filter(name=name).exists():
        errors["name"] = [_("名称已存在")]
    if not data or len(data) > MAX_PROMPT_BYTES or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        errors["audio"] = [_("请上传 5 MB 以内的 WAV 录音")]
    if errors:
        raise ServiceError(_("录音提示有误"), field_errors=errors)
    digest = hashlib.sha256(data).hexdigest()[:12]
    relative = f"telephony/prompts/{name}-{digest}.wav"
    target = Path(settings.VAR_DIR) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    bad = ServiceError(_("录音提示有误"), field_errors={"audio": [_("无法读取该 WAV 文件")]})
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.wav"
        source.write_bytes(data)
        try:
            with wave.open(str(source)) as w:
                fmt = (w.getframerate(), w.getnchannels(), w.getsampwidth())
        except (wave.Error, EOFError):
            fmt = (0, 0, 0)
        if fmt == (8000, 1, 2):
            shutil.copy(source, target)
        elif shutil.which("sox"):
            done = subprocess.run(
                ["sox", str(source), "-r", "8000", "-c", "1", "-b", "16", str(target)],
                capture_output=True,
                timeout=60,
            )
            if done.returncode != 0:
                raise bad
        else:
            raise bad
    try:
        with wave.open(str(target)) as w:
            duration = int(w.getnframes() * 1000 / w.getframerate())
    except (wave.Error, EOFError) as exc:
        target.unlink(missing_ok=True)
        raise bad from exc
    with transaction.atomic():
        prompt = IvrPrompt.objects.create(
            name=name,
            label=label.strip()[:100],
            path=relative,
            duration_ms=duration,
            uploaded_by=_user_or_none(actor),
            uploaded_at=clock.now(),
        )
        audit_record(actor=actor, action=AuditLog.Action.CREATE, obj=prompt, summary=f"ivr_prompt {name}")
    return prompt


def ivr_step(*, call: Call, version_pk: int, node: str, event: str, digits: str = "") -> None:
    _log_row(
        IvrStep,
        call=call,
        version_id=version_pk,
        node=node[:32],
        event=event,
        digits=digits[:20],
        at=clock.now(),
    )


def call_start_ivr(*, call: Call, version_pk: int) -> None:
    Call.objects.filter(pk=call.pk).update(ivr_version_id=version_pk)
    call.ivr_version_id = version_pk


# --------------------------------------------------------------------------- supervisor modes (SPV-1)

MONITOR_MODES = ("listen", "whisper", "barge", "intercept")
MONITOR_KIND = {
    "listen": ControlKind.LISTEN,
    "whisper": ControlKind.WHISPER,
    "barge": ControlKind.BARGE,
    # The supervisor's phone takes the call over: the agent's leg is released (to wrap-up).
    "intercept": ControlKind.INTERCEPT,
    "end": ControlKind.MONITOR_END,
}


def call_monitor(*, call_id: str, mode: str, actor: Any) -> CallControl:
    """A supervisor listens to a live call, whispers to its agent, barges in or intercepts it (or ends that): the
    supervisor's own phone (the extension of the seat bound to the account) is called and joined in the chosen
    mode. Every change is a call-control row and an audit row."""
    from .permissions import may_supervise

    if not may_supervise(actor):
        raise NotAllowed(_("只有班长可以监听通话"))
    if mode not in MONITOR_KIND:
        raise ServiceError(_("不支持的监听方式"), field_errors={"mode": [_("不支持的监听方式")]})
    seat = Agent.objects.filter(user=actor).first()
    if seat is None:
        raise ServiceError(_("当前账号未绑定坐席分机，无法监听"), code="no_seat")
    with transaction.atomic():
        call = (
            Call.objects.select_for_update(of=("self",))
            .filter(call_id=call_id[:40], status=CallStatus.TALKING)
            .select_related("agent")
            .first()
        )
        if call is None:
            raise NotFound(_("通话不存在或已结束"))
        row = call_control_log(
            call=call,
            kind=MONITOR_KIND[mode],
            agent_pk=call.agent_id,
            actor_pk=actor.pk,
            target=seat.extension,
        )
        audit_record(
            actor=actor,
            action=AuditLog.Action.VIEW if mode == "listen" else AuditLog.Action.UPDATE,
            obj=call,
            summary=f"monitor_{mode} {call.call_id} agent {call.agent.agent_id if call.agent else '-'}",
        )
        message = {
            "action": "monitor_end" if mode == "end" else "monitor",
            "mode": mode,
            "call_id": call.call_id,
            "extension": seat.extension,
            "actor": actor.pk,
        }
        transaction.on_commit(lambda: push.send_control(message))
    return row


def recording_played(*, recording: Recording, actor: Any) -> None:
    """REC-1: every playback of a recording is audited (who, which call, which cases)."""
    cases = ",".join(str(pk) for pk in recording.call.case_links.values_list("case_id", flat=True))
    audit_record(
        actor=actor,
        action=AuditLog.Action.VIEW,
        obj=recording,
        summary=f"recording_play {recording.call.call_id} cases {cases or '-'}",
    )


def call_force_release(*, call_id: str, actor: Any) -> CallControl:
    """Force release (强拆): a supervisor ends a live call (waiting, ringing or talking); the controller hangs up
    the caller and everything follows (CDR closed, agent to wrap-up). Audited."""
    from .permissions import may_supervise

    if not may_supervise(actor):
        raise NotAllowed(_("只有班长可以强拆通话"))
    with transaction.atomic():
        call = (
            Call.objects.select_for_update(of=("self",))
            .filter(call_id=call_id[:40])
            .exclude(status=CallStatus.ENDED)
            .select_related("agent")
            .first()
        )
        if call is None:
            raise NotFound(_("通话不存在或已结束"))
        row = call_control_log(
            call=call, kind=ControlKind.FORCE_RELEASE, agent_pk=call.agent_id, actor_pk=actor.pk
        )
        audit_record(
            actor=actor,
            action=AuditLog.Action.UPDATE,
            obj=call,
            summary=f"force_release {call.call_id} agent {call.agent.agent_id if call.agent else '-'}",
        )
        message = {"action": "force_release", "call_id": call.call_id, "actor": actor.pk}
        transaction.on_commit(lambda: push.send_control(message))
    return row


# What a supervisor may force on an agent (SPV-1), and the agent-state events that get there from each state.
FORCE_PATHS: dict[str, dict[str, tuple[str, ...]]] = {
    "ready": {
        AgentState.NOT_READY: (AgentEvent.READY,),
        AgentState.WRAP_UP: (AgentEvent.WRAP_UP_DONE,),
    },
    "not_ready": {
        AgentState.READY: (AgentEvent.NOT_READY,),
        AgentState.NOT_READY: (AgentEvent.NOT_READY,),
        AgentState.WRAP_UP: (AgentEvent.NOT_READY,),
    },
    "logout": {
        AgentState.READY: (AgentEvent.LOGOUT,),
        AgentState.NOT_READY: (AgentEvent.LOGOUT,),
        AgentState.WRAP_UP: (AgentEvent.NOT_READY, AgentEvent.LOGOUT),
    },
}


def agent_force_state(*, agent_id: str, target: str, actor: Any) -> Agent:
    """Force busy / idle / logout (SPV-1) by a supervisor. An agent on a call (ringing, talking, on hold) is refused:
    the call is force-released first. The state log carries the reason "supervisor"; audited."""
    from .permissions import may_supervise

    if not may_supervise(actor):
        raise NotAllowed(_("只有班长可以强制置忙、置闲或签出"))
    if target not in FORCE_PATHS:
        raise ServiceError(_("不支持的操作"), field_errors={"target": [_("不支持的操作")]})
    with transaction.atomic():
        agent = Agent.objects.select_for_update().filter(agent_id=agent_id.strip()[:16]).first()
        if agent is None:
            raise NotFound(_("坐席不存在"))
        events = FORCE_PATHS[target].get(agent.state)
        if events is None:
            message = _("坐席当前状态为“%(state)s”，不能强制该操作") % {
                "state": AgentState(agent.state).label
            }
            raise ServiceError(message, field_errors={"target": [message]}, code="bad_agent_state")
        for event in events:
            # a forced logout is told apart from the agent's own in the login-details report
            forced = event in (AgentEvent.NOT_READY, AgentEvent.LOGOUT)
            reason = NotReadyReason.SUPERVISOR if forced else ""
            _transition(agent, event, reason=reason)
        audit_record(
            actor=actor,
            action=AuditLog.Action.UPDATE,
            obj=agent,
            summary=f"force_{target} agent {agent.agent_id}",
        )
    return agent


# --------------------------------------------------------------------------- messages and help requests (SPV-1)

NOTE_MAX_CHARS = 200


def _note_text(text: str, *, required: bool) -> str:
    text = (text or "").strip()
    if required and not text:
        raise ServiceError(_("请填写内容"), field_errors={"text": [_("请填写内容")]})
    if len(text) > NOTE_MAX_CHARS:
        message = _("内容不能超过 %(n)d 字") % {"n": NOTE_MAX_CHARS}
        raise ServiceError(message, field_errors={"text": [message]})
    return text


def supervisor_message(*, agent_id: str, text: str, actor: Any) -> AgentNote:
    """A supervisor's message to an agent: pushed to the agent's call bar at once, shown there until read."""
    from .permissions import may_supervise

    if not may_supervise(actor):
        raise NotAllowed(_("只有班长可以给坐席发消息"))
    text = _note_text(text, required=True)
    with transaction.atomic():
        agent = Agent.objects.filter(agent_id=agent_id.strip()[:16]).first()
        if agent is None:
            raise NotFound(_("坐席不存在"))
        note = AgentNote.objects.create(
            agent=agent, kind=AgentNoteKind.MESSAGE, text=text, author=actor, created_at=clock.now()
        )
        audit_record(
            actor=actor,
            action=AuditLog.Action.CREATE,
            obj=note,
            summary=f"supervisor_message agent {agent.agent_id}",
        )
        message = {"type": "supervisor_message", "agent": agent.agent_id, "note": note.pk, "text": text}
        transaction.on_commit(lambda: push.publish_agent(agent.pk, message))
    return note


def help_request(*, agent: Agent, text: str = "", actor: Any) -> AgentNote:
    """An agent asks the supervisors for help (with the call it is on, if any): pushed to the board."""
    text = _note_text(text, required=False)
    with transaction.atomic():
        locked = Agent.objects.select_for_update().get(pk=agent.pk)
        if getattr(actor, "pk", None) != locked.user_id and not getattr(actor, "is_superuser", False):
            raise NotAllowed(_("只能操作自己的坐席"))
        if AgentNote.objects.filter(agent=locked, kind=AgentNoteKind.HELP, handled_at__isnull=True).exists():
            raise ServiceError(_("已发出求助，请等待班长处理"), code="help_pending")
        note = AgentNote.objects.create(
            agent=locked,
            kind=AgentNoteKind.HELP,
            text=text,
            call_id=locked.current_call_id,
            author=_user_or_none(actor),
            created_at=clock.now(),
        )
        audit_record(
            actor=actor,
            action=AuditLog.Action.CREATE,
            obj=note,
            summary=f"help_request agent {locked.agent_id}",
        )
        push.board_on_commit({"type": "help_request", "agent": locked.agent_id, "note": note.pk})
    return note


def note_handled(*, note_pk: int, actor: Any, agent: Agent | None = None) -> AgentNote:
    """A help request taken by a supervisor, or (`agent` given) a message read by its agent. Audited."""
    from .permissions import may_supervise

    with transaction.atomic():
        notes = AgentNote.objects.select_for_update().select_related("agent")
        if agent is not None:
            note = notes.filter(pk=note_pk, agent=agent, kind=AgentNoteKind.MESSAGE).first()
            if note is not None and getattr(actor, "pk", None) != agent.user_id:
                note = None
        else:
            if not may_supervise(actor):
                raise NotAllowed(_("只有班长可以处理求助"))
            note = notes.filter(pk=note_pk, kind=AgentNoteKind.HELP).first()
        if note is None:
            raise NotFound(_("消息不存在"))
        if note.handled_at is None:
            note.handled_at, note.handled_by = clock.now(), actor
            note.save(update_fields=["handled_at", "handled_by"])
            audit_record(
                actor=actor,
                action=AuditLog.Action.UPDATE,
                obj=note,
                summary=f"{note.kind}_handled agent {note.agent.agent_id}",
            )
            if note.kind == AgentNoteKind.HELP:
                push.board_on_commit({"type": "help_handled", "agent": note.agent.agent_id, "note": note.pk})
                message = {"type": "help_handled", "agent": note.agent.agent_id, "note": note.pk}
                agent_pk = note.agent_id
                transaction.on_commit(lambda: push.publish_agent(agent_pk, message))
    return note


# --------------------------------------------------------------------------- click-to-call (ACD-3, CIT-5)

# Where a number to dial comes from: the browser names the page's object, never the number (a masked number is
# dialled without being revealed).
DIAL_SOURCES = ("case", "citizen", "citizen_phone", "missed")


def dial_number(*, user: Any, source: str, pk: int) -> str:
    """The number behind a phone shown to this user, resolved by object and scope (NotFound otherwise)."""
    from hotline.cases.models import Case
    from hotline.cases.selectors import case_require_visible
    from hotline.citizens.models import CitizenPhone
    from hotline.citizens.selectors import citizen_get

    from .selectors import missed_call_get

    if source == "case":
        case_require_visible(user=user, pk=pk)
        return Case.objects.filter(pk=pk).values_list("citizen_phone", flat=True).first() or ""
    if source == "citizen":
        return citizen_get(user=user, pk=pk).phone
    if source == "citizen_phone":
        phone = CitizenPhone.objects.filter(pk=pk).first()
        if phone is None:
            raise NotFound(_("号码不存在"))
        citizen_get(user=user, pk=phone.citizen_id)
        return phone.number
    if source == "missed":
        return missed_call_get(user=user, pk=pk).number
    raise ServiceError(_("不支持的号码来源"), field_errors={"source": [_("不支持的号码来源")]})


def click_to_call(*, agent: Agent, source: str, pk: int, actor: Any) -> Call:
    """Outbound from a number the user may see: the agent's phone rings first, then the citizen is called and
    both are bridged and recorded (the call controller does it). A call from a case is linked to it; a call from
    the callback list closes that entry when the citizen answers. Refused: not one's own seat, on a call,
    an outbound-blacklisted number (CIT-4). Audited without the number."""
    from hotline.citizens.models import BlacklistDirection
    from hotline.citizens.selectors import blacklist_lookup

    number = "".join(ch for ch in dial_number(user=actor, source=source, pk=pk) if ch.isdigit())
    if not OUTSIDE_NUMBER_RE.match(number):
        raise ServiceError(
            _("该号码无法外呼"), field_errors={"number": [_("该号码无法外呼")]}, code="bad_number"
        )
    if blacklist_lookup(number, BlacklistDirection.OUTBOUND) is not None:
        raise ServiceError(_("该号码已列入外呼黑名单"), code="blacklisted")
    now = clock.now()
    with transaction.atomic():
        locked = Agent.objects.select_for_update().get(pk=agent.pk)
        if getattr(actor, "pk", None) != locked.user_id:
            raise NotAllowed(_("只能使用自己的坐席外呼"))
        if locked.state not in (AgentState.READY, AgentState.NOT_READY, AgentState.WRAP_UP):
            message = _("坐席当前状态为“%(state)s”，不能外呼") % {"state": AgentState(locked.state).label}
            raise ServiceError(message, code="bad_agent_state")
        import uuid

        call = Call.objects.create(
            call_id=uuid.uuid4().hex,
            direction="out",
            caller=number,
            dialed=number,
            agent=locked,
            status=CallStatus.RINGING,
            started_at=now,
        )
        _transition(locked, AgentEvent.DIAL, call=call, at=now)
        leg_id = f"out-{uuid.uuid4().hex[:20]}"
        _outbound_agent_leg(call, locked, leg_id, now)
        if source == "case":
            CallCase.objects.get_or_create(call=call, case_id=pk, defaults={"linked_at": now})
        if source == "missed":
            MissedCall.objects.filter(pk=pk).update(callback_call=call)
        audit_record(
            actor=actor,
            action=AuditLog.Action.CREATE,
            obj=call,
            summary=f"click_to_call {call.call_id} {source} {pk} agent {locked.agent_id}",
        )
        command = {
            "action": "dial",
            "call_id": call.call_id,
            "agent": locked.pk,
            "leg": leg_id,
            "extension": locked.extension,
            "number": number,
        }
        transaction.on_commit(lambda: push.send_control(command))
        push.board_on_commit({"type": "call", "call_id": call.call_id, "status": call.status})
    return call


def outbound_answered(*, call: Call, leg_id: str) -> None:
    """The citizen answered a click-to-call: the call is talking; a callback-list entry or a kept queue place it
    worked is done."""
    now = clock.now()
    with transaction.atomic():
        CallLeg.objects.filter(leg_id=leg_id, answered_at__isnull=True).update(answered_at=now)
        Call.objects.filter(pk=call.pk).update(
            status=CallStatus.TALKING, answered_at=now, time_to_person_ms=0
        )
        call.status, call.answered_at, call.time_to_person_ms = CallStatus.TALKING, now, 0
        QueueCallback.objects.filter(callback_call=call).update(status=QueueCallbackStatus.DONE)
        agent = Agent.objects.filter(pk=call.agent_id or 0).select_related("user").first()
        MissedCall.objects.filter(callback_call=call, status=CallbackStatus.OPEN).update(
            status=CallbackStatus.DONE, done_at=now, done_by=agent.user if agent else None
        )
        push.board_on_commit({"type": "call", "call_id": call.call_id, "status": CallStatus.TALKING})


# --------------------------------------------------------------------------- queue announcements, callbacks (ACD-2)


def queue_announced(*, call: Call, queue_id: int, ahead: int, expected_seconds: int) -> None:
    now = clock.now()
    _log_row(
        QueueLog,
        call=call,
        queue_id=queue_id,
        event=QueueEvent.ANNOUNCE,
        wait_ms=_ms(now, call.enqueued_at),
        position=ahead,
        expected_seconds=expected_seconds,
        at=now,
    )


def queue_handle_seconds(*, queue_id: int, default: float = 180.0, sample: int = 50) -> float:
    """The average talk time of the queue's last answered calls (the expected wait's basis)."""
    rows = list(
        Call.objects.filter(queue_id=queue_id, answered_at__isnull=False, ended_at__isnull=False)
        .order_by("-ended_at")
        .values_list("answered_at", "ended_at")[:sample]
    )
    if len(rows) < 3:
        return default
    total = 0.0
    for start, end in rows:
        if start is not None and end is not None:
            total += (end - start).total_seconds()
    return total / len(rows)


def queue_keep_place(*, call: Call, queue_id: int, priority: int) -> QueueCallback:
    """The caller pressed the queue's callback key: the call's place (queue, priority, time of entry) is kept
    by a callback entry; the call itself ends as "kept place" (not abandoned, not on the missed list)."""
    now = clock.now()
    with transaction.atomic():
        entry, _created = QueueCallback.objects.get_or_create(
            call=call,
            defaults={
                "queue_id": queue_id,
                "number": call.caller,
                "priority": priority,
                "waiting_since": call.enqueued_at or now,
                "created_at": now,
            },
        )
        _log_row(
            QueueLog,
            call=call,
            queue_id=queue_id,
            event=QueueEvent.KEEP_PLACE,
            wait_ms=_ms(now, call.enqueued_at),
            at=now,
        )
        push.board_on_commit({"type": "call", "call_id": call.call_id, "status": "kept_place"})
    return entry


def _outbound_agent_leg(call: Call, agent: Agent, leg_id: str, now: dt.datetime) -> CallLeg:
    """The first leg of an outbound call: the agent's own phone rings before the citizen is dialled."""
    return CallLeg.objects.create(
        call=call,
        leg_id=leg_id,
        role=LegRole.AGENT,
        purpose=LegPurpose.OUTBOUND,
        direction="out",
        remote=agent.extension,
        agent=agent,
        node="",
        started_at=now,
    )


def queue_callback_offer(*, callback_pk: int, agent_pk: int, leg_id: str) -> dict[str, Any] | None:
    """The ACD chose an agent for a kept place: an outbound call (agent's phone first, then the caller), as
    click-to-call does; the command for the controller, or None if the entry or the agent moved meanwhile."""
    import uuid

    now = clock.now()
    with transaction.atomic():
        entry = (
            QueueCallback.objects.select_for_update()
            .filter(pk=callback_pk, status=QueueCallbackStatus.WAITING)
            .first()
        )
        agent = Agent.objects.select_for_update().filter(pk=agent_pk, state=AgentState.READY).first()
        if entry is None or agent is None:
            return None
        call = Call.objects.create(
            call_id=uuid.uuid4().hex,
            direction="out",
            caller=entry.number,
            dialed=entry.number,
            queue_id=entry.queue_id,
            priority=entry.priority,
            agent=agent,
            status=CallStatus.RINGING,
            started_at=now,
            enqueued_at=entry.waiting_since,
        )
        _transition(agent, AgentEvent.DIAL, call=call, at=now)
        _outbound_agent_leg(call, agent, leg_id, now)
        _log_row(
            QueueLog,
            call=entry.call,
            queue_id=entry.queue_id,
            event=QueueEvent.CALLBACK,
            agent=agent,
            wait_ms=_ms(now, entry.waiting_since),
            at=now,
        )
        entry.status, entry.callback_call, entry.attempts = (
            QueueCallbackStatus.CALLING,
            call,
            entry.attempts + 1,
        )
        entry.save(update_fields=["status", "callback_call", "attempts"])
        push.board_on_commit({"type": "call", "call_id": call.call_id, "status": call.status})
    return {
        "action": "dial",
        "call_id": call.call_id,
        "agent": agent.pk,
        "leg": leg_id,
        "extension": agent.extension,
        "number": entry.number,
    }


QUEUE_CALLBACK_ATTEMPTS = 3


def queue_callback_not_reached(*, call: Call, agent_answered: bool) -> None:
    """A callback call that did not connect: the agent's phone did not answer → the entry waits again (its
    place kept); the caller did not answer → retried later, and after the last try it goes to the callback list
    (missed calls) for an agent."""
    now = clock.now()
    with transaction.atomic():
        entry = QueueCallback.objects.select_for_update().filter(callback_call=call).first()
        if entry is None:
            return
        if not agent_answered:
            entry.status, entry.attempts = QueueCallbackStatus.WAITING, max(0, entry.attempts - 1)
        elif entry.attempts >= int(
            getattr(settings, "HOTLINE_QUEUE_CALLBACK_ATTEMPTS", QUEUE_CALLBACK_ATTEMPTS)
        ):
            entry.status = QueueCallbackStatus.FAILED
            missed_call_add(call=entry.call, reason=Disposition.KEPT_PLACE, at=now)
        else:
            retry = int(getattr(settings, "HOTLINE_QUEUE_CALLBACK_RETRY_SECONDS", 120))
            entry.status, entry.not_before = QueueCallbackStatus.WAITING, now + dt.timedelta(seconds=retry)
        entry.save(update_fields=["status", "attempts", "not_before"])


# --------------------------------------------------------------------------- IVR self-service (case progress)

RATE_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def ivr_case_progress(*, caller: str, number: str, password: str) -> tuple[str, str]:
    """A caller's progress query by keys: (outcome, what to say). The web lookup's guards apply: the per-case
    lockout of `public_case_lookup` (shared cache) and a per-caller-number throttle at the web's rate."""
    from hotline.cases.models import AssignmentRole, AssignmentStatus
    from hotline.cases.public_lookup import LookupLocked, public_case_lookup
    from hotline.common.throttles import increment

    count, _slash, period = str(settings.HOTLINE_LOOKUP_RATE).partition("/")
    seconds = RATE_PERIODS.get(period[:1], 60)
    if increment(f"tel-lookup:{caller or 'unknown'}", seconds) > int(count or 20):
        return "refused", _("查询过于频繁，请稍后再试。")
    try:
        case = public_case_lookup(number=number[:20], password=password[:20])
    except LookupLocked as locked:
        return "refused", locked.message
    except ServiceError:
        return "not_found", _("工单编号或查询密码不正确。")
    result = (
        (
            case.assignments.filter(
                parent__isnull=True, role=AssignmentRole.MAIN, status=AssignmentStatus.REPORTED
            )
            .order_by("-finished_at")
            .values_list("result", flat=True)
            .first()
        )
        or case.answer
        or ""
    )
    # Spoken by `announce.compose`: the number digit by digit, the date and any amount in the result from clips.
    created = timezone.localtime(case.created_at)
    text = _("工单%(number)s，受理日期%(date)s，当前状态：%(status)s。") % {
        "number": case.number,
        "date": f"{created.year}年{created.month}月{created.day}日",
        "status": case.get_status_display(),
    }
    if result:
        text += _("办理结果：%(result)s。") % {"result": str(result)[:150]}
    return "found", text


# --------------------------------------------------------------------------- automated rating calls (CLS-5)

RATING_KEYS = {
    "1": "very_satisfied",
    "2": "satisfied",
    "3": "basically_satisfied",
    "4": "dissatisfied",
    "5": "very_dissatisfied",
}
RATING_CALL_ATTEMPTS = 3


def rating_call_plan(*, case: Any) -> RatingCall | None:
    """`HOTLINE_RATING_CALLS` on: a case now waiting for its callback with a phone number gets one rating call."""
    from hotline.cases.models import CaseStatus

    if not getattr(settings, "HOTLINE_RATING_CALLS", False) or case.status != CaseStatus.CALLBACK:
        return None
    number = "".join(ch for ch in str(case.citizen_phone or "") if ch.isdigit())
    if not OUTSIDE_NUMBER_RE.match(number):
        return None
    now = clock.now()
    return RatingCall.objects.create(case=case, number=number, next_try_at=now, created_at=now)


def rating_call_start(*, rating_call_pk: int, leg_id: str, node: str = "") -> Call | None:
    """Dial a due rating call: an outbound call with no agent (the controller asks, the caller keys)."""
    import uuid

    from hotline.cases.models import CaseStatus

    now = clock.now()
    with transaction.atomic():
        entry = (
            RatingCall.objects.select_for_update()
            .select_related("case")
            .filter(pk=rating_call_pk, status=RatingCallStatus.PENDING)
            .first()
        )
        if entry is None:
            return None
        if entry.case.status != CaseStatus.CALLBACK:  # rated meanwhile (SMS, portal, an agent)
            entry.status = RatingCallStatus.RATED
            entry.save(update_fields=["status"])
            return None
        call = Call.objects.create(
            call_id=uuid.uuid4().hex,
            direction="out",
            caller=entry.number,
            dialed=entry.number,
            status=CallStatus.RINGING,
            started_at=now,
        )
        CallLeg.objects.create(
            call=call,
            leg_id=leg_id,
            role=LegRole.CITIZEN,
            purpose=LegPurpose.OUTBOUND,
            direction="out",
            remote=entry.number,
            node=node,
            started_at=now,
        )
        CallCase.objects.get_or_create(call=call, case=entry.case, defaults={"linked_at": now})
        entry.status, entry.call, entry.attempts = RatingCallStatus.CALLING, call, entry.attempts + 1
        entry.save(update_fields=["status", "call", "attempts"])
    return call


def rating_call_question(*, call: Call) -> str:
    from .announce import DIGITS

    entry = RatingCall.objects.select_related("case").filter(call=call).first()
    number = "".join(DIGITS[int(ch)] for ch in entry.case.number if ch.isdigit()) if entry else ""
    return _(
        "您好，这里是12345热线。您反映的工单%(number)s已办理完毕，请对办理结果进行评价："
        "非常满意请按1，满意请按2，基本满意请按3，不满意请按4，非常不满意请按5。"
    ) % {"number": number}


def rating_call_record(*, call: Call, key: str) -> bool:
    """The citizen keyed a rating: recorded through the cases' callback service (method phone) — satisfied
    closes, dissatisfied is redone or goes to special supervision by the same rules as every callback."""
    from hotline.cases import services as case_services

    rating = RATING_KEYS.get(key)
    if rating is None:
        return False
    with transaction.atomic():
        entry = RatingCall.objects.select_for_update().select_related("case").filter(call=call).first()
        if entry is None or entry.status != RatingCallStatus.CALLING:
            return False
        requester = case_services.Requester(channel="phone", account=entry.number, external_id=call.call_id)
        # Not waiting for its callback any more (rated another way meanwhile): the rating call is over anyway.
        with contextlib.suppress(ServiceError):
            case_services.case_citizen_rating(
                case=entry.case, requester=requester, rating=rating, method="phone"
            )
        entry.status, entry.rating = RatingCallStatus.RATED, rating
        entry.save(update_fields=["status", "rating"])
    return True


def rating_call_not_rated(*, call: Call) -> None:
    """No answer, busy, or hung up without a key: tried again later, after the last try left to an agent (the
    case stays waiting for its callback on the agents' list)."""
    now = clock.now()
    with transaction.atomic():
        entry = (
            RatingCall.objects.select_for_update().filter(call=call, status=RatingCallStatus.CALLING).first()
        )
        if entry is None:
            return
        if entry.attempts >= int(getattr(settings, "HOTLINE_RATING_CALL_ATTEMPTS", RATING_CALL_ATTEMPTS)):
            entry.status = RatingCallStatus.LEFT_TO_AGENT
        else:
            retry = int(getattr(settings, "HOTLINE_RATING_CALL_RETRY_SECONDS", 1800))
            entry.status, entry.next_try_at = RatingCallStatus.PENDING, now + dt.timedelta(seconds=retry)
        entry.save(update_fields=["status", "next_try_at"])
