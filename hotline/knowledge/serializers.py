"""Input and output shapes of the knowledge-base API. No business rule lives here."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from hotline.orgs.models import Role, Unit

from . import services
from .models import Attachment, Directory, Grant, Item, ItemState, ItemVersion, Space
from .permissions import user_access

# --------------------------------------------------------------------------- input


class SpaceInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    code = serializers.CharField(max_length=32)
    description = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    owner_unit = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.all(), required=False, allow_null=True, default=None
    )


class DirectoryInput(serializers.Serializer):
    space = serializers.IntegerField()
    parent = serializers.IntegerField(required=False, allow_null=True, default=None)  # type: ignore[assignment]
    name = serializers.CharField(max_length=100)
    sort_order = serializers.IntegerField(required=False, min_value=0, default=0)


class DirectoryUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    sort_order = serializers.IntegerField(required=False, min_value=0)


class MoveDirectoryInput(serializers.Serializer):
    parent = serializers.IntegerField(allow_null=True)  # type: ignore[assignment]


class GrantInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=[("", "任何角色"), *Role.choices], required=False, default="")
    unit = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.all(), required=False, allow_null=True, default=None
    )
    include_subunits = serializers.BooleanField(required=False, default=True)
    can_read = serializers.BooleanField(required=False, default=True)
    can_edit = serializers.BooleanField(required=False, default=False)
    can_review = serializers.BooleanField(required=False, default=False)

    def to_input(self) -> services.GrantInput:
        return services.GrantInput(**self.validated_data)


class GrantsInput(serializers.Serializer):
    grants = GrantInput(many=True)

    def to_inputs(self) -> list[services.GrantInput]:
        return [services.GrantInput(**g) for g in self.validated_data["grants"]]


class ItemFieldsInput(serializers.Serializer):
    title = serializers.CharField(max_length=200, allow_blank=True)
    content = serializers.CharField(allow_blank=True, max_length=2_000_000)
    keywords = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    valid_from = serializers.DateTimeField(required=False, allow_null=True, default=None)
    valid_to = serializers.DateTimeField(required=False, allow_null=True, default=None)
    is_public = serializers.BooleanField(required=False, default=False)
    change_note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    attachments = serializers.ListField(child=serializers.FileField(), required=False, default=list)

    def to_item_input(self) -> services.ItemInput:
        data = {k: v for k, v in self.validated_data.items() if k in services.ItemInput.__dataclass_fields__}
        return services.ItemInput(**data)


class ItemCreateInput(ItemFieldsInput):
    directory = serializers.IntegerField()


class ItemUpdateInput(ItemFieldsInput):
    version = serializers.IntegerField(required=False, min_value=1, help_text="乐观锁：最新版本号")
    remove_attachments = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)


class StateActionInput(serializers.Serializer):
    action = serializers.ChoiceField(choices=list(services.STATE_ACTION_LABELS.items()))


class MoveItemInput(serializers.Serializer):
    directory = serializers.IntegerField()


class ApproveInput(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class RejectInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500, allow_blank=True)


class HelpfulInput(serializers.Serializer):
    helpful = serializers.BooleanField()


class SearchInput(serializers.Serializer):
    q = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=5000)
    directory = serializers.IntegerField(required=False, allow_null=True, default=None)
    space = serializers.IntegerField(required=False, allow_null=True, default=None)
    sort = serializers.ChoiceField(
        choices=[("relevance", "相关度"), ("views", "浏览量"), ("latest", "最新")],
        required=False,
        default="relevance",
    )
    page = serializers.IntegerField(required=False, min_value=1, default=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100, default=20)


class OpenSearchInput(serializers.Serializer):
    q = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=5000)
    space = serializers.IntegerField(required=False, allow_null=True, default=None)
    page = serializers.IntegerField(required=False, min_value=1, default=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=50, default=20)


class SuggestInput(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, max_length=20_000)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=20, default=5)


class RankingInput(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[
            ("views", "浏览最多"),
            ("latest", "最新"),
            ("favourites", "收藏最多"),
            ("helpful", "最有用"),
        ],
        required=False,
        default="views",
    )
    days = serializers.IntegerField(
        required=False, min_value=1, max_value=3660, allow_null=True, default=None
    )
    directory = serializers.IntegerField(required=False, allow_null=True, default=None)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=10)


class ItemListInput(serializers.Serializer):
    directory = serializers.IntegerField(required=False, allow_null=True, default=None)
    space = serializers.IntegerField(required=False, allow_null=True, default=None)
    scope = serializers.ChoiceField(
        choices=[("published", "已发布"), ("manage", "维护")], required=False, default="published"
    )
    state = serializers.ChoiceField(choices=ItemState.choices, required=False, default="")
    expired = serializers.BooleanField(required=False, allow_null=True, default=None)
    pending = serializers.BooleanField(required=False, allow_null=True, default=None)
    title = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    ordering = serializers.ChoiceField(
        choices=["-published_at", "published_at", "-views", "-updated_at", "title"],
        required=False,
        default="-published_at",
    )


class DaysInput(serializers.Serializer):
    days = serializers.IntegerField(required=False, min_value=1, max_value=3660, default=30)


class ImportInput(serializers.Serializer):
    file = serializers.FileField()


# --------------------------------------------------------------------------- output


class SpaceOutput(serializers.ModelSerializer):
    is_admin = serializers.SerializerMethodField()

    class Meta:
        model = Space
        fields = ["id", "name", "code", "description", "owner_unit", "is_active", "is_admin"]

    def get_is_admin(self, space: Space) -> bool:
        return user_access(self.context["request"].user).is_admin(space.pk)


class DirectoryOutput(serializers.ModelSerializer):
    rights = serializers.SerializerMethodField()
    breadcrumb = serializers.SerializerMethodField()

    class Meta:
        model = Directory
        fields = [
            "id",
            "space",
            "parent",
            "name",
            "path",
            "depth",
            "sort_order",
            "pinyin_full",
            "pinyin_initials",
            "breadcrumb",
            "rights",
        ]

    def get_rights(self, directory: Directory) -> dict[str, bool]:
        r = user_access(self.context["request"].user).of(directory.pk)
        return {"read": r.read, "edit": r.edit, "review": r.review}

    def get_breadcrumb(self, directory: Directory) -> str:
        return str(self.context.get("paths", {}).get(directory.pk, ""))


class GrantOutput(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", default="")
    role_display = serializers.CharField(source="get_role_display")

    class Meta:
        model = Grant
        fields = [
            "id",
            "role",
            "role_display",
            "unit",
            "unit_name",
            "include_subunits",
            "can_read",
            "can_edit",
            "can_review",
        ]


class KbAttachmentOutput(serializers.ModelSerializer):
    has_text = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "name", "size", "content_type", "extract_error", "has_text", "uploaded_at"]

    def get_has_text(self, attachment: Attachment) -> bool:
        return bool(attachment.text)


class ItemListOutput(serializers.ModelSerializer):
    state_display = serializers.CharField(source="get_state_display")
    directory_name = serializers.CharField(source="directory.name")
    is_published = serializers.BooleanField()

    class Meta:
        model = Item
        fields = [
            "id",
            "space",
            "directory",
            "directory_name",
            "title",
            "keywords",
            "state",
            "state_display",
            "is_published",
            "is_public",
            "valid_from",
            "valid_to",
            "published_at",
            "view_count",
            "favourite_count",
            "helpful_count",
            "unhelpful_count",
            "updated_at",
        ]


class VersionOutput(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display")
    submitted_by = serializers.CharField(source="submitted_by.__str__")
    reviewed_by = serializers.CharField(source="reviewed_by.__str__", default="")
    attachments = KbAttachmentOutput(many=True, read_only=True)
    item_title = serializers.CharField(source="item.title")

    class Meta:
        model = ItemVersion
        fields = [
            "id",
            "item",
            "item_title",
            "number",
            "title",
            "keywords",
            "content",
            "valid_from",
            "valid_to",
            "is_public",
            "change_note",
            "status",
            "status_display",
            "submitted_by",
            "submitted_at",
            "reviewed_by",
            "reviewed_at",
            "review_note",
            "attachments",
        ]


class ItemDetailOutput(ItemListOutput):
    content = serializers.CharField()
    attachments = serializers.SerializerMethodField()
    rights = serializers.SerializerMethodField()
    pending_version = serializers.SerializerMethodField()
    latest_version = serializers.SerializerMethodField()
    is_favourite = serializers.SerializerMethodField()
    my_vote = serializers.SerializerMethodField()

    class Meta(ItemListOutput.Meta):
        fields = [
            *ItemListOutput.Meta.fields,
            "content",
            "attachments",
            "rights",
            "pending_version",
            "latest_version",
            "is_favourite",
            "my_vote",
            "created_at",
        ]

    def _user(self) -> Any:
        return self.context["request"].user

    def get_attachments(self, item: Item) -> Any:
        version = item.published_version
        if version is None or self.get_rights(item)["edit"]:
            # Editors see every attachment of the latest version, with any extraction problem.
            latest = item.versions.order_by("-number").first()
            version = latest or version
        rows = version.attachments.all() if version is not None else Attachment.objects.none()
        return KbAttachmentOutput(rows, many=True).data

    def get_rights(self, item: Item) -> dict[str, bool]:
        r = user_access(self._user()).of(item.directory_id)
        return {"read": r.read, "edit": r.edit, "review": r.review}

    def get_pending_version(self, item: Item) -> int | None:
        if not (self.get_rights(item)["edit"] or self.get_rights(item)["review"]):
            return None
        return item.versions.filter(status="pending").order_by("-number").values_list("pk", flat=True).first()

    def get_latest_version(self, item: Item) -> int | None:
        return item.versions.order_by("-number").values_list("number", flat=True).first()

    def get_is_favourite(self, item: Item) -> bool:
        return item.favourites.filter(user=self._user()).exists()

    def get_my_vote(self, item: Item) -> bool | None:
        return item.votes.filter(user=self._user()).values_list("helpful", flat=True).first()


def hit_output(page: Any, hit: Any) -> dict[str, Any]:
    item = page.items.get(hit.item_id)
    return {
        "id": hit.item_id,
        "title": item.title if item else "",
        "title_html": hit.title_html,
        "snippet_html": hit.snippet_html,
        "matched": list(hit.matched),
        "score": round(hit.score, 3),
        "views": item.view_count if item else hit.views,
        "directory": hit.directory_id,
        "directory_path": page.paths.get(item.directory_id, "") if item else "",
        "published_at": item.published_at if item else None,
        "valid_to": item.valid_to if item else None,
        "is_public": item.is_public if item else None,
    }


def search_output(page: Any, *, page_number: int, page_size: int) -> dict[str, Any]:
    return {
        "count": page.total,
        "page": page_number,
        "page_size": page_size,
        "warnings": list(page.warnings),
        "results": [hit_output(page, h) for h in page.hits],
    }
