"""Who may do what with cases, beyond the lifecycle (which says, per transition, which roles may act).

Each predicate is a `Permission` (common.registry): `may_x(user)` answers, `may_x.require(user)` raises
NotAllowed. Services call `require`; views, the API, the menu and the home page read them (by name through
the registry: "cases.intake", …). `CasesConfig.ready()` registers them with the menu entries and home panels.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from hotline.common.registry import Permission
from hotline.orgs.models import Role, User
from hotline.orgs.selectors import sees_everything

from . import lifecycle
from .lifecycle import Action


def _intake(user: User) -> bool:
    return user.has_role(*lifecycle.INTAKE)


def _takes_calls(user: User) -> bool:
    return Role.AGENT in user.role_set  # the role itself: a superuser takes no calls


def _unit_work(user: User) -> bool:
    return bool(user.has_role(*lifecycle.UNIT) and user.unit_id and not user.in_office)


def _overview(user: User) -> bool:
    return user.has_role(Role.LEADER) or sees_everything(user)


def _extended_fields(user: User) -> bool:
    return bool(user.is_superuser or user.has_role(Role.ADMIN))


# The intake screen (受理登记): agents and the dispatcher desk.
may_intake = Permission("cases.intake", _intake, _("您的角色不能受理登记"))
# Agents answering calls (the home page's "new case" button).
takes_calls = Permission("cases.take_calls", _takes_calls, _("您不是话务员"))
# Hot clusters (groups of similar open requests), on the page and through the API.
may_see_clusters = Permission(
    "cases.clusters", lambda user: user.has_role(*lifecycle.CLUSTER_ROLES), _("您的角色不能查看热点聚类")
)
may_merge = Permission(
    "cases.merge",
    lambda user: user.has_role(*lifecycle.TRANSITIONS[Action.MERGE].roles),
    _("您的角色不能并单"),
)
may_call_back = Permission(
    "cases.callback", lambda user: user.has_role(*lifecycle.CALLBACK_ROLES), _("您的角色不能回访")
)
# A unit's own worklist (to sign, handling) and figures: unit staff outside the office.
has_unit_work = Permission("cases.unit_work", _unit_work, _("您不属于承办单位"))
# Special supervision cases awaiting the unit leader's opinion.
gives_supervision_opinion = Permission(
    "cases.supervision_opinion",
    lambda user: user.has_role(Role.UNIT_LEADER),
    _("只有单位领导可以填写特别督办意见"),
)
# Extension requests awaiting the office's decision.
decides_extensions = Permission(
    "cases.decide_extensions",
    lambda user: user.has_role(*lifecycle.TRANSITIONS[Action.DECIDE_EXTENSION].roles),
    _("您的角色不能审核延期"),
)
# The city-wide figures of the home page: the office and leaders.
sees_overview = Permission("cases.overview", _overview, _("您的角色不能查看全市概况"))
may_manage_extended_fields = Permission(
    "cases.extended_fields", _extended_fields, _("只有系统管理员可以维护扩展字段")
)

PERMISSIONS = [
    may_intake,
    takes_calls,
    may_see_clusters,
    may_merge,
    may_call_back,
    has_unit_work,
    gives_supervision_opinion,
    decides_extensions,
    sees_overview,
    may_manage_extended_fields,
]
