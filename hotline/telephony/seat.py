"""What a seat's settings change in a call (ACD-3): auto answer (the intercom headers SIP phones honour) and the
agent-ID announcement the caller hears when an agent answers ("1001号话务员为您服务", from clips)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings

from . import announce, tts

log = logging.getLogger(__name__)

# Understood by most SIP desk phones and softphones (Polycom, Yealink, Grandstream, Snom, Linphone, baresip with
# sip_autoanswer): answer at once, no ring.
AUTO_ANSWER_HEADERS = {
    "Call-Info": "<sip:hotline>;answer-after=0",
    "Alert-Info": "<http://hotline/>;info=alert-autoanswer;delay=0",
}
ANNOUNCE_TAIL = "号话务员为您服务"


def offer_options(agent: Any) -> dict[str, Any]:
    """Extra arguments of `call_out` for an offer to this agent (none unless the seat answers automatically)."""
    return answer_options(bool(getattr(agent, "auto_answer", False)))


def answer_options(auto_answer: bool) -> dict[str, Any]:
    return {"headers": dict(AUTO_ANSWER_HEADERS)} if auto_answer else {}


def announcement(agent_id: str) -> str:
    """The WAV saying the agent's ID digit by digit and "号话务员为您服务" (cached); "" when off or unspeakable."""
    if not getattr(settings, "HOTLINE_AGENT_ID_ANNOUNCEMENT", True) or not agent_id:
        return ""
    try:
        return str(announce.join([*announce.digit_words(agent_id), ANNOUNCE_TAIL]))
    except (tts.TtsError, OSError):
        log.exception("agent-ID announcement could not be spoken")
        return ""
