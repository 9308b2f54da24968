"""Staff API of SMS contact groups: list and create a unit's groups, read one (masked; `?reveal=1` for the full
numbers, audited), add and remove members, send to a group, and read a send's per-recipient delivery report."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hotline.common.errors import NotFound
from hotline.orgs.http import request_user

from . import groups


class SmsGroupInput(serializers.Serializer):
    name = serializers.CharField(max_length=60)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    phones = serializers.CharField(required=False, allow_blank=True, default="", max_length=30000)


class SmsMemberOutput(serializers.Serializer):
    id = serializers.IntegerField()
    phone = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named "label"


class SmsGroupOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    note = serializers.CharField()
    unit = serializers.CharField()
    size = serializers.IntegerField()


class SmsGroupDetailOutput(SmsGroupOutput):
    masked = serializers.BooleanField()
    members = SmsMemberOutput(many=True)


class SmsMembersInput(serializers.Serializer):
    phones = serializers.CharField(max_length=30000)


class SmsSendInput(serializers.Serializer):
    text = serializers.CharField(max_length=500)
    case_number = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class SmsRecipientOutput(serializers.Serializer):
    phone = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named "label"
    status = serializers.CharField()
    sent_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField()


class SmsSendOutput(serializers.Serializer):
    id = serializers.IntegerField()
    group = serializers.IntegerField()
    text = serializers.CharField()
    recipients = serializers.IntegerField()
    at = serializers.DateTimeField()
    delivered = serializers.IntegerField()
    failed = serializers.IntegerField()
    pending = serializers.IntegerField()
    rows = SmsRecipientOutput(many=True)


def _group_row(group: Any) -> dict[str, Any]:
    size = getattr(group, "size", None)
    return {
        "id": group.pk,
        "name": group.name,
        "note": group.note,
        "unit": group.unit.name,
        "size": size if size is not None else group.members.count(),
    }


def _group(request: Request, pk: int) -> Any:
    user = request_user(request)
    return user, groups.group_get(user=user, pk=pk)


def _send_data(user: Any, pk: int) -> dict[str, Any]:
    report = groups.send_report(user=user, pk=pk)
    send = report.send
    return {
        "id": send.pk,
        "group": send.group_id,
        "text": send.text,
        "recipients": send.recipients,
        "at": send.at,
        **report.counts,
        "rows": report.rows,
    }


class GroupListApi(APIView):
    @extend_schema(summary="短信通讯组列表", responses=SmsGroupOutput(many=True))
    def get(self, request: Request) -> Response:
        user = request_user(request)
        if not groups.may_use(user):
            raise NotFound(_("未找到"))
        return Response([_group_row(g) for g in groups.groups_visible(user=user)])

    @extend_schema(summary="新建短信通讯组", request=SmsGroupInput, responses={201: SmsGroupOutput})
    def post(self, request: Request) -> Response:
        user = request_user(request)
        data = SmsGroupInput(data=request.data)
        data.is_valid(raise_exception=True)
        group = groups.sms_group_create(actor=user, **data.validated_data)
        return Response(_group_row(group), status=status.HTTP_201_CREATED)


class GroupDetailApi(APIView):
    @extend_schema(
        summary="短信通讯组（号码脱敏；reveal=1 查看完整号码并记录审计）", responses=SmsGroupDetailOutput
    )
    def get(self, request: Request, pk: int) -> Response:
        user, group = _group(request, pk)
        reveal = request.query_params.get("reveal") == "1"
        members = groups.group_reveal(user=user, group=group) if reveal else groups.group_members(group=group)
        return Response({**_group_row(group), "masked": not reveal, "members": members})

    @extend_schema(summary="删除短信通讯组（未发送过的）", responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        groups.sms_group_delete(actor=request_user(request), pk=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupMembersApi(APIView):
    @extend_schema(
        summary="向通讯组加入号码",
        request=SmsMembersInput,
        responses=inline_serializer("SmsGroupMembersAdded", {"added": serializers.IntegerField()}),
    )
    def post(self, request: Request, pk: int) -> Response:
        user, group = _group(request, pk)  # another unit's group is 404 whatever the body
        data = SmsMembersInput(data=request.data)
        data.is_valid(raise_exception=True)
        added = groups.sms_group_members_add(actor=user, pk=group.pk, **data.validated_data)
        return Response({"added": added})


class GroupMemberDetailApi(APIView):
    @extend_schema(summary="从通讯组移出号码", responses={204: None})
    def delete(self, request: Request, pk: int, member: int) -> Response:
        groups.sms_group_member_remove(actor=request_user(request), pk=pk, member=member)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupSendApi(APIView):
    @extend_schema(summary="向通讯组群发短信", request=SmsSendInput, responses={201: SmsSendOutput})
    def post(self, request: Request, pk: int) -> Response:
        user, group = _group(request, pk)  # another unit's group is 404 whatever the body
        data = SmsSendInput(data=request.data)
        data.is_valid(raise_exception=True)
        send = groups.sms_group_send(actor=user, pk=group.pk, **data.validated_data)
        return Response(_send_data(user, send.pk), status=status.HTTP_201_CREATED)


class GroupSendReportApi(APIView):
    @extend_schema(summary="群发送达报告（逐个号码）", responses=SmsSendOutput)
    def get(self, request: Request, pk: int) -> Response:
        return Response(_send_data(request_user(request), pk))
