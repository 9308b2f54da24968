"""Open assignments of a unit, for the orgs retire/merge screen (registered in CasesConfig.ready)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from hotline.orgs.impact import OpenWork
from hotline.orgs.models import Unit

from .models import OPEN_ASSIGNMENT_STATUSES, Assignment


def open_assignments(unit: Unit) -> OpenWork:
    count = Assignment.objects.filter(unit=unit, status__in=OPEN_ASSIGNMENT_STATUSES).count()
    return OpenWork(label=_("在办工单（待签收、办理中、已下派、退件待审核）"), count=count)
