"""Thin API for citizen records: parse, call one service or selector, render."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hotline.common.errors import NotFound
from hotline.common.schema import FILE_RESPONSES, NO_CONTENT, free_object
from hotline.orgs.http import request_user as _user
from hotline.orgs.models import User

from . import importexport, jobs, permissions, selectors, services
from . import outputs as o
from .models import (
    BlacklistDirection,
    BlacklistEntry,
    BlacklistTreatment,
    CitizenLevel,
    Gender,
    ImportKind,
    RelatedContact,
)


def _require_editor(user: User) -> None:
    permissions.may_edit_citizens.require(user)


def _require_blacklist(user: User) -> None:
    permissions.may_manage_blacklist.require(user)


def _viewed(user: User, citizen: Any, reason: str) -> bool:
    """Masked for roles that do not need the numbers; an unmasked view is audited. Returns `masked`."""
    masked = not selectors.sees_personal_data(user)
    if not masked:
        services.citizen_record_view(citizen=citizen, actor=user, reason=reason)
    return masked


def _audit_export(user: User, object_type: str, what: str, masked: bool, request: Request, rows: int) -> None:
    """Every export is audited: who, which filter, how many rows (ORG-3)."""
    from hotline.common.audit import audit_access

    audit_access(
        actor=user,
        object_type=object_type,
        summary=f"{what} {rows} 行（{'号码已脱敏' if masked else '含完整号码'}）",
        filters=dict(request.query_params.items()),
        rows=rows,
    )


# --------------------------------------------------------------------------- inputs


class CitizenInput(serializers.Serializer):
    name = serializers.CharField(max_length=50, allow_blank=True)
    phones = serializers.ListField(child=serializers.CharField(max_length=30), required=False, default=list)
    gender = serializers.ChoiceField(choices=Gender.choices, required=False, default="")
    email = serializers.CharField(required=False, allow_blank=True, default="", max_length=254)
    address = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    work_unit = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    post_code = serializers.CharField(required=False, allow_blank=True, default="", max_length=6)
    id_card = serializers.CharField(required=False, allow_blank=True, default="", max_length=18)
    level = serializers.ChoiceField(choices=CitizenLevel.choices, required=False, default=CitizenLevel.NORMAL)
    notes = serializers.CharField(required=False, allow_blank=True, default="")

    def to_input(self) -> services.CitizenInput:
        return services.CitizenInput(**self.validated_data)


class CitizenSearchInput(serializers.Serializer):
    query = serializers.CharField(required=False, default="", max_length=50, help_text="姓名前缀或工作单位")
    phone = serializers.CharField(required=False, default="", max_length=30)
    id_card = serializers.CharField(
        required=False, default="", max_length=18, help_text="完整身份证号（精确）"
    )
    level = serializers.ChoiceField(choices=CitizenLevel.choices, required=False, default="")


class ContactInput(serializers.Serializer):
    name = serializers.CharField(max_length=50, allow_blank=True)
    relation = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    notes = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def to_input(self) -> services.ContactInput:
        return services.ContactInput(**self.validated_data)


class BlacklistInput(serializers.Serializer):
    number = serializers.CharField(max_length=30)
    reason = serializers.CharField(allow_blank=True, max_length=200)
    direction = serializers.ChoiceField(
        choices=BlacklistDirection.choices, default=BlacklistDirection.INBOUND
    )
    treatment = serializers.ChoiceField(
        choices=BlacklistTreatment.choices, default=BlacklistTreatment.VOICEMAIL
    )
    treatment_target = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


@extend_schema_serializer(component_name="CitizenImportInput")
class ImportInput(serializers.Serializer):
    file = serializers.FileField()
    dry_run = serializers.BooleanField(required=False, default=False, help_text="只校验、不保存")


class ExportInput(serializers.Serializer):
    # Not "format": DRF reads that query parameter for content negotiation.
    file_format = serializers.ChoiceField(choices=["xlsx", "csv"], required=False, default="xlsx")


# --------------------------------------------------------------------------- citizens


class CitizenListCreateApi(GenericAPIView):
    @extend_schema(
        summary="市民档案查询（号码已脱敏）",
        parameters=[CitizenSearchInput],
        responses=o.CitizenOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        params = CitizenSearchInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        user = _user(request)
        qs = selectors.citizen_search(user=user, **params.validated_data).prefetch_related("phones")
        page = self.paginate_queryset(qs)
        return self.get_paginated_response([selectors.citizen_data(c, masked=True) for c in page or []])

    @extend_schema(summary="新建市民档案", request=CitizenInput, responses={201: o.CitizenOutput})
    def post(self, request: Request) -> Response:
        user = _user(request)
        _require_editor(user)
        data = CitizenInput(data=request.data)
        data.is_valid(raise_exception=True)
        citizen = services.citizen_create(actor=user, data=data.to_input())
        masked = _viewed(user, citizen, "新建后查看")
        return Response(selectors.citizen_data(citizen, masked=masked), status=status.HTTP_201_CREATED)


class CitizenDetailApi(APIView):
    @extend_schema(
        summary="市民档案详情（有权限的角色看到完整号码，并记入审计日志）", responses=o.CitizenDetailOutput
    )
    def get(self, request: Request, pk: int) -> Response:
        user = _user(request)
        citizen = selectors.citizen_get(user=user, pk=pk)
        masked = _viewed(user, citizen, "档案详情")
        data = selectors.citizen_data(citizen, masked=masked)
        data["contacts"] = [selectors.contact_data(c, masked=masked) for c in citizen.contacts.all()]
        return Response(data)

    @extend_schema(summary="修改市民档案", request=CitizenInput, responses=o.CitizenOutput)
    def put(self, request: Request, pk: int) -> Response:
        user = _user(request)
        citizen = selectors.citizen_get(user=user, pk=pk)  # another unit's: 404 before any role check
        _require_editor(user)
        data = CitizenInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.citizen_update(citizen=citizen, actor=user, data=data.to_input())
        masked = _viewed(user, citizen, "修改后查看")
        return Response(selectors.citizen_data(citizen, masked=masked))

    @extend_schema(summary="删除市民档案（无工单的）", responses=NO_CONTENT)
    def delete(self, request: Request, pk: int) -> Response:
        user = _user(request)
        citizen = selectors.citizen_get(user=user, pk=pk)
        _require_editor(user)
        services.citizen_delete(citizen=citizen, actor=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CitizenHistoryApi(APIView):
    @extend_schema(
        summary="市民接触历史（工单、来电、短信、网站/微信留言，只读）",
        responses=o.HistoryEntryOutput,
    )
    def get(self, request: Request, pk: int) -> Response:
        user = _user(request)
        citizen = selectors.citizen_get(user=user, pk=pk)
        numbers = [p.number for p in citizen.phones.all()] or ([citizen.phone] if citizen.phone else [])
        from .history import contact_history

        masked = _viewed(user, citizen, "接触历史")
        entries = contact_history(user=user, citizen=citizen, numbers=numbers, limit=200)
        return Response([{**e.__dict__, "number": selectors.mask(e.number, masked=masked)} for e in entries])


class ScreenPopApi(APIView):
    @extend_schema(
        summary="来电弹屏：档案、联系人、在办工单、最近10次接触与工单、黑名单、投诉/咨询次数、按区号的布局",
        parameters=[OpenApiParameter("number", str, required=True)],
        responses=free_object("ScreenPopOutput"),
    )
    def get(self, request: Request) -> Response:
        user = _user(request)
        number = request.query_params.get("number", "").strip()
        if not number:
            raise serializers.ValidationError({"number": [_("请提供来电号码")]})
        return Response(services.screen_pop_viewed(user=user, number=number))


# --------------------------------------------------------------------------- related contacts


class ContactListCreateApi(APIView):
    @extend_schema(summary="相关联系人", responses=o.ContactOutput(many=True))
    def get(self, request: Request, pk: int) -> Response:
        user = _user(request)
        citizen = selectors.citizen_get(user=user, pk=pk)
        masked = _viewed(user, citizen, "相关联系人")
        return Response([selectors.contact_data(c, masked=masked) for c in citizen.contacts.all()])

    @extend_schema(summary="新增相关联系人", request=ContactInput, responses={201: o.ContactOutput})
    def post(self, request: Request, pk: int) -> Response:
        user = _user(request)
        citizen = selectors.citizen_get(user=user, pk=pk)
        _require_editor(user)
        data = ContactInput(data=request.data)
        data.is_valid(raise_exception=True)
        contact = services.contact_create(citizen=citizen, actor=user, data=data.to_input())
        return Response(selectors.contact_data(contact, masked=False), status=status.HTTP_201_CREATED)


def _contact(user: User, pk: int) -> RelatedContact:
    contact = RelatedContact.objects.filter(pk=pk).first()
    if contact is None or not selectors.citizen_visible(user=user).filter(pk=contact.citizen_id).exists():
        raise NotFound(_("联系人不存在或无权查看"))
    return contact


class ContactDetailApi(APIView):
    @extend_schema(summary="修改相关联系人", request=ContactInput, responses=o.ContactOutput)
    def put(self, request: Request, pk: int) -> Response:
        user = _user(request)
        contact = _contact(user, pk)
        _require_editor(user)
        data = ContactInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.contact_update(contact=contact, actor=user, data=data.to_input())
        return Response(selectors.contact_data(contact, masked=False))

    @extend_schema(summary="删除相关联系人", responses=NO_CONTENT)
    def delete(self, request: Request, pk: int) -> Response:
        user = _user(request)
        contact = _contact(user, pk)
        _require_editor(user)
        services.contact_delete(contact=contact, actor=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --------------------------------------------------------------------------- import / export


def _file_response(content: bytes, fmt: str, name: str) -> HttpResponse:
    types = {
        "csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    response = HttpResponse(content, content_type=types[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


class _ImportApi(APIView):
    """The file's size and rows are checked at once (400 beyond the limits); the import itself runs as a
    background job: 202 with the job, whose progress and row report `GET /citizens/imports/<id>/` shows."""

    parser_classes = [MultiPartParser, FormParser]
    kind = ""

    def check(self, user: User) -> None:
        _require_editor(user)

    def post(self, request: Request) -> Response:
        user = _user(request)
        self.check(user)
        data = ImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        job = jobs.import_queue(
            kind=self.kind,
            upload=data.validated_data["file"],
            actor=user,
            dry_run=data.validated_data["dry_run"],
        )
        body = {**jobs.job_data(job), "job": job.pk, "url": f"/api/v1/citizens/imports/{job.pk}/"}
        return Response(body, status=status.HTTP_202_ACCEPTED)


class CitizenImportApi(_ImportApi):
    kind = ImportKind.CITIZENS

    @extend_schema(
        summary="批量导入市民（xlsx/csv，后台执行；合格行保存，不合格行逐行报告）",
        request=ImportInput,
        responses={202: o.ImportQueuedOutput},
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class ContactImportApi(_ImportApi):
    kind = ImportKind.CONTACTS

    @extend_schema(
        summary="批量导入相关联系人（后台执行）", request=ImportInput, responses={202: o.ImportQueuedOutput}
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class BlacklistImportApi(_ImportApi):
    kind = ImportKind.BLACKLIST

    def check(self, user: User) -> None:
        _require_blacklist(user)

    @extend_schema(
        summary="批量导入黑名单（后台执行；每个文件不超过10,000行）",
        request=ImportInput,
        responses={202: o.ImportQueuedOutput},
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class CitizenExportApi(APIView):
    @extend_schema(
        summary="导出市民（按查询条件；无权限的角色号码脱敏）",
        parameters=[CitizenSearchInput, ExportInput],
        responses=FILE_RESPONSES,
    )
    def get(self, request: Request) -> HttpResponse:
        user = _user(request)
        params = CitizenSearchInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        fmt = ExportInput(data=request.query_params)
        fmt.is_valid(raise_exception=True)
        qs = selectors.citizen_search(user=user, **params.validated_data).prefetch_related("phones")
        masked = not selectors.sees_personal_data(user)
        content = importexport.export_citizens(
            citizens=qs.iterator(chunk_size=2000), masked=masked, fmt=fmt.validated_data["file_format"]
        )
        _audit_export(user, "citizens.citizen", "导出市民档案", masked, request, qs.count())
        return _file_response(content, fmt.validated_data["file_format"], "citizens")


class ContactExportApi(APIView):
    @extend_schema(summary="导出相关联系人", parameters=[ExportInput], responses=FILE_RESPONSES)
    def get(self, request: Request) -> HttpResponse:
        user = _user(request)
        fmt = ExportInput(data=request.query_params)
        fmt.is_valid(raise_exception=True)
        masked = not selectors.sees_personal_data(user)
        contacts = RelatedContact.objects.filter(
            citizen__in=selectors.citizen_visible(user=user)
        ).select_related("citizen")
        content = importexport.export_contacts(
            contacts=contacts.iterator(chunk_size=2000), masked=masked, fmt=fmt.validated_data["file_format"]
        )
        _audit_export(user, "citizens.relatedcontact", "导出相关联系人", masked, request, contacts.count())
        return _file_response(content, fmt.validated_data["file_format"], "contacts")


# --------------------------------------------------------------------------- blacklist


class BlacklistListCreateApi(GenericAPIView):
    @extend_schema(
        summary="黑名单",
        parameters=[OpenApiParameter("number", str), OpenApiParameter("active", bool)],
        responses=o.BlacklistOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        _require_blacklist(_user(request))
        active = request.query_params.get("active")
        qs = selectors.blacklist_list(
            number=request.query_params.get("number", ""),
            active=None if active in (None, "") else active in ("1", "true", "True"),
        )
        page = self.paginate_queryset(qs)
        return self.get_paginated_response([selectors.blacklist_data(e) for e in page or []])

    @extend_schema(
        summary="加入黑名单（同号码则替换）", request=BlacklistInput, responses={201: o.BlacklistOutput}
    )
    def post(self, request: Request) -> Response:
        user = _user(request)
        _require_blacklist(user)
        data = BlacklistInput(data=request.data)
        data.is_valid(raise_exception=True)
        entry = services.blacklist_add(actor=user, data=services.BlacklistInput(**data.validated_data))
        return Response(selectors.blacklist_data(entry), status=status.HTTP_201_CREATED)


class BlacklistDetailApi(APIView):
    @extend_schema(summary="移出黑名单", responses=NO_CONTENT)
    def delete(self, request: Request, pk: int) -> Response:
        user = _user(request)
        _require_blacklist(user)
        entry = BlacklistEntry.objects.filter(pk=pk).first()
        if entry is None:
            raise NotFound(_("黑名单记录不存在"))
        services.blacklist_remove(entry=entry, actor=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BlacklistCheckApi(APIView):
    @extend_schema(
        summary="号码是否在黑名单（呼入/呼出）",
        parameters=[
            OpenApiParameter("number", str, required=True),
            OpenApiParameter(
                "direction", str, enum=[BlacklistDirection.INBOUND, BlacklistDirection.OUTBOUND]
            ),
        ],
        responses=o.BlacklistCheckOutput,
    )
    def get(self, request: Request) -> Response:
        direction = request.query_params.get("direction", BlacklistDirection.INBOUND)
        if direction not in (BlacklistDirection.INBOUND, BlacklistDirection.OUTBOUND):
            raise serializers.ValidationError({"direction": [_("方向应为 inbound 或 outbound")]})
        entry = selectors.blacklist_lookup(request.query_params.get("number", ""), direction)
        return Response({"blacklisted": entry is not None, "entry": selectors.blacklist_data(entry)})


class BlacklistExportApi(APIView):
    @extend_schema(summary="导出黑名单", parameters=[ExportInput], responses=FILE_RESPONSES)
    def get(self, request: Request) -> HttpResponse:
        user = _user(request)
        _require_blacklist(user)
        fmt = ExportInput(data=request.query_params)
        fmt.is_valid(raise_exception=True)
        entries = selectors.blacklist_list()
        content = importexport.export_blacklist(
            entries=entries.iterator(), fmt=fmt.validated_data["file_format"]
        )
        _audit_export(user, "citizens.blacklistentry", "导出黑名单", False, request, entries.count())
        return _file_response(content, fmt.validated_data["file_format"], "blacklist")


class ImportJobApi(APIView):
    @extend_schema(summary="导入任务：状态、进度与逐行错误报告", responses=o.ImportJobOutput)
    def get(self, request: Request, pk: int) -> Response:
        job = selectors.import_jobs(user=_user(request)).filter(pk=pk).first()
        if job is None:
            raise NotFound(_("导入记录不存在"))
        return Response(jobs.job_data(job))
