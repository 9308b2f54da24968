"""Downloading a case attachment: scoped to who may see the case (another unit gets 404), audited, always as a
download (`Content-Disposition: attachment`, `nosniff`), from private storage (common.storage)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from hotline.common.audit import audit_record
from hotline.common.errors import NotFound
from hotline.common.http import private_download
from hotline.orgs.http import request_user
from hotline.orgs.models import User

from . import selectors
from .models import CaseAttachment


def attachment_get(*, user: User, pk: int) -> CaseAttachment:
    """The attachment when its case is visible to `user`."""
    attachment = (
        CaseAttachment.objects.filter(pk=pk, case__in=selectors.case_visible(user=user))
        .select_related("case")
        .first()
    )
    if attachment is None:
        raise NotFound(_("附件不存在或无权查看"))
    return attachment


def attachment_response(*, user: User, pk: int) -> FileResponse:
    attachment = attachment_get(user=user, pk=pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise NotFound(_("附件文件已不存在")) from exc
    audit_record(
        actor=user,
        action="view",
        obj=attachment,
        summary=f"下载工单 {attachment.case.number} 的附件 {attachment.name}"[:255],
    )
    return private_download(handle, filename=attachment.name, content_type=attachment.content_type)


@login_required
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    try:
        return attachment_response(user=request_user(request), pk=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


class AttachmentDownloadApi(APIView):
    @extend_schema(
        summary="下载工单附件（按工单可见范围，记入审计日志）", responses={(200, "*/*"): OpenApiTypes.BINARY}
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        return attachment_response(user=request_user(request), pk=pk)
