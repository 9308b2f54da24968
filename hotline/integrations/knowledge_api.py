"""The knowledge base's search for third-party systems (KB-8), served by the integrations package."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hotline.knowledge import selectors
from hotline.knowledge import serializers as s
from hotline.knowledge.api import _valid
from hotline.knowledge.auth import ApiClientAuthentication, client_of


class OpenSearchApi(APIView):
    """For third-party systems: `X-Api-Key: <prefix>.<secret>` (or `Authorization: ApiKey …`)."""

    authentication_classes = [ApiClientAuthentication]
    permission_classes = [AllowAny]

    @extend_schema(
        summary="第三方知识检索接口（按客户端密钥）",
        parameters=[s.OpenSearchInput],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        client = client_of(request)
        v = _valid(s.OpenSearchInput, request.query_params)
        page = selectors.kb_search_for_client(
            client=client, q=v["q"], space=v["space"], page=v["page"], page_size=v["page_size"]
        )
        body = s.search_output(page, page_number=v["page"], page_size=v["page_size"])
        for row in body["results"]:
            item = page.items.get(row["id"])
            row["content"] = item.content if item else ""
        return Response(body)
