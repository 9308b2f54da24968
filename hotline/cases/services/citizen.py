"""What a citizen does on a case on their own, through a channel (no staff user): rate the result (CLS-2 by SMS
reply, on the portal, in the app) and add photos or files to their request.

The channel has already established that the citizen may act on this case (the query password, a verified phone,
the phone the callback SMS went to); these functions apply the same rules a staff callback or upload follows.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from hotline.common import clock
from hotline.common.errors import ServiceError

from ..lifecycle import Action
from ..models import Callback, Case, CaseAttachment, CaseStatus
from .channel import Requester
from .closing import _callback_outcome
from .core import _bump, _clocks_on_transition, _event, _fail
from .intake import checked_uploads, store_uploads

MAX_CITIZEN_FILES = 9


def case_citizen_rating(
    *, case: Case, requester: Requester, rating: str, method: str, citizen_words: str = ""
) -> Callback:
    """The citizen's own rating of a case waiting for its callback; the same outcome as a staff callback."""
    now = clock.now()
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.status != CaseStatus.CALLBACK:
            raise ServiceError(_("该工单当前不在回访评价阶段"), code="bad_status")
        to_status, main, updates = _callback_outcome(case, rating=rating, method=method, now=now)
        from_status = case.status
        _bump(case, expected_version=None, to_status=to_status, **updates)
        _clocks_on_transition(case, from_status)
        _event(
            case,
            actor=None,
            action=Action.CALLBACK,
            from_status=from_status,
            assignment=main,
            opinion=citizen_words.strip(),
            data={"rating": rating, "method": method, "requester": requester.as_origin()},
        )
        return Callback.objects.create(
            case=case,
            actor=None,
            method=method,
            rating=rating,
            citizen_words=citizen_words.strip(),
            created_at=now,
        )


def case_citizen_attach(
    *, case: Case, requester: Requester, files: Sequence[UploadedFile], images_only: bool = False
) -> list[CaseAttachment]:
    """Files a citizen sends with a request: the attachments allow-list checked by content (common.filetypes),
    the upload size limit, at most MAX_CITIZEN_FILES a request; all or nothing."""
    if case.attachments.count() + len(files) > MAX_CITIZEN_FILES:
        raise _fail("attachments", _("每件诉求最多上传%(n)d个文件") % {"n": MAX_CITIZEN_FILES})
    kinds = checked_uploads(files, images_only=images_only)
    with transaction.atomic():
        return store_uploads(case, files, kinds, None)


MAX_CITIZEN_MESSAGE = 20000


def case_citizen_message(*, case: Case, requester: Requester, text: str, source: str) -> None:
    """What the citizen adds to their request on a channel (a later SMS while the case is open, the transcript of
    an online chat): one timeline entry with the text, by no staff user; the case's status does not change."""
    text = text.strip()
    if not text:
        raise _fail("text", _("内容不能为空"))
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        _event(
            case,
            actor=None,
            action=Action.CITIZEN_MESSAGE,
            from_status=case.status,
            opinion=text[:MAX_CITIZEN_MESSAGE],
            data={"source": source, "requester": requester.as_origin()},
        )


__all__ = ["MAX_CITIZEN_FILES", "case_citizen_attach", "case_citizen_message", "case_citizen_rating"]
