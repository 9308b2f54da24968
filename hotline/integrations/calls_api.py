"""Call records and recordings of a case, for the partner systems that may see the case (API-3, REC-1): a bureau
system for its unit's cases, a platform for the cases it sent or was handed. Every recording fetched is audited
as played by the partner's service account."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request

from hotline.cases.models import Case
from hotline.common.errors import NotFound
from hotline.orgs.models import User
from hotline.telephony import selectors as tel_selectors
from hotline.telephony import services as tel_services
from hotline.telephony.models import Call

from .auth import PartnerRefused, signed_call_of
from .models import Partner
from .partner_api import REFUSALS, PartnerApiView
from .webhooks import partner_sees

_CALL = inline_serializer(
    "PartnerCallRecord",
    {
        "call_id": serializers.CharField(),
        "caller": serializers.CharField(),
        "started_at": serializers.DateTimeField(),
        "answered_at": serializers.DateTimeField(allow_null=True),
        "ended_at": serializers.DateTimeField(allow_null=True),
        "disposition": serializers.CharField(),
        "recordings": serializers.ListField(child=serializers.JSONField()),
    },
)


def _service_user(partner: Partner) -> User:
    if partner.service_user is None:
        raise PartnerRefused("scope", _("接入系统未对应平台账号"), 403, partner)
    return partner.service_user


def _visible_case(partner: Partner, user: User, number: str) -> Case:
    case = Case.objects.filter(number=number[:20]).first()
    if case is None or not partner_sees(partner, user, case):
        raise NotFound(_("未找到该诉求"))
    return case


def call_row(call: Call, user: User) -> dict[str, Any]:
    return {
        "call_id": call.call_id,
        "caller": tel_selectors.caller_shown(user=user, number=call.caller),
        "started_at": call.started_at.isoformat(),
        "answered_at": call.answered_at.isoformat() if call.answered_at else None,
        "ended_at": call.ended_at.isoformat() if call.ended_at else None,
        "disposition": call.disposition,
        "recordings": [
            {
                "id": r.pk,
                "duration_ms": r.duration_ms,
                "audio": reverse("partner-recording-audio", args=[r.pk]),
            }
            for r in call.recordings.all()
            if r.ended_at is not None
        ],
    }


class PartnerCaseCallsApi(PartnerApiView):
    """GET /partner/case-calls/{number}/ — the calls linked to one case and their recordings."""

    required_scope = Partner.Scope.CALLS_READ

    @extend_schema(
        operation_id="partner_case_calls", responses={200: _CALL, **REFUSALS, 404: None}, tags=["partners"]
    )
    def get(self, request: Request, number: str) -> Any:
        partner = signed_call_of(request).partner
        user = _service_user(partner)
        case = _visible_case(partner, user, number)
        calls = tel_selectors.case_calls(user=user, case_pk=case.pk)
        return self.partner_response(request, [call_row(c, user) for c in calls])


class PartnerRecordingAudioApi(PartnerApiView):
    """GET /partner/recordings/{id}/audio/ — the WAV of a recording of a call linked to a case the partner sees."""

    required_scope = Partner.Scope.CALLS_READ

    @extend_schema(operation_id="partner_recording_audio", responses={(200, "audio/wav"): bytes, **REFUSALS, 404: None}, tags=["partners"])  # fmt: skip
    def get(self, request: Request, pk: int) -> Any:
        partner = signed_call_of(request).partner
        user = _service_user(partner)
        recording = tel_selectors.recording_get(user=user, pk=pk)
        linked = Case.objects.filter(pk__in=recording.call.case_links.values_list("case_id", flat=True))
        if not any(partner_sees(partner, user, case) for case in linked):
            raise NotFound(_("录音不存在或无权收听"))
        path = Path(settings.VAR_DIR) / recording.path
        if recording.ended_at is None or not path.is_file():
            raise NotFound(_("录音文件不存在"))
        tel_services.recording_played(recording=recording, actor=user)
        return FileResponse(path.open("rb"), content_type="audio/wav", as_attachment=True, filename=path.name)
