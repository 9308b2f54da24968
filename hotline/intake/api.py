"""The citizen API for the mobile app and H5 pages (APP-1), under /api/v1/citizen/.

Citizens sign in with their phone and an SMS code and get a citizen token (`Authorization: Citizen <token>`),
which staff endpoints do not accept, as citizen endpoints accept no staff token or session. A citizen sees only
requests made with their own verified phone: anyone else's number answers 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hotline.bulletins import selectors as bulletin_selectors
from hotline.cases import services as case_services
from hotline.cases.models import Case, CaseAttachment, Channel, Rating
from hotline.common.errors import NotFound
from hotline.common.throttles import AddressRateThrottle

from . import citizen, services
from .models import ChannelKind, CitizenAccount

# --------------------------------------------------------------------------- authentication


class CitizenTokenAuthentication(BaseAuthentication):
    """`Authorization: Citizen <token>` — a citizen account's token (not a staff API token)."""

    keyword = "citizen"

    def authenticate(self, request: Request) -> tuple[Any, CitizenAccount] | None:
        parts = request.META.get("HTTP_AUTHORIZATION", "").split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2 or len(parts[1]) > 100:
            raise exceptions.AuthenticationFailed(_("令牌格式不正确"))
        account = services.citizen_token_account(parts[1])
        if account is None:
            raise exceptions.AuthenticationFailed(_("令牌无效或已过期，请重新登录"))
        return AnonymousUser(), account

    def authenticate_header(self, request: Request) -> str:
        return "Citizen"


class CitizenTokenScheme(OpenApiAuthenticationExtension):
    target_class = "hotline.intake.api.CitizenTokenAuthentication"
    name = "citizenToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Citizen <token>（手机号+短信验证码登录获得）",
        }


class IsCitizen(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, CitizenAccount)


def _account(request: Request) -> CitizenAccount:
    account = request.auth
    if not isinstance(account, CitizenAccount):
        raise exceptions.NotAuthenticated()
    return account


class CitizenAddressThrottle(AddressRateThrottle):
    scope = "citizen_api"
    rate = "120/minute"


class CitizenSubmitThrottle(AddressRateThrottle):
    scope = "citizen_submit"
    rate = "20/hour"


class CitizenCodeThrottle(AddressRateThrottle):
    scope = "citizen_code"
    rate = "10/hour"


class CitizenView(GenericAPIView):
    authentication_classes = [CitizenTokenAuthentication]
    permission_classes = [IsCitizen]
    throttle_classes = [CitizenAddressThrottle]


# --------------------------------------------------------------------------- serializers


class CitizenPhoneInput(serializers.Serializer):
    phone = serializers.RegexField(r"^1[3-9]\d{9}$", max_length=11, help_text="11位手机号码")


class CitizenLoginInput(CitizenPhoneInput):
    code = serializers.RegexField(r"^\d{6}$", max_length=6, help_text="短信验证码（6位数字）")


class CitizenLoginOutput(serializers.Serializer):
    token = serializers.CharField(help_text="请求头 Authorization: Citizen <token>")
    expires_at = serializers.DateTimeField()
    phone = serializers.CharField(help_text="已脱敏的手机号码")


class CitizenTypeOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class CitizenSubmitInput(serializers.Serializer):
    request_id = serializers.UUIDField(help_text="客户端为每次提交生成的编号：重试同一编号不会重复立案")
    type = serializers.ChoiceField(choices=list(citizen.CITIZEN_TYPES), help_text="诉求类型编码")
    title = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    content = serializers.CharField(min_length=10, max_length=5000)
    location = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    is_public = serializers.BooleanField(required=False, default=False)


class CitizenSubmitOutput(serializers.Serializer):
    number = serializers.CharField()
    query_password = serializers.CharField(
        allow_null=True, help_text="查询密码：仅首次提交时返回（公开诉求无密码）；重试时为 null"
    )
    created = serializers.BooleanField(help_text="false：同一 request_id 已提交过，返回原工单")


class CitizenPhotoOutput(serializers.ModelSerializer):
    class Meta:
        model = CaseAttachment
        fields = ["id", "name", "size", "content_type", "uploaded_at"]


class CitizenCaseSummaryOutput(serializers.Serializer):
    number = serializers.CharField()
    type = serializers.CharField(source="case_type.name")
    title = serializers.CharField()
    status = serializers.CharField()
    status_display = serializers.CharField(source="get_status_display")
    channel = serializers.CharField()
    created_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)


class CitizenCaseDetailOutput(CitizenCaseSummaryOutput):
    content = serializers.CharField()
    location = serializers.CharField()
    stage = serializers.SerializerMethodField(help_text="办理阶段（受理登记…办结）")
    reply = serializers.SerializerMethodField(help_text="办理结果/答复")
    may_rate = serializers.SerializerMethodField(help_text="现在可以评价")
    rating = serializers.CharField(source="last_rating", help_text="最近一次评价（空：未评价）")
    photos = serializers.SerializerMethodField()

    def get_stage(self, case: Case) -> str:
        index, stages = citizen.case_stage(case)
        return stages[index]

    def get_reply(self, case: Case) -> str:
        return citizen.case_reply(case)

    def get_may_rate(self, case: Case) -> bool:
        return citizen.may_rate(case)

    @extend_schema_field(CitizenPhotoOutput(many=True))
    def get_photos(self, case: Case) -> list[dict[str, Any]]:
        return list(CitizenPhotoOutput(case.attachments.all().order_by("id"), many=True).data)


class CitizenRatingInput(serializers.Serializer):
    rating = serializers.ChoiceField(choices=Rating.choices)
    words = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class CitizenPhotoInput(serializers.Serializer):
    file = serializers.FileField(help_text="照片（jpg/png/gif/webp/bmp，按内容检查）")


# --------------------------------------------------------------------------- views


class CodeApi(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [CitizenCodeThrottle]

    @extend_schema(
        summary="市民：发送登录验证码",
        request=CitizenPhoneInput,
        responses={202: inline_serializer("CitizenCodeSent", {"detail": serializers.CharField()})},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = CitizenPhoneInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.phone_code_send(phone=data.validated_data["phone"])
        return Response({"detail": _("验证码已发送")}, status=202)


class LoginApi(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [CitizenCodeThrottle]

    @extend_schema(
        summary="市民：手机号+验证码登录", request=CitizenLoginInput, responses=CitizenLoginOutput, auth=[]
    )
    def post(self, request: Request) -> Response:
        data = CitizenLoginInput(data=request.data)
        data.is_valid(raise_exception=True)
        account, key, expires = services.citizen_login(**data.validated_data)
        return Response({"token": key, "expires_at": expires, "phone": str(account)})


class LogoutApi(CitizenView):
    @extend_schema(summary="市民：退出登录（令牌作废）", request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        services.citizen_logout(key=request.META.get("HTTP_AUTHORIZATION", "").split()[-1])
        return Response(status=204)


class TypeListApi(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [CitizenAddressThrottle]

    @extend_schema(summary="市民：可选的诉求类型", responses=CitizenTypeOutput(many=True), auth=[])
    def get(self, request: Request) -> Response:
        return Response(CitizenTypeOutput(citizen.citizen_types(), many=True).data)


class AnnouncementOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(source="kind.name")
    subject = serializers.CharField()
    body = serializers.CharField()
    public_from = serializers.DateTimeField()
    public_until = serializers.DateTimeField(allow_null=True)


class AnnouncementListApi(APIView):
    """Info publishing for the app and H5 (最新公告): what the office published to the public after review, valid
    now, newest first (at most 50)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [CitizenAddressThrottle]

    @extend_schema(summary="市民：最新公告", responses=AnnouncementOutput(many=True), auth=[])
    def get(self, request: Request) -> Response:
        return Response(AnnouncementOutput(bulletin_selectors.public_announcements()[:50], many=True).data)


class AnnouncementDetailApi(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [CitizenAddressThrottle]

    @extend_schema(summary="市民：公告详情", responses=AnnouncementOutput, auth=[])
    def get(self, request: Request, pk: int) -> Response:
        try:
            item = bulletin_selectors.public_announcement_get(pk=pk)
        except NotFound as exc:
            raise exceptions.NotFound(_("公告不存在或已过期")) from exc
        return Response(AnnouncementOutput(item).data)


class RequestListApi(CitizenView):
    serializer_class = CitizenCaseSummaryOutput

    def get_throttles(self) -> list[Any]:
        throttles = super().get_throttles()
        return [*throttles, CitizenSubmitThrottle()] if self.request.method == "POST" else throttles

    @extend_schema(summary="市民：我的诉求", responses=CitizenCaseSummaryOutput(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(citizen.my_cases(phone=_account(request).phone))
        return self.get_paginated_response(CitizenCaseSummaryOutput(page, many=True).data)

    @extend_schema(
        summary="市民：提交诉求",
        request=CitizenSubmitInput,
        responses={200: CitizenSubmitOutput, 201: CitizenSubmitOutput},
    )
    def post(self, request: Request) -> Response:
        account = _account(request)
        data = CitizenSubmitInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        case_type = services.case_type(values["type"])
        if case_type is None:
            raise exceptions.ValidationError({"type": [_("该诉求类型暂不可用")]})
        result = services.channel_request_submit(
            delivery=services.Delivery(
                channel=Channel.APP,
                account="app",
                external_id=f"{account.pk}:{values['request_id']}",
                sender=account.phone,
                text=values["content"],
            ),
            data=case_services.CaseInput(
                case_type=case_type,
                content=values["content"],
                channel=Channel.APP,
                citizen_phone=account.phone,
                title=values["title"],
                location=values["location"],
                is_public=values["is_public"],
            ),
            ack_sms=account.phone,
        )
        assert result.case is not None
        body = {
            "number": result.case.number,
            "query_password": result.query_password,
            "created": result.created,
        }
        return Response(body, status=201 if result.created else 200)


def _my_case(request: Request, number: str) -> Case:
    case = citizen.my_case(phone=_account(request).phone, number=number)
    if case is None:
        raise exceptions.NotFound(_("未找到该诉求"))
    return case


class RequestDetailApi(CitizenView):
    serializer_class = CitizenCaseDetailOutput

    @extend_schema(summary="市民：诉求详情与办理进度", responses=CitizenCaseDetailOutput)
    def get(self, request: Request, number: str) -> Response:
        return Response(CitizenCaseDetailOutput(_my_case(request, number)).data)


class RequestRatingApi(CitizenView):
    serializer_class = CitizenRatingInput

    @extend_schema(
        summary="市民：评价办理结果（回访）", request=CitizenRatingInput, responses=CitizenCaseDetailOutput
    )
    def post(self, request: Request, number: str) -> Response:
        account = _account(request)
        case = _my_case(request, number)
        data = CitizenRatingInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.citizen_rate(
            case=case,
            channel=Channel.APP,
            account="app",
            sender=account.phone,
            rating=data.validated_data["rating"],
            words=data.validated_data["words"],
        )
        return Response(CitizenCaseDetailOutput(Case.objects.get(pk=case.pk)).data)


class RequestPhotoApi(CitizenView):
    serializer_class = CitizenPhotoInput
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(summary="市民：上传照片", request=CitizenPhotoInput, responses={201: CitizenPhotoOutput})
    def post(self, request: Request, number: str) -> Response:
        account = _account(request)
        case = _my_case(request, number)
        data = CitizenPhotoInput(data=request.data)
        data.is_valid(raise_exception=True)
        (photo,) = case_services.case_citizen_attach(
            case=case,
            requester=case_services.Requester(channel=Channel.APP, account="app", external_id=account.phone),
            files=[data.validated_data["file"]],
            images_only=True,
        )
        return Response(CitizenPhotoOutput(photo).data, status=201)


class CitizenChatOutput(serializers.Serializer):
    token = serializers.CharField(help_text="会话令牌（只返回一次；以下地址均凭它访问）")
    page_url = serializers.CharField()
    lines_url = serializers.CharField(help_text="GET：会话消息（?after=<id> 只取之后的）")
    send_url = serializers.CharField(help_text="POST text=…：发送一条消息")
    events_url = serializers.CharField(help_text="GET：新消息推送（text/event-stream）")
    close_url = serializers.CharField(help_text="POST：结束会话")


class ChatApi(CitizenView):
    @extend_schema(
        summary="市民：发起在线客服会话",
        description="会话进入人工客服排队；消息收发使用返回的地址（凭会话令牌访问，无需再带市民令牌）。",
        request=None,
        responses={201: CitizenChatOutput},
    )
    def post(self, request: Request) -> Response:
        from . import chat, chat_views

        phone = _account(request).phone
        _session, token = chat.chat_open(channel=ChannelKind.APP, account="app", sender=phone, phone=phone)
        return Response({"token": token, **chat_views.citizen_urls(token)}, status=201)


# --------------------------------------------------------------------------- public information (no login)


class PublicView(GenericAPIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [CitizenAddressThrottle]


class PublicCaseOutput(serializers.Serializer):
    number = serializers.CharField()
    type = serializers.CharField(allow_null=True)
    district = serializers.CharField(help_text="所在区（不显示详细地址）")
    title = serializers.CharField(help_text="已去除个人信息")
    reply = serializers.CharField(help_text="承办单位答复（已去除个人信息）")
    closed_at = serializers.DateTimeField(allow_null=True)


class PublicCaseDetailOutput(PublicCaseOutput):
    content = serializers.CharField(help_text="诉求内容（已去除个人信息）")
    created_at = serializers.DateTimeField()


class PublicCaseListApi(PublicView):
    """诉求公开: closed cases the office made public at closing, newest first, by type, with the units' replies;
    names, phone/ID numbers, e-mail and house numbers masked, the place only as its district."""

    serializer_class = PublicCaseOutput

    @extend_schema(
        summary="市民：公开诉求（按类型，含答复）",
        parameters=[OpenApiParameter("type", str, description="诉求类型编码（见 types/）", required=False)],
        responses=PublicCaseOutput(many=True),
        auth=[],
    )
    def get(self, request: Request) -> Response:
        from . import public_cases

        wanted = (request.query_params.get("type") or "")[:32]
        page = self.paginate_queryset(public_cases.public_values(type_code=wanted))
        return self.get_paginated_response(
            PublicCaseOutput(public_cases.rows(list(page or [])), many=True).data
        )


class PublicCaseDetailApi(PublicView):
    serializer_class = PublicCaseDetailOutput

    @extend_schema(summary="市民：公开诉求详情", responses=PublicCaseDetailOutput, auth=[])
    def get(self, request: Request, number: str) -> Response:
        from . import public_cases

        detail = public_cases.public_case(number)
        if detail is None:
            raise exceptions.NotFound(_("未找到该公开诉求"))
        return Response(PublicCaseDetailOutput(detail).data)


class HotTypeOutput(serializers.Serializer):
    type = serializers.CharField(allow_null=True)
    count = serializers.IntegerField()


class HotOutput(serializers.Serializer):
    pushed = PublicCaseOutput(many=True, help_text="办结时推送为热点的公开诉求")
    week = HotTypeOutput(many=True, help_text="近一周反映最多的诉求类型")
    month = HotTypeOutput(many=True, help_text="近一月反映最多的诉求类型")


class HotApi(PublicView):
    serializer_class = HotOutput

    @extend_schema(summary="市民：热点问题", responses=HotOutput, auth=[])
    def get(self, request: Request) -> Response:
        from . import public_cases

        return Response(HotOutput(public_cases.hot_data()).data)


class KnowledgeHitOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    snippet = serializers.CharField(help_text="摘要（纯文本）")
    url = serializers.CharField(help_text="门户上的知识页面")


class KnowledgeSearchOutput(serializers.Serializer):
    total = serializers.IntegerField()
    results = KnowledgeHitOutput(many=True)


class KnowledgeSearchApi(PublicView):
    serializer_class = KnowledgeSearchOutput

    @extend_schema(
        summary="市民：知识库检索（公开知识）",
        parameters=[
            OpenApiParameter("q", str, description="关键词", required=True),
            OpenApiParameter("page", int, description="页码（从1开始）", required=False),
        ],
        responses=KnowledgeSearchOutput,
        auth=[],
    )
    def get(self, request: Request) -> Response:
        from django.urls import reverse
        from django.utils.html import strip_tags

        from hotline.common.errors import ServiceError
        from hotline.knowledge import selectors as kb_selectors

        q = (request.query_params.get("q") or "").strip()[:200]
        if not q:
            raise exceptions.ValidationError({"q": [_("请输入关键词")]})
        raw_page = request.query_params.get("page") or "1"
        page = int(raw_page) if raw_page.isdigit() else 0
        if not 1 <= page <= 100:
            raise exceptions.ValidationError({"page": [_("页码为1至100")]})
        try:
            found = kb_selectors.public_search(q=q, page=page, page_size=10)
        except ServiceError as exc:
            raise exceptions.ValidationError({"q": [exc.message]}) from exc
        results = [
            {
                "id": hit.item_id,
                "title": strip_tags(hit.title_html),
                "snippet": strip_tags(hit.snippet_html),
                "url": reverse("portal-kb-item", args=[hit.item_id]),
            }
            for hit in found.hits
            if hit.item_id in found.items
        ]
        return Response(KnowledgeSearchOutput({"total": found.total, "results": results}).data)
