"""The knowledge base's search for third-party systems (KB-8), served to partners holding `knowledge:read`.

A partner calls it signed like every partner endpoint, or with its issued key (`X-Api-Key: <prefix>.<secret>` or
`Authorization: ApiKey …`, as the knowledge base's own clients did before they became partners). Either way the
partner's address allowlist, per-minute limit and call log apply; it searches the spaces set on the partner, public
items only unless the partner is allowed more.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request

from hotline.knowledge import selectors
from hotline.knowledge import serializers as s

from .auth import PartnerKeyOrSignatureAuthentication, signed_call_of
from .models import Partner
from .partner_api import REFUSALS, PartnerApiView


class PartnerKnowledgeSearchApi(PartnerApiView):
    authentication_classes = [PartnerKeyOrSignatureAuthentication]
    required_scope = Partner.Scope.KNOWLEDGE_READ

    @extend_schema(
        operation_id="partner_knowledge_search",
        summary="第三方知识检索接口（接入系统，需“检索知识库”授权）",
        parameters=[s.OpenSearchInput],
        responses={
            200: OpenApiTypes.OBJECT,
            **REFUSALS,
            401: OpenApiResponse(description="bad_api_key, or a signed request's reason codes"),
        },
        tags=["partners"],
    )
    def get(self, request: Request) -> Any:
        partner = signed_call_of(request).partner
        query = s.OpenSearchInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        v = query.validated_data
        page = selectors.kb_search_external(
            space_ids=list(partner.knowledge_spaces.values_list("pk", flat=True)),
            public_only=partner.knowledge_public_only,
            q=v["q"],
            space=v["space"],
            page=v["page"],
            page_size=v["page_size"],
        )
        body = s.search_output(page, page_number=v["page"], page_size=v["page_size"])
        for row in body["results"]:
            item = page.items.get(row["id"])
            row["content"] = item.content if item else ""
        return self.partner_response(request, body)
