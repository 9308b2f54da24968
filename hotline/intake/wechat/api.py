"""Staff API of the WeChat template messages: read and set the template a notice goes as (the office's, like the
citizen texts screen), and read the recent sends with WeChat's answers."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hotline.common.errors import NotFound
from hotline.orgs.http import request_user

from .. import texts
from ..models import WeChatNoticeTemplate
from . import notice_templates


class WeChatTemplateInput(serializers.Serializer):
    template_id = serializers.CharField(max_length=64)
    # a field named "fields" (DRF's metaclass takes declared fields off the class, so it does not shadow them)
    fields = serializers.CharField(  # type: ignore[assignment]
        max_length=5000, help_text="每行：字段名=内容，如 keyword1={number}"
    )
    url = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    is_active = serializers.BooleanField(required=False, default=True)


class WeChatTemplateOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    placeholders = serializers.ListField(child=serializers.CharField())
    template_id = serializers.CharField()
    fields = serializers.ListField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField())
    )
    url = serializers.CharField()
    is_active = serializers.BooleanField()


class WeChatTemplateSendOutput(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    case = serializers.CharField()
    status = serializers.CharField()
    errcode = serializers.IntegerField()
    errmsg = serializers.CharField()
    attempts = serializers.IntegerField()
    msg_id = serializers.CharField()
    at = serializers.DateTimeField()


def _editor(request: Request) -> Any:
    user = request_user(request)
    if not texts.may_edit_texts(user):
        raise NotFound(_("未找到"))
    return user


def _row(code: str, row: WeChatNoticeTemplate | None) -> dict[str, Any]:
    name, placeholders = notice_templates.NOTICES[code]
    return {
        "code": code,
        "name": str(name),
        "placeholders": list(placeholders),
        "template_id": row.template_id if row else "",
        "fields": row.fields if row else [],
        "url": row.url if row else "",
        "is_active": bool(row and row.is_active),
    }


class WeChatTemplateListApi(APIView):
    @extend_schema(summary="微信模板消息设置列表", responses=WeChatTemplateOutput(many=True))
    def get(self, request: Request) -> Response:
        _editor(request)
        rows = {t.code: t for t in WeChatNoticeTemplate.objects.all()}
        return Response([_row(code, rows.get(code)) for code in notice_templates.NOTICES])


class WeChatTemplateDetailApi(APIView):
    @extend_schema(
        summary="设置通知的微信模板消息", request=WeChatTemplateInput, responses=WeChatTemplateOutput
    )
    def put(self, request: Request, code: str) -> Response:
        user = _editor(request)
        if code not in notice_templates.NOTICES:
            raise NotFound(_("没有这条文案"))
        data = WeChatTemplateInput(data=request.data)
        data.is_valid(raise_exception=True)
        row = notice_templates.notice_template_save(actor=user, code=code, **data.validated_data)
        return Response(_row(code, row))


class WeChatTemplateSendListApi(APIView):
    @extend_schema(summary="最近的微信模板消息发送记录", responses=WeChatTemplateSendOutput(many=True))
    def get(self, request: Request) -> Response:
        _editor(request)
        return Response(
            [
                {
                    "id": s.pk,
                    "code": s.code,
                    "case": s.case.number if s.case else "",
                    "status": s.status,
                    "errcode": s.errcode,
                    "errmsg": s.errmsg,
                    "attempts": s.attempts,
                    "msg_id": s.msg_id,
                    "at": s.at,
                    "delivery": s.delivery,
                    "delivery_status": s.delivery_status,
                    "delivery_reported_at": s.delivery_reported_at,
                }
                for s in notice_templates.recent_sends(limit=100)
            ]
        )
