"""Who may read the centre's figures: the office (dispatchers, monitors), leaders and unit leaders."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from hotline.common.registry import Permission
from hotline.orgs.models import Role

ANALYTICS_ROLES = (Role.DISPATCHER, Role.MONITOR, Role.LEADER, Role.UNIT_LEADER)

may_view = Permission(
    "analytics.view",
    lambda user: user.has_role(*ANALYTICS_ROLES),
    _("运行指标仅对热线办、领导和单位领导开放"),
)

PERMISSIONS = [may_view]
