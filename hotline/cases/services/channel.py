"""Requests a citizen makes on their own (portal, app, WeChat, SMS, e-mail, chat): no staff user.

A citizen channel is a thin adapter: it turns what arrived into a `CaseInput` plus a `Requester` (the channel, the
account it arrived on, and the citizen's id on that channel: an openid, a phone number, an e-mail address) and
calls `case_request_from_channel`. The request is created as a draft with no intake user, on the agents' queue of
online requests; an agent then accepts it (submits it to the office) or proposes not to accept it, through the same
transitions as a draft typed by an agent. The requester is kept in `Case.origin` and on the timeline.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from hotline.common import clock

from ..lifecycle import Action
from ..models import Channel
from .core import _event, _fail, new_query_password
from .intake import CaseInput, IntakeResult, _validate_input, intake_citizen, new_draft

CITIZEN_CHANNELS = frozenset(
    {Channel.WEB, Channel.WECHAT, Channel.APP, Channel.SMS, Channel.EMAIL, Channel.MAYOR_MAILBOX}
)


@dataclass(frozen=True)
class Requester:
    """Who asked, as the channel knows them."""

    channel: str
    account: str
    external_id: str

    def as_origin(self) -> dict[str, str]:
        return {
            "requester_channel": self.channel,
            "requester_account": self.account,
            "requester_id": self.external_id,
        }


def case_request_from_channel(*, data: CaseInput, requester: Requester) -> IntakeResult:
    """Register a citizen's own request as a draft awaiting an agent (intake_by empty); returns the query
    password (to be given to the citizen on their channel) unless the request is public."""
    if requester.channel not in CITIZEN_CHANNELS or data.channel != requester.channel:
        raise _fail("channel", _("渠道无效"))
    if not requester.external_id:
        raise _fail("requester", _("缺少渠道用户标识"))
    origin = {**(data.origin or {}), **requester.as_origin()}
    fields = _validate_input(dataclasses.replace(data, origin=origin), complete=True)
    password = None if data.is_public else new_query_password()
    with transaction.atomic():
        now = clock.now()
        citizen = intake_citizen(fields=fields, id_card=data.citizen_id_card, actor=None)
        case = new_draft(fields=fields, citizen=citizen, intake_by=None, password=password, now=now)
        _event(
            case, actor=None, action=Action.CREATE, from_status="", data={"requester": requester.as_origin()}
        )
    return IntakeResult(case=case, query_password=password)


__all__ = ["CITIZEN_CHANNELS", "Requester", "case_request_from_channel"]
