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
        live.ivr_facts = selectors.ivr_facts(caller=call.caller, moment=clock.now())
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
