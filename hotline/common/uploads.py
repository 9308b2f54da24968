"""One size limit for every request body with files (pages and API alike), checked before anything is read.

Django bounds form fields (DATA_UPLOAD_MAX_MEMORY_SIZE) but not files; this upload handler, first in
FILE_UPLOAD_HANDLERS, refuses a multipart body larger than HOTLINE_MAX_UPLOAD_BYTES from its Content-Length.
Each endpoint then has its own, smaller limit (attachments, imports)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler
from django.utils.translation import gettext as _


class RequestSizeLimitHandler(FileUploadHandler):
    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, boundary: Any, encoding: Any = None
    ) -> None:
        if content_length > settings.HOTLINE_MAX_UPLOAD_BYTES:
            raise RequestDataTooBig(_("上传内容超过大小限制"))

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
