"""并单 (INT-5): merge a new request into an existing case, and undo it. One transaction each.

- The merged request moves to MERGED (its clocks stop); its caller becomes a co-requester of the target, to be
  called back on the target's result like the target's own caller.
- Both timelines show it: `merge` on the merged request, `merge_in` on the target (which keeps its status —
  merging into a closed case reopens nothing; only the office may merge into a closed case).
- The co-requester is told by SMS (template `co_requester_merged`, queued in the merge transaction) when their
  number is a mobile not barred from outbound calls; `sms_citizen` on the merged request's timeline records it.
  Undoing a merge sends nothing.
- The office may undo: the request goes back to the status it had, the co-requester row is kept with `undone_at`,
  both timelines show `unmerge` / `unmerge_out`.
Both cases' versions are checked, so a merge racing another action on either case fails with a conflict.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from hotline.common import clock
from hotline.common.errors import NotAllowed, ServiceError
from hotline.orgs.models import Role, User

from . import lifecycle, permissions
from .lifecycle import Action
from .models import Case, CaseStatus, CoRequester, Rating
from .services import _transition, queue_citizen_sms

CO_REQUESTER_TEMPLATE = "co_requester_merged"

# Merging into these would hide the request: nothing will be done about them.
NOT_TARGETS = frozenset(
    {CaseStatus.MERGED, CaseStatus.NOT_ACCEPTED, CaseStatus.PENDING_NOT_ACCEPTED, CaseStatus.DRAFT}
)


def case_merge(
    *,
    case: Case,
    into: Case,
    actor: User,
    expected_version: int | None,
    target_version: int | None = None,
    opinion: str = "",
) -> CoRequester:
    """Merge the request `case` into the case `into`."""
    if case.pk == into.pk:
        raise ServiceError(_("不能与自身并单"), field_errors={"target": [_("不能与自身并单")]})
    if into.status in NOT_TARGETS:
        label = CaseStatus(into.status).label
        raise ServiceError(
            _("目标工单状态为“%(status)s”，不能并入") % {"status": label},
            field_errors={"target": [_("目标工单为“%(status)s”") % {"status": label}]},
        )
    if into.status == CaseStatus.CLOSED and not actor.has_role(Role.DISPATCHER):
        raise NotAllowed(_("目标工单已办结，并入已办结工单须由热线办决定"))
    lifecycle.check(Action.MERGE, case=case, user=actor)
    opinion = (opinion or "").strip()[:200]
    with transaction.atomic():
        previous = case.status
        _transition(
            case,
            Action.MERGE,
            actor=actor,
            expected_version=expected_version,
            opinion=opinion,
            data={"into": into.pk, "into_number": into.number},
        )
        co = CoRequester.objects.create(
            case=into,
            merged_case=case,
            citizen_id=case.citizen_id,
            name=case.citizen_name,
            phone=case.citizen_phone,
            previous_status=previous,
            merged_by=actor,
            merged_at=clock.now(),
            opinion=opinion,
        )
        _transition(
            into,
            Action.MERGE_IN,
            actor=actor,
            expected_version=target_version,
            opinion=opinion,
            data={"merged": case.pk, "merged_number": case.number, "co_requester": co.pk},
        )
        _sms_co_requester(case=case, into=into, co=co)
    return co


def _sms_co_requester(*, case: Case, into: Case, co: CoRequester) -> bool:
    """Queue the merge notice to the co-requester (inside the merge transaction). Returns whether one was queued.

    Nothing is sent to a landline or a number blacklisted for outbound calls, nor when the office switched the
    template off."""
    from hotline.citizens.models import BlacklistDirection
    from hotline.citizens.selectors import blacklist_lookup
    from hotline.common.validators import MOBILE_RE, normalize_phone
    from hotline.notify.services import TemplateMissing

    number = normalize_phone(co.phone)
    if not MOBILE_RE.match(number) or blacklist_lookup(number, BlacklistDirection.OUTBOUND) is not None:
        return False
    try:
        queue_citizen_sms(
            case,
            address=number,
            template=CO_REQUESTER_TEMPLATE,
            context={"number": into.number, "merged_number": case.number, "title": into.title},
            data={"template": CO_REQUESTER_TEMPLATE, "co_requester": co.pk, "into": into.pk},
        )
    except TemplateMissing:  # the office switched the template off
        return False
    return True


def case_unmerge(*, case: Case, actor: User, expected_version: int | None, reason: str) -> Case:
    """The office undoes a merge: the request returns to the status it had before."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("请填写撤销理由"), field_errors={"reason": [_("请填写撤销理由")]})
    co = (
        CoRequester.objects.select_related("case")
        .filter(merged_case=case, undone_at__isnull=True)
        .order_by("-merged_at")
        .first()
    )
    if co is None or case.status != CaseStatus.MERGED:
        raise ServiceError(_("该工单没有可撤销的并单"), code="not_merged")
    lifecycle.check(Action.UNMERGE, case=case, user=actor)
    with transaction.atomic():
        _transition(
            case,
            Action.UNMERGE,
            actor=actor,
            expected_version=expected_version,
            to_status=co.previous_status,
            opinion=reason,
            data={"from": co.case_id, "from_number": co.case.number},
        )
        _transition(
            co.case,
            Action.UNMERGE_OUT,
            actor=actor,
            expected_version=None,
            opinion=reason,
            data={"merged": case.pk, "merged_number": case.number, "co_requester": co.pk},
        )
        CoRequester.objects.filter(pk=co.pk).update(undone_at=clock.now(), undone_by=actor)
    return case


def co_requester_callback(
    *, co_requester: CoRequester, actor: User, rating: str, words: str = ""
) -> CoRequester:
    """Record the callback of a co-requester on the target case's result."""
    permissions.may_call_back.require(actor)
    if rating not in Rating.values:
        raise ServiceError(_("满意度评价无效"), field_errors={"rating": [_("满意度评价无效")]})
    if co_requester.undone_at is not None:
        raise ServiceError(_("该并单已撤销"), code="undone")
    from hotline.common.audit import audit_record

    with transaction.atomic():
        co_requester.called_back_at = clock.now()
        co_requester.callback_rating = rating
        co_requester.callback_words = (words or "").strip()
        co_requester.save(update_fields=["called_back_at", "callback_rating", "callback_words"])
        audit_record(
            actor=actor,
            action="update",
            obj=co_requester.case,
            summary=f"{co_requester.case.number} 回访并单来电人 {co_requester.name}",
            changes={"co_requester": co_requester.pk, "rating": rating},
        )
    return co_requester
