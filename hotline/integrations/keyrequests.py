"""Open311 keys for civic apps on request (API-2): an app asks, an administrator decides, the app collects its key
once through a claim link only it holds."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from hotline.common import clock, crypto
from hotline.common.audit import audit_record
from hotline.common.errors import NotFound, ServiceError

from .models import ApiKeyRequest, Partner
from .permissions import may_manage_partners
from .services import partner_create

CIVIC_APP_RATE_PER_MINUTE = 60


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _require_manager(actor: Any) -> None:
    if not may_manage_partners(actor):
        raise NotFound(_("未找到"))


def key_request_create(
    *, app_name: str, developer: str, contact_email: str, purpose: str, client_ip: str | None
) -> tuple[ApiKeyRequest, str]:
    """Record a request; returns it and the claim token (shown to the requester once, stored as a digest)."""
    errors: dict[str, list[str]] = {}
    for field, value, limit in (
        ("app_name", app_name, 100),
        ("developer", developer, 100),
        ("purpose", purpose, 1000),
    ):
        if not value.strip() or len(value) > limit:
            errors[field] = [_("必填，且不超过%(n)s个字符") % {"n": limit}]
    if errors:
        raise ServiceError(next(iter(errors.values()))[0], field_errors=errors)
    token = secrets.token_urlsafe(24)
    request = ApiKeyRequest.objects.create(
        app_name=app_name.strip(),
        developer=developer.strip(),
        contact_email=contact_email.strip(),
        purpose=purpose.strip(),
        client_ip=client_ip,
        claim_digest=_digest(token),
        created_at=clock.now(),
    )
    return request, token


def key_request_for_token(token: str) -> ApiKeyRequest:
    found = ApiKeyRequest.objects.filter(claim_digest=_digest(token)).first() if token else None
    if found is None:
        raise NotFound(_("未找到该申请"))
    return found


def _locked_pending(pk: int) -> ApiKeyRequest:
    request = ApiKeyRequest.objects.select_for_update().get(pk=pk)
    if request.status != ApiKeyRequest.Status.PENDING:
        raise ServiceError(_("该申请已处理"), code="already_decided")
    return request


def key_request_approve(*, actor: Any, request: ApiKeyRequest) -> ApiKeyRequest:
    """The app becomes a civic-app partner with the open311 scope; its key waits, encrypted, for the claim."""
    _require_manager(actor)
    with transaction.atomic():
        locked = _locked_pending(request.pk)
        partner, issued = partner_create(
            actor=actor,
            code=f"civic-app-{locked.pk}",
            name=locked.app_name,
            kind=Partner.Kind.CIVIC_APP,
            scopes=[Partner.Scope.OPEN311],
            rate_per_minute=CIVIC_APP_RATE_PER_MINUTE,
        )
        locked.status, locked.partner = ApiKeyRequest.Status.APPROVED, partner
        locked.api_key_sealed = crypto.encrypt(issued.api_key)
        locked.decided_by, locked.decided_at = actor, clock.now()
        locked.save()
        audit_record(
            actor=actor, action="update", obj=locked, summary=f"批准 Open311 密钥申请 {locked.app_name}"
        )
    return locked


def key_request_reject(*, actor: Any, request: ApiKeyRequest, note: str) -> ApiKeyRequest:
    _require_manager(actor)
    if not note.strip():
        raise ServiceError(_("请填写不予批准的理由"), field_errors={"note": [_("请填写不予批准的理由")]})
    with transaction.atomic():
        locked = _locked_pending(request.pk)
        locked.status, locked.decision_note = ApiKeyRequest.Status.REJECTED, note.strip()[:200]
        locked.decided_by, locked.decided_at = actor, clock.now()
        locked.save()
        audit_record(
            actor=actor, action="update", obj=locked, summary=f"驳回 Open311 密钥申请 {locked.app_name}"
        )
    return locked


def key_request_claim(*, token: str) -> tuple[ApiKeyRequest, str]:
    """The key of an approved request, once: it is wiped as it is shown. "" when there is nothing to collect."""
    request = key_request_for_token(token)
    with transaction.atomic():
        locked = ApiKeyRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status != ApiKeyRequest.Status.APPROVED or not locked.api_key_sealed:
            return locked, ""
        api_key = crypto.decrypt(locked.api_key_sealed)
        locked.status, locked.api_key_sealed = ApiKeyRequest.Status.CLAIMED, ""
        locked.save(update_fields=["status", "api_key_sealed"])
        audit_record(actor=None, action="update", obj=locked, summary=f"领取 Open311 密钥 {locked.app_name}")
    return locked, api_key


def pending_key_requests(*, user: Any) -> list[ApiKeyRequest]:
    _require_manager(user)
    return list(
        ApiKeyRequest.objects.filter(status=ApiKeyRequest.Status.PENDING).order_by("created_at")[:100]
    )
