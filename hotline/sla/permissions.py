"""Who may see the supervision figures (SLA-5): the office, leaders and unit leaders."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from hotline.common.registry import Permission
from hotline.orgs.models import Role

SUPERVISION_ROLES = (Role.DISPATCHER, Role.MONITOR, Role.LEADER, Role.UNIT_LEADER)

may_supervise = Permission(
    "sla.supervision",
    lambda user: user.has_role(*SUPERVISION_ROLES),
    _("督办统计仅对热线办、领导和单位领导开放"),
)

PERMISSIONS = [may_supervise]
