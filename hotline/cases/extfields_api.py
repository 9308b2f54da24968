"""API for extended intake fields (issue 11, item 6): `/api/v1/extended-fields/` — list, create, detail,
change (PUT/PATCH), and DELETE (switches the field off; definitions are kept for the cases that use them).
System administrators only (403 for everyone else)."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hotline.common.models import DictItem, DictKind
from hotline.orgs.models import Unit, UnitKind, User

from .extfields import (
    ExtendedFieldInput,
    extended_field_create,
    extended_field_deactivate,
    extended_field_list,
    extended_field_update,
)
from .models import ExtendedField, ExtendedFieldType


class ExtendedFieldInputSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=40)
    label = serializers.CharField(max_length=50)  # type: ignore[assignment]
    field_type = serializers.ChoiceField(choices=ExtendedFieldType.choices)
    bureau = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.filter(kind=UnitKind.BUREAU), allow_null=True, required=False, default=None
    )
    case_type = serializers.PrimaryKeyRelatedField(
        queryset=DictItem.objects.filter(kind=DictKind.CASE_TYPE),
        allow_null=True,
        required=False,
        default=None,
    )
    required = serializers.BooleanField(required=False, default=False)  # type: ignore[assignment]
    choices = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, default=list, max_length=100
    )
    sort_order = serializers.IntegerField(required=False, default=0, min_value=0, max_value=1_000_000)
    is_active = serializers.BooleanField(required=False, default=True)


class ExtendedFieldOutput(serializers.ModelSerializer):
    bureau_name = serializers.CharField(source="bureau.name", default="", read_only=True)
    case_type_name = serializers.CharField(source="case_type.name", default="", read_only=True)

    class Meta:
        model = ExtendedField
        fields = [
            "id",
            "key",
            "label",
            "field_type",
            "bureau",
            "bureau_name",
            "case_type",
            "case_type_name",
            "required",
            "choices",
            "sort_order",
            "is_active",
        ]


def _user(request: Request) -> User:
    return request.user  # type: ignore[return-value]


def _input(request: Request, *, partial_of: ExtendedField | None = None) -> ExtendedFieldInput:
    data: Any = request.data
    if partial_of is not None:
        current = {
            "key": partial_of.key,
            "label": partial_of.label,
            "field_type": partial_of.field_type,
            "bureau": partial_of.bureau_id,
            "case_type": partial_of.case_type_id,
            "required": partial_of.required,
            "choices": partial_of.choices,
            "sort_order": partial_of.sort_order,
            "is_active": partial_of.is_active,
        }
        data = {**current, **(dict(data.items()) if hasattr(data, "items") else {})}
    serializer = ExtendedFieldInputSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    return ExtendedFieldInput(**serializer.validated_data)


def _get(request: Request, pk: int) -> ExtendedField:
    qs = extended_field_list(user=_user(request))  # refuses non-admins before anything is looked up
    return get_object_or_404(qs, pk=pk)


class ExtendedFieldListApi(APIView):
    @extend_schema(
        summary="扩展字段列表（系统管理员）",
        parameters=[OpenApiParameter("active", bool, description="只列启用的")],
        responses=ExtendedFieldOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        qs = extended_field_list(user=_user(request))
        if request.query_params.get("active") in {"1", "true"}:
            qs = qs.filter(is_active=True)
        return Response(ExtendedFieldOutput(qs, many=True).data)

    @extend_schema(
        summary="新增扩展字段", request=ExtendedFieldInputSerializer, responses={201: ExtendedFieldOutput}
    )
    def post(self, request: Request) -> Response:
        extended_field_list(user=_user(request))
        definition = extended_field_create(actor=_user(request), data=_input(request))
        return Response(ExtendedFieldOutput(definition).data, status=201)


class ExtendedFieldDetailApi(APIView):
    @extend_schema(summary="扩展字段详情", responses=ExtendedFieldOutput)
    def get(self, request: Request, pk: int) -> Response:
        return Response(ExtendedFieldOutput(_get(request, pk)).data)

    @extend_schema(
        summary="修改扩展字段（字段键不可改）",
        request=ExtendedFieldInputSerializer,
        responses=ExtendedFieldOutput,
    )
    def put(self, request: Request, pk: int) -> Response:
        definition = _get(request, pk)
        updated = extended_field_update(actor=_user(request), definition=definition, data=_input(request))
        return Response(ExtendedFieldOutput(updated).data)

    @extend_schema(
        summary="修改扩展字段的部分属性", request=ExtendedFieldInputSerializer, responses=ExtendedFieldOutput
    )
    def patch(self, request: Request, pk: int) -> Response:
        definition = _get(request, pk)
        data = _input(request, partial_of=definition)
        updated = extended_field_update(actor=_user(request), definition=definition, data=data)
        return Response(ExtendedFieldOutput(updated).data)

    @extend_schema(summary="停用扩展字段（定义保留）", responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        extended_field_deactivate(actor=_user(request), definition=_get(request, pk))
        return Response(status=204)
