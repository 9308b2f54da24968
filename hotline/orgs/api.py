from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hotline.common.models import DictItem

from .models import Unit, User
from .selectors import sees_everything, unit_search


class UnitSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Unit
        fields = [
            "id",
            "name",
            "code",
            "kind",
            "kind_display",
            "parent",
            "is_vertical",
            "pinyin",
            "depth",
            "is_active",
        ]


class MeSerializer(serializers.ModelSerializer):
    unit = UnitSerializer(read_only=True)
    roles = serializers.SerializerMethodField()
    sees_all_cases = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "unit", "roles", "sees_all_cases"]

    def get_roles(self, user: User) -> list[str]:
        return sorted(user.role_set)

    def get_sees_all_cases(self, user: User) -> bool:
        return sees_everything(user)


class MeApi(APIView):
    @extend_schema(responses=MeSerializer, summary="当前用户")
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)


class UnitListApi(ListAPIView):
    """Unit picker: search by name, code or pinyin initials (e.g. `jtj` finds 交通局)."""

    serializer_class = UnitSerializer

    @extend_schema(
        summary="单位列表",
        parameters=[
            OpenApiParameter("q", str, description="名称、编码或拼音首字母"),
            OpenApiParameter("kind", str),
            OpenApiParameter("parent", int),
            OpenApiParameter("include_retired", bool),
        ],
    )
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Unit]:
        params = self.request.query_params
        qs = unit_search(
            query=params.get("q", "").strip(),
            kind=params.get("kind") or None,
            active_only=params.get("include_retired") not in {"1", "true"},
        )
        if params.get("parent", "").isdigit():
            qs = qs.filter(parent_id=int(params["parent"]))
        return qs


class DictItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = DictItem
        fields = ["kind", "code", "name", "rank", "sort_order"]


class DictionaryApi(APIView):
    @extend_schema(responses=DictItemSerializer(many=True), summary="字典（诉求类型、性质、退件原因等）")
    def get(self, request: Request) -> Response:
        items = DictItem.objects.filter(is_active=True).order_by("kind", "sort_order", "id")
        return Response(DictItemSerializer(items, many=True).data)
