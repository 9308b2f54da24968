"""Private files (case attachments, uploaded import files) live outside the public media folder and have no URL:
case attachments are served only by the scoped, audited download view (`/cases/attachments/<id>/`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateStorage(FileSystemStorage):
    def url(self, name: Any) -> str:
        raise ValueError("case attachments have no public URL; use the download view")


def private_storage() -> PrivateStorage:
    return PrivateStorage(location=settings.HOTLINE_PRIVATE_MEDIA_ROOT)
