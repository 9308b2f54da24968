"""Thin API for telephony: the agent's call control, supervisor modes, recordings for other systems (REC-1)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import FileResponse, HttpResponseBase
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hotline.common.errors import NotFound
from hotline.common.schema import FILE_RESPONSES
from hotline.orgs.http import request_user

from . import selectors, services


class AcceptedOutput(serializers.Serializer):
    accepted = serializers.BooleanField()


class CallActionInput(serializers.Serializer):
    action = serializers.ChoiceField(choices=sorted(services.CALL_ACTIONS))
    target_kind = serializers.ChoiceField(choices=["agent", "queue", "number"], required=False, default="")
    target = serializers.CharField(max_length=32, required=False, default="", allow_blank=True)


class CallActionApi(APIView):
    @extend_schema(
        summary="坐席通话控制（保持、取回、挂机、转接、咨询、三方）",
        request=CallActionInput,
        responses={202: AcceptedOutput},
    )
    def post(self, request: Request) -> Response:
        data = CallActionInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = request_user(request)
        agent = selectors.agent_for_user(user=user)
        if agent is None:
            raise NotFound(_("当前账号未绑定坐席工号"))
        services.agent_call_action(agent=agent, actor=user, **data.validated_data)
        return Response({"accepted": True}, status=status.HTTP_202_ACCEPTED)


class MonitorInput(serializers.Serializer):
    call_id = serializers.CharField(max_length=40)
    mode = serializers.ChoiceField(choices=sorted(services.MONITOR_KIND))


class MonitorApi(APIView):
    @extend_schema(
        summary="班长监听、耳语、强插、结束（呼叫班长本人分机）",
        request=MonitorInput,
        responses={202: AcceptedOutput},
    )
    def post(self, request: Request) -> Response:
        data = MonitorInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.call_monitor(actor=request_user(request), **data.validated_data)
        return Response({"accepted": True}, status=status.HTTP_202_ACCEPTED)


class RecordingAudioApi(APIView):
    @extend_schema(summary="下载通话录音（WAV；调阅记入审计）", responses=FILE_RESPONSES)
    def get(self, request: Request, pk: int) -> HttpResponseBase:
        user = request_user(request)
        recording = selectors.recording_get(user=user, pk=pk)
        path = Path(settings.VAR_DIR) / recording.path
        if recording.ended_at is None or not path.is_file():
            raise NotFound(_("录音文件不存在"))
        services.recording_played(recording=recording, actor=user)
        return FileResponse(path.open("rb"), content_type="audio/wav", as_attachment=True, filename=path.name)
