"""The call controller's steps through the IVR's logic nodes (`collect`, `condition`) and the variables menus set.
Kept beside `controller.py` (which calls these from `enter_node` / `on_ivr_digits`): the controller owns the
call and its media; these read the node, decide, log the IVR step and say where the caller goes next."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hotline.common import clock

from . import ivr, ivr_expr, selectors, services
from .models import Call, IvrStepEvent

if TYPE_CHECKING:
    from .controller import CallController, Live


def enter_collect(ctrl: CallController, live: Live, node: dict[str, Any], prompt: str) -> None:
    """Say the prompt and collect exactly `digits` keys (# ends early); the keys pressed during it count."""
    from .controller import wav_ms

    if prompt:
        ctrl._play(live, prompt, then="")
    ctrl.engine.collect_digits(
        live.citizen_leg,
        max_digits=int(node.get("digits", 1)),
        timeout_ms=wav_ms(prompt) + int(node.get("timeout", 5)) * 1000,
        terminator="#",
        flush=live.ivr_tries > 0,
    )


def on_collect_digits(
    ctrl: CallController, live: Live, node: dict[str, Any], call: Call, digits: str, reason: str
) -> None:
    """A complete entry → `next` (kept in the node's variable); timeout / invalid → asked again up to `retries`
    times, then the node's `fallback` (timeout) or `invalid` path."""
    outcome = ivr.collected(node, digits, reason)
    event = {"ok": IvrStepEvent.KEYS, "timeout": IvrStepEvent.TIMEOUT}.get(outcome, IvrStepEvent.INVALID)
    assert live.ivr_version is not None
    services.ivr_step(call=call, version_pk=live.ivr_version, node=live.ivr_node, event=event, digits=digits)
    if live.playing:
        ctrl.engine.stop_play(live.citizen_leg)
        live.playing = ""
    if outcome == "ok":
        live.ivr_vars[str(node.get("var") or "digits")] = digits
        ctrl.enter_node(live, str(node.get("next")))
        return
    live.ivr_tries += 1
    if live.ivr_tries > int(node.get("retries", 2)):
        ctrl.enter_node(live, str(node.get("fallback" if outcome == "timeout" else "invalid")))
    else:
        ctrl.enter_node(live, live.ivr_node)


def remember_menu_key(live: Live, node: dict[str, Any], digits: str) -> None:
    """A menu with a `var` keeps the key pressed for later conditions (e.g. var=urgency)."""
    if node.get("var"):
        live.ivr_vars[str(node["var"])] = digits


def condition_target(live: Live, node: dict[str, Any], call: Call) -> str:
    """The branch the call takes: the first condition that holds over the call's facts (read once per call) and
    the variables keyed so far; else the node's `fallback`. Logged as a `branch` step (its number, 0 = else)."""
    if live.ivr_facts is None:
        live.ivr_facts = selectors.ivr_facts(caller=call.caller, moment=clock.now(), citizen=live.citizen)
    facts = {**live.ivr_facts, **live.ivr_vars}
    declared = ivr.variables({"nodes": list((live.ivr_nodes or {}).values())})
    try:
        index, target = ivr_expr.choose(ivr.branches_of(node), facts, declared)
    except ivr_expr.ExprError:  # a published graph was validated; a broken one falls through to the else path
        index, target = -1, ""
    assert live.ivr_version is not None
    services.ivr_step(
        call=call,
        version_pk=live.ivr_version,
        node=live.ivr_node,
        event=IvrStepEvent.BRANCH,
        digits=str(index + 1),
    )
    return target or str(node.get("fallback"))


def transfer_to_ivr(ctrl: CallController, live: Live, call: Call, command: dict[str, Any]) -> None:
    """ACD-3 "to the IVR and back": the caller leaves the agent for a published flow (e.g. to key a password or
    hear a case's progress); the agent waits on hold with music; the flow's `back` node bridges them again."""
    from .models import ControlKind, IvrVersion, IvrVersionStatus
    from .states import AgentEvent

    version = (
        IvrVersion.objects.filter(flow_id=command.get("target"), status=IvrVersionStatus.PUBLISHED)
        .only("pk", "graph")
        .first()
    )
    if version is None or not live.agent_leg or live.agent_pk is None:
        return
    services.call_control_log(
        call=call,
        kind=ControlKind.IVR_TRANSFER,
        agent_pk=live.agent_pk,
        actor_pk=command.get("actor"),
        target=f"ivr:{command.get('target_label', '')}",
    )
    ctrl.engine.unbridge(live.citizen_leg, live.agent_leg)
    ctrl.engine.park(live.agent_leg, "hold.wav")
    services.agent_event(agent_pk=live.agent_pk, event=AgentEvent.HOLD, call=call)
    services.call_start_ivr(call=call, version_pk=version.pk)
    live.ivr_version, live.ivr_nodes = version.pk, ivr.nodes_by_id(version.graph)
    live.ivr_node, live.ivr_tries, live.ivr_return, live.state = "", 0, True, "ivr"
    ctrl.enter_node(live, str(version.graph.get("start", "")))


def back(ctrl: CallController, live: Live, call: Call) -> None:
    """The `back` node: to the agent who waits on hold, else (hung up meanwhile, or no agent) the queue."""
    from .models import ControlKind, Queue
    from .states import AgentEvent

    if live.playing:
        ctrl.engine.stop_play(live.citizen_leg)
        live.playing = ""
    if live.ivr_return and live.agent_leg and live.agent_pk is not None:
        ctrl.engine.bridge(live.citizen_leg, live.agent_leg)
        services.agent_event(agent_pk=live.agent_pk, event=AgentEvent.RETRIEVE, call=call)
        services.call_control_log(call=call, kind=ControlKind.IVR_BACK, agent_pk=live.agent_pk)
        live.ivr_return, live.state = False, "talking"
        return
    live.ivr_return = False
    queue = Queue.objects.get(pk=live.queue_id or call.queue_id or 0)
    if call.enqueued_at or call.answered_at:
        ctrl._requeue(live, call, queue)  # had waited or talked already: ahead of new calls
    else:
        ctrl._enqueue(live, call, queue, "")
