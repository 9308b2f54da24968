"""Photos a follower sends (image messages): fetched through WeChat's media API and attached to their request.

While the follower is composing a request (a type chosen, no text yet) the photo's MediaId is held on the follower
(at most MAX_PENDING) and the photos are attached to the case the next text makes; otherwise a photo goes to the
follower's latest unfinished WeChat request of the last APPEND_DAYS days. Fetching happens after commit (a Celery
task when a broker is configured, else in the request after the passive reply is decided), so a slow media API
never holds a transaction; a fetch that fails (media expired, refused, not an image) is logged and leaves the case
as it was — the file checks are the same as for the portal's uploads (images only, checked by content).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from hotline.cases import services as case_services
from hotline.cases.models import Case, Channel
from hotline.common import clock
from hotline.common.errors import ServiceError

from ..models import WeChatAccount, WeChatFollower
from ..services import APPEND_DAYS, FINISHED

logger = logging.getLogger(__name__)
MAX_PENDING = 9


def open_case(account: WeChatAccount, follower: WeChatFollower) -> Case | None:
    since = clock.now() - dt.timedelta(days=APPEND_DAYS)
    return (
        Case.objects.filter(
            channel=Channel.WECHAT,
            origin__requester_account=account.app_id,
            origin__requester_id=follower.open_id,
            created_at__gte=since,
        )
        .exclude(status__in=FINISHED)
        .order_by("-created_at")
        .first()
    )


def attach_later(*, account: WeChatAccount, case: Case, open_id: str, media_ids: list[str]) -> None:
    """After commit: fetch the photos and attach them to the case."""
    if not media_ids:
        return
    args = (account.pk, case.pk, open_id, list(media_ids))
    if settings.CELERY_BROKER_URL:
        from ..tasks import wechat_media_task

        transaction.on_commit(lambda: wechat_media_task.delay(*args))
    else:
        transaction.on_commit(lambda: fetch_and_attach(*args))


def fetch_and_attach(account_pk: int, case_pk: int, open_id: str, media_ids: list[str]) -> int:
    """Fetch each photo from the media API and attach it; returns how many were attached."""
    from .client import WeChatApiError, get_media

    account = WeChatAccount.objects.filter(pk=account_pk).first()
    case = Case.objects.filter(pk=case_pk).first()
    if account is None or case is None:
        return 0
    requester = case_services.Requester(channel=Channel.WECHAT, account=account.app_id, external_id=open_id)
    attached = 0
    for media_id in media_ids:
        try:
            data, content_type, name = get_media(account, media_id=media_id)
            case_services.case_citizen_attach(
                case=case,
                requester=requester,
                files=[SimpleUploadedFile(name, data, content_type=content_type)],
                images_only=True,
            )
        except (WeChatApiError, ServiceError) as exc:
            logger.warning("case %s: WeChat photo %s not attached: %s", case.number, media_id, exc)
            continue
        attached += 1
    return attached
