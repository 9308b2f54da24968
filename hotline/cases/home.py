"""The case core's panels of the home page (registered in CasesConfig.ready; common.views.home renders them)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy

from hotline.common.paging import paginate
from hotline.common.registry import HomePanel
from hotline.orgs.models import Role, User

from . import selectors
from .models import CaseStatus as S

# Each queue of the home page: who sees it, its page parameter, title, statuses, mine only, by deadline.
HOME_QUEUES: list[tuple[tuple[str, ...], str, Any, list[str], bool | str, bool]] = [
    ((Role.AGENT,), "draft", gettext_lazy("我的暂存"), [S.DRAFT], True, False),
    ((Role.AGENT,), "returned", gettext_lazy("退回待修改"), [S.RETURNED], True, False),
    (
        (Role.AGENT,),
        "online",
        gettext_lazy("网络诉求待受理（微信、网站、短信、邮件）"),
        [S.DRAFT],
        "channel",
        False,
    ),
    ((Role.AGENT,), "callback", gettext_lazy("待回访（回访时限最近的在前）"), [S.CALLBACK], False, True),
    ((Role.DISPATCHER,), "submitted", gettext_lazy("待派单（含领导已批示）"), [S.SUBMITTED], False, False),
    (
        (Role.DISPATCHER,),
        "not_accepted",
        gettext_lazy("不予受理待确认"),
        [S.PENDING_NOT_ACCEPTED],
        False,
        False,
    ),
    ((Role.DISPATCHER,), "return_review", gettext_lazy("退件待审核"), [S.RETURN_REVIEW], False, False),
    ((Role.DISPATCHER,), "result_review", gettext_lazy("结果待审核"), [S.RESULT_REVIEW], False, False),
    ((Role.LEADER,), "leader_review", gettext_lazy("待领导批示"), [S.LEADER_REVIEW], False, False),
]


def new_case_button(request: HttpRequest, user: User) -> dict[str, Any]:
    return {}


def supervision(request: HttpRequest, user: User) -> dict[str, Any] | None:
    page = paginate(
        request, selectors.supervision_awaiting_opinion(user=user).order_by("id"), param="p_supervision"
    )
    return {"supervision": page} if page.paginator.count else None


def worklist(request: HttpRequest, user: User) -> dict[str, Any]:
    return {
        "work": {
            tab: paginate(request, selectors.worklist(user=user, tab=tab), param=f"p_{tab}")
            for tab in ("to_sign", "handling")
        }
    }


def extensions(request: HttpRequest, user: User) -> dict[str, Any] | None:
    page = paginate(
        request, selectors.pending_extensions(user=user).order_by("requested_at"), param="p_extensions"
    )
    return {"extensions": page} if page.paginator.count else None


def queues(request: HttpRequest, user: User) -> dict[str, Any] | None:
    """Each role's queues; every queue shows its true count and pages."""
    panels: list[dict[str, Any]] = []
    for roles, key, title, statuses, mine, by_deadline in HOME_QUEUES:
        if not user.has_role(*roles):
            continue
        if mine == "channel":
            qs = selectors.channel_requests_queue(user=user)
        elif mine:
            qs = selectors.my_intake_queue(user=user, statuses=statuses)
        else:
            qs = selectors.office_queue(user=user, statuses=statuses, by_deadline=by_deadline)
        page = paginate(request, qs, param=f"p_{key}")
        if mine == "channel":
            _with_reply_clock(page.object_list)
        panels.append({"key": key, "title": title, "page": page})
    return {"panels": panels} if panels else None


def _with_reply_clock(cases: Any) -> None:
    """The channel's reply clock of each citizen request (origin.reply_due_at), for the queue's time column."""
    for case in cases:
        case.reply_due = parse_datetime(str((case.origin or {}).get("reply_due_at") or ""))


T = "cases/home/"
PANELS = [
    HomePanel(
        "cases.new_case", 10, T + "new_case_button.html", new_case_button, "cases.take_calls", "header"
    ),
    HomePanel("cases.supervision", 300, T + "supervision.html", supervision, "cases.supervision_opinion"),
    HomePanel("cases.worklist", 400, T + "worklist.html", worklist, "cases.unit_work"),
    HomePanel("cases.extensions", 500, T + "extensions.html", extensions, "cases.decide_extensions"),
    HomePanel("cases.queues", 600, T + "queues.html", queues),
]
