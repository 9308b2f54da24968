"""Thin API views of the knowledge base: parse, call one service or selector, render."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hotline.orgs.http import request_user as _user

from . import importexport, selectors, services
from . import serializers as s
from .models import ItemState

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP = "application/zip"


def _valid(serializer_class: type[Any], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _item_detail(request: Request, pk: int, code: int = 200) -> Response:
    item = selectors.item_get(user=_user(request), pk=pk)
    return Response(s.ItemDetailOutput(item, context={"request": request}).data, status=code)


def _directory(request: Request, directory: Any, code: int = 200) -> Response:
    paths = selectors.directory_breadcrumbs([directory])
    return Response(
        s.DirectoryOutput(directory, context={"request": request, "paths": paths}).data, status=code
    )


# --------------------------------------------------------------------------- spaces and directories


class SpaceListApi(APIView):
    @extend_schema(summary="知识空间列表", responses=s.SpaceOutput(many=True))
    def get(self, request: Request) -> Response:
        spaces = selectors.space_list(user=_user(request))
        return Response(s.SpaceOutput(spaces, many=True, context={"request": request}).data)

    @extend_schema(summary="新建知识空间（系统管理员）", request=s.SpaceInput, responses={201: s.SpaceOutput})
    def post(self, request: Request) -> Response:
        v = _valid(s.SpaceInput, request.data)
        space = services.space_create(actor=_user(request), **v)
        return Response(s.SpaceOutput(space, context={"request": request}).data, status=201)


class DirectoryListApi(APIView):
    @extend_schema(
        summary="知识目录（有查看权限的，按树序）",
        parameters=[OpenApiParameter("space", int), OpenApiParameter("parent", int)],
        responses=s.DirectoryOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        space = request.query_params.get("space")
        parent = request.query_params.get("parent")
        dirs = list(
            selectors.directory_list(
                user=_user(request),
                space=int(space) if space and space.isdigit() else None,
                parent=int(parent) if parent and parent.isdigit() else None,
            )
        )
        paths = selectors.directory_breadcrumbs(dirs)
        return Response(s.DirectoryOutput(dirs, many=True, context={"request": request, "paths": paths}).data)

    @extend_schema(summary="新建知识目录", request=s.DirectoryInput, responses={201: s.DirectoryOutput})
    def post(self, request: Request) -> Response:
        v = _valid(s.DirectoryInput, request.data)
        user = _user(request)
        space = selectors.space_get(user=user, pk=v["space"])
        parent = selectors.directory_get(user=user, pk=v["parent"]) if v["parent"] else None
        directory = services.directory_create(
            actor=user, space=space, parent=parent, name=v["name"], sort_order=v["sort_order"]
        )
        return _directory(request, directory, 201)


class DirectorySearchApi(APIView):
    @extend_schema(
        summary="按名称或拼音（全拼、首字母、模糊）查找目录",
        parameters=[OpenApiParameter("q", str), OpenApiParameter("space", int)],
        responses=s.DirectoryOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        q = request.query_params.get("q", "")[:50]
        space = request.query_params.get("space")
        dirs = selectors.directory_search(
            user=_user(request), query=q, space=int(space) if space and space.isdigit() else None
        )
        paths = selectors.directory_breadcrumbs(dirs)
        return Response(s.DirectoryOutput(dirs, many=True, context={"request": request, "paths": paths}).data)


class DirectoryDetailApi(APIView):
    @extend_schema(summary="目录详情", responses=s.DirectoryOutput)
    def get(self, request: Request, pk: int) -> Response:
        return _directory(request, selectors.directory_get(user=_user(request), pk=pk))

    @extend_schema(summary="修改目录名称或排序", request=s.DirectoryUpdateInput, responses=s.DirectoryOutput)
    def patch(self, request: Request, pk: int) -> Response:
        user = _user(request)
        directory = selectors.directory_get(user=user, pk=pk)
        v = _valid(s.DirectoryUpdateInput, request.data)
        directory = services.directory_update(actor=user, directory=directory, **v)
        return _directory(request, directory)

    @extend_schema(summary="删除空目录", responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        user = _user(request)
        services.directory_delete(actor=user, directory=selectors.directory_get(user=user, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DirectoryMoveApi(APIView):
    @extend_schema(
        summary="移动目录（连同下级目录和条目）", request=s.MoveDirectoryInput, responses=s.DirectoryOutput
    )
    def post(self, request: Request, pk: int) -> Response:
        user = _user(request)
        directory = selectors.directory_get(user=user, pk=pk)
        v = _valid(s.MoveDirectoryInput, request.data)
        parent = selectors.directory_get(user=user, pk=v["parent"]) if v["parent"] else None
        return _directory(request, services.directory_move(actor=user, directory=directory, parent=parent))


class DirectoryGrantsApi(APIView):
    @extend_schema(summary="目录本身设置的权限（下级目录继承）", responses=s.GrantOutput(many=True))
    def get(self, request: Request, pk: int) -> Response:
        directory = selectors.directory_get(user=_user(request), pk=pk)
        return Response(s.GrantOutput(directory.grants.select_related("unit"), many=True).data)

    @extend_schema(
        summary="设置目录权限（知识库管理员）", request=s.GrantsInput, responses=s.GrantOutput(many=True)
    )
    def put(self, request: Request, pk: int) -> Response:
        user = _user(request)
        directory = selectors.directory_get(user=user, pk=pk)
        data = s.GrantsInput(data=request.data)
        data.is_valid(raise_exception=True)
        rows = services.directory_set_grants(actor=user, directory=directory, grants=data.to_inputs())
        return Response(s.GrantOutput(rows, many=True).data)


class DirectoryExportApi(APIView):
    @extend_schema(summary="导出目录（含下级）中可查看的条目为Excel", responses={(200, XLSX): bytes})
    def get(self, request: Request, pk: int) -> HttpResponse:
        user = _user(request)
        directory = selectors.directory_get(user=user, pk=pk)
        content = importexport.directory_export(user=user, directory=directory)
        response = HttpResponse(content, content_type=XLSX)
        stamp = timezone.localtime().strftime("%Y%m%d")
        response["Content-Disposition"] = f"attachment; filename=kb-{directory.pk}-{stamp}.xlsx"
        return response


def _import_report(report: importexport.ImportReport) -> Response:
    return Response(
        {
            "created": report.created,
            "published": report.published,
            "pending": report.pending,
            "directories_created": report.directories_created,
        },
        status=201,
    )


class DirectoryImportApi(APIView):
    @extend_schema(
        summary="从Excel批量导入条目（按审核规则提交或发布；有错则全部不导入）",
        request={"multipart/form-data": s.ImportInput},
        responses={201: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, pk: int) -> Response:
        user = _user(request)
        directory = selectors.directory_get(user=user, pk=pk)
        v = _valid(s.ImportInput, request.data)
        return _import_report(importexport.directory_import(actor=user, directory=directory, file=v["file"]))


class DirectoryExportZipApi(APIView):
    @extend_schema(
        summary="导出目录（含下级）中可查看的条目及其附件为ZIP（items.xlsx + attachments/编号/文件）",
        responses={(200, ZIP): bytes},
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        user = _user(request)
        directory = selectors.directory_get(user=user, pk=pk)
        content = importexport.directory_export_zip(user=user, directory=directory)
        response = HttpResponse(content, content_type=ZIP)
        stamp = timezone.localtime().strftime("%Y%m%d")
        response["Content-Disposition"] = f"attachment; filename=kb-{directory.pk}-{stamp}.zip"
        return response


class DirectoryImportZipApi(APIView):
    @extend_schema(
        summary="从ZIP（items.xlsx + 附件文件）批量导入条目及附件（有错则全部不导入）",
        request={"multipart/form-data": s.ImportInput},
        responses={201: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, pk: int) -> Response:
        user = _user(request)
        directory = selectors.directory_get(user=user, pk=pk)
        v = _valid(s.ImportInput, request.data)
        return _import_report(
            importexport.directory_import_zip(actor=user, directory=directory, file=v["file"])
        )


class DirectoryStatsApi(APIView):
    @extend_schema(summary="目录（含下级）浏览统计", parameters=[s.DaysInput], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int) -> Response:
        user = _user(request)
        directory = selectors.directory_get(user=user, pk=pk)
        v = _valid(s.DaysInput, request.query_params)
        return Response(selectors.directory_stats(user=user, directory=directory, days=v["days"]))


# --------------------------------------------------------------------------- items


class ItemListCreateApi(GenericAPIView):
    serializer_class = s.ItemListOutput

    @extend_schema(
        summary="知识条目列表", parameters=[s.ItemListInput], responses=s.ItemListOutput(many=True)
    )
    def get(self, request: Request) -> Response:
        v = _valid(s.ItemListInput, request.query_params)
        qs = selectors.item_list(user=_user(request), filters=selectors.ItemFilters(**v))
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(s.ItemListOutput(page, many=True).data)

    @extend_schema(
        summary="新建知识条目（提交审核；有审核权限者直接发布）",
        request=s.ItemCreateInput,
        responses={201: s.ItemDetailOutput},
    )
    def post(self, request: Request) -> Response:
        user = _user(request)
        data = s.ItemCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        directory = selectors.directory_get(user=user, pk=data.validated_data["directory"])
        item = services.item_create(
            actor=user,
            directory=directory,
            data=data.to_item_input(),
            attachments=data.validated_data["attachments"],
        )
        return _item_detail(request, item.pk, 201)


class ItemDetailApi(APIView):
    @extend_schema(summary="知识条目详情（记一次浏览）", responses=s.ItemDetailOutput)
    def get(self, request: Request, pk: int) -> Response:
        user = _user(request)
        item = selectors.item_get(user=user, pk=pk)
        if item.is_published and item.state == ItemState.NORMAL:
            services.item_record_view(user=user, item=item)
        return _item_detail(request, pk)

    @extend_schema(summary="提交修改（审核通过后生效）", request=s.ItemUpdateInput, responses=s.VersionOutput)
    def patch(self, request: Request, pk: int) -> Response:
        user = _user(request)
        item = selectors.item_get(user=user, pk=pk)
        current = {
            "title": item.title,
            "content": item.content,
            "keywords": item.keywords,
            "valid_from": item.valid_from,
            "valid_to": item.valid_to,
            "is_public": item.is_public,
        }
        latest = item.versions.order_by("-number").first()
        if latest is not None:
            current.update({k: getattr(latest, k) for k in current})
        changes = request.data.dict() if hasattr(request.data, "dict") else dict(request.data)
        if hasattr(request.data, "getlist"):
            for name in ("attachments", "remove_attachments"):
                if name in request.data:
                    changes[name] = request.data.getlist(name)
        data = s.ItemUpdateInput(data={**current, **changes})
        data.is_valid(raise_exception=True)
        version = services.item_update(
            actor=user,
            item=item,
            data=data.to_item_input(),
            attachments=data.validated_data["attachments"],
            remove_attachments=data.validated_data["remove_attachments"],
            expected_version=data.validated_data.get("version"),
        )
        return Response(s.VersionOutput(version).data)


class ItemStateApi(APIView):
    @extend_schema(
        summary="暂停、恢复、归档、移入回收站、还原、彻底删除",
        request=s.StateActionInput,
        responses=s.ItemDetailOutput,
    )
    def post(self, request: Request, pk: int) -> Response:
        user = _user(request)
        item = selectors.item_get(user=user, pk=pk)
        v = _valid(s.StateActionInput, request.data)
        services.item_change_state(actor=user, item=item, action=v["action"])
        return _item_detail(request, pk)


class ItemMoveApi(APIView):
    @extend_schema(summary="移动条目到其他目录", request=s.MoveItemInput, responses=s.ItemDetailOutput)
    def post(self, request: Request, pk: int) -> Response:
        user = _user(request)
        item = selectors.item_get(user=user, pk=pk)
        v = _valid(s.MoveItemInput, request.data)
        directory = selectors.directory_get(user=user, pk=v["directory"])
        services.item_move(actor=user, item=item, directory=directory)
        return _item_detail(request, pk)


class ItemVersionsApi(APIView):
    @extend_schema(summary="版本历史", responses=s.VersionOutput(many=True))
    def get(self, request: Request, pk: int) -> Response:
        user = _user(request)
        item = selectors.item_get(user=user, pk=pk)
        return Response(s.VersionOutput(selectors.item_versions(user=user, item=item), many=True).data)


class ItemFavouriteApi(APIView):
    @extend_schema(summary="收藏", request=None, responses={204: None})
    def post(self, request: Request, pk: int) -> Response:
        user = _user(request)
        services.favourite_add(user=user, item=selectors.item_get(user=user, pk=pk))
        return Response(status=204)

    @extend_schema(summary="取消收藏", responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        user = _user(request)
        services.favourite_remove(user=user, item=selectors.item_get(user=user, pk=pk))
        return Response(status=204)


class ItemHelpfulApi(APIView):
    @extend_schema(summary="“是否有帮助”评价", request=s.HelpfulInput, responses={204: None})
    def post(self, request: Request, pk: int) -> Response:
        user = _user(request)
        item = selectors.item_get(user=user, pk=pk)
        v = _valid(s.HelpfulInput, request.data)
        services.helpful_vote(user=user, item=item, helpful=v["helpful"])
        return Response(status=204)


class ItemStatsApi(APIView):
    @extend_schema(summary="条目浏览统计", parameters=[s.DaysInput], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int) -> Response:
        item = selectors.item_get(user=_user(request), pk=pk)
        v = _valid(s.DaysInput, request.query_params)
        return Response(selectors.item_stats(item=item, days=v["days"]))


class AttachmentDownloadApi(APIView):
    @extend_schema(summary="下载附件", responses={(200, "application/octet-stream"): bytes})
    def get(self, request: Request, pk: int) -> FileResponse:
        attachment = selectors.attachment_get(user=_user(request), pk=pk)
        return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)


# --------------------------------------------------------------------------- review


class ReviewQueueApi(GenericAPIView):
    serializer_class = s.VersionOutput

    @extend_schema(summary="待我审核的修改", responses=s.VersionOutput(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.review_queue(user=_user(request)))
        return self.get_paginated_response(s.VersionOutput(page, many=True).data)


class MySubmissionsApi(GenericAPIView):
    serializer_class = s.VersionOutput

    @extend_schema(summary="我提交的修改（含退回原因）", responses=s.VersionOutput(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.my_submissions(user=_user(request)))
        return self.get_paginated_response(s.VersionOutput(page, many=True).data)


class VersionDetailApi(APIView):
    @extend_schema(summary="版本详情", responses=s.VersionOutput)
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.VersionOutput(selectors.version_get(user=_user(request), pk=pk)).data)


class VersionApproveApi(APIView):
    @extend_schema(summary="审核通过并发布", request=s.ApproveInput, responses=s.VersionOutput)
    def post(self, request: Request, pk: int) -> Response:
        user = _user(request)
        version = selectors.version_get(user=user, pk=pk)
        v = _valid(s.ApproveInput, request.data)
        return Response(
            s.VersionOutput(services.version_approve(actor=user, version=version, note=v["note"])).data
        )


class VersionRejectApi(APIView):
    @extend_schema(summary="退回修改（须填写原因）", request=s.RejectInput, responses=s.VersionOutput)
    def post(self, request: Request, pk: int) -> Response:
        user = _user(request)
        version = selectors.version_get(user=user, pk=pk)
        v = _valid(s.RejectInput, request.data)
        return Response(
            s.VersionOutput(services.version_reject(actor=user, version=version, reason=v["reason"])).data
        )


# --------------------------------------------------------------------------- search, habits


class SearchApi(APIView):
    @extend_schema(
        summary="知识检索：空格=并且；OR、-、——、“ 或 ”=或者；可限定目录（含下级）；按相关度或浏览量排序。"
        "精确结果少于3条时，related 给出按分词和同义词找到的相关结果",
        parameters=[s.SearchInput],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        v = _valid(s.SearchInput, request.query_params)
        page = selectors.kb_search(
            user=_user(request),
            q=v["q"],
            directory=v["directory"],
            space=v["space"],
            sort=v["sort"],
            page=v["page"],
            page_size=v["page_size"],
        )
        out = s.search_output(page, page_number=v["page"], page_size=v["page_size"])
        out["related"] = []
        if v["page"] == 1 and page.total < selectors.RELATED_BELOW:
            related = selectors.related_search(
                user=_user(request),
                q=v["q"],
                exclude=[hit.item_id for hit in page.hits],
                directory=v["directory"],
                space=v["space"],
            )
            out["related"] = s.search_output(related, page_number=1, page_size=selectors.RELATED_LIMIT)[
                "results"
            ]
        return Response(out)


class SuggestApi(APIView):
    @extend_schema(
        summary="受理页侧栏：按正在录入的诉求内容推荐知识",
        request=s.SuggestInput,
        responses=OpenApiTypes.OBJECT,
    )
    def post(self, request: Request) -> Response:
        v = _valid(s.SuggestInput, request.data)
        page = selectors.suggest_for_text(user=_user(request), text=v["text"], limit=v["limit"])
        return Response(s.search_output(page, page_number=1, page_size=v["limit"]))


class FavouriteListApi(GenericAPIView):
    serializer_class = s.ItemListOutput

    @extend_schema(summary="我的收藏", responses=s.ItemListOutput(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.favourite_list(user=_user(request))) or []
        return self.get_paginated_response(s.ItemListOutput([f.item for f in page], many=True).data)


class RankingOutput(s.ItemListOutput):
    """An item of a ranking with its figure (views, favourites or helpful votes)."""

    figure = serializers.IntegerField(help_text="排行依据的数值（浏览、收藏、有用次数；最新为0）")

    class Meta(s.ItemListOutput.Meta):
        fields = [*s.ItemListOutput.Meta.fields, "figure"]


class RankingApi(APIView):
    @extend_schema(
        summary="排行：浏览最多（可选近N天）、最新、收藏最多、最有用",
        parameters=[s.RankingInput],
        responses=RankingOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        v = _valid(s.RankingInput, request.query_params)
        rows = selectors.rankings(user=_user(request), **v)
        return Response([{**s.ItemListOutput(item).data, "figure": figure} for item, figure in rows])
