"""What a citizen does on a case on their own, through a channel (no staff user): rate the result (CLS-2 by SMS
reply, on the portal, in the app) and add photos or files to their request.

The channel has already established that the citizen may act on this case (the query password, a verified phone,
the phone the callback SMS went to); these functions apply the same rules a staff callback or upload follows.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from hotline.common import clock, filetypes
from hotline.common.errors import ServiceError

from ..lifecycle import Action
from ..models import Callback, Case, CaseAttachment, CaseStatus
from .channel import Requester
from .closing import _callback_outcome
from .core import _bump, _clocks_on_transition, _event, _fail

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
    limit = settings.HOTLINE_MAX_ATTACHMENT_BYTES
    if case.attachments.count() + len(files) > MAX_CITIZEN_FILES:
        raise _fail("attachments", _("每件诉求最多上传%(n)d个文件") % {"n": MAX_CITIZEN_FILES})
    kinds = []
    for upload in files:
        if upload.size is None or upload.size > limit:
            raise _fail(
                "attachments",
                _("文件“%(name)s”超过大小限制（%(mb)d MB）")
                % {"name": upload.name, "mb": limit // (1024 * 1024)},
            )
        kind = filetypes.check(upload, upload.name or "")
        if kind is None or (images_only and not kind.content_type.startswith("image/")):
            raise _fail(
                "attachments",
                _("文件“%(name)s”的类型不允许（按文件内容检查）") % {"name": upload.name},
            )
        kinds.append(kind)
    now = clock.now()
    with transaction.atomic():
        return [
            CaseAttachment.objects.create(
                case=case,
                file=upload,
                name=(upload.name or "附件")[:200],
                size=upload.size or 0,
                content_type=kind.content_type,
                uploaded_by=None,
                uploaded_at=now,
            )
            for upload, kind in zip(files, kinds, strict=True)
        ]


__all__ = ["MAX_CITIZEN_FILES", "case_citizen_attach", "case_citizen_rating"]
