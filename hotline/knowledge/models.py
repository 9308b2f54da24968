"""Knowledge base (KB-1..8): spaces, a directory tree with permissions, reviewed and versioned items."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hotline.orgs.models import Role, Unit

MAX_DEPTH = 7


class Space(models.Model):
    """A knowledge space (tenant, KB-7): maintained independently, searchable together where permitted."""

    name = models.CharField(_("名称"), max_length=100)
    code = models.CharField(_("编码"), max_length=32, unique=True)
    description = models.CharField(_("说明"), max_length=255, blank=True)
    owner_unit = models.ForeignKey(
        Unit, verbose_name=_("主管单位"), null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    admins = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("知识库管理员"), blank=True, related_name="kb_spaces"
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("知识空间")
        verbose_name_plural = _("知识空间")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Directory(models.Model):
    """A node of a space's directory tree (at most MAX_DEPTH levels); `path` is `/id/id/…/`."""

    space = models.ForeignKey(
        Space, verbose_name=_("知识空间"), related_name="directories", on_delete=models.PROTECT
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级目录"),
        null=True,
        blank=True,
        related_name="children",
        on_delete=models.PROTECT,
    )
    name = models.CharField(_("名称"), max_length=100)
    path = models.CharField(_("层级路径"), max_length=255, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(_("层级"), default=1, editable=False)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    pinyin_full = models.CharField(_("全拼"), max_length=400, blank=True, db_index=True)
    pinyin_initials = models.CharField(_("拼音首字母"), max_length=100, blank=True, db_index=True)
    pinyin_syllables = models.CharField(_("拼音音节"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("知识目录")
        verbose_name_plural = _("知识目录")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    @property
    def ancestor_ids(self) -> list[int]:
        """This directory and every directory above it, top first."""
        return [int(part) for part in self.path.strip("/").split("/") if part]


class Grant(models.Model):
    """Rights on a directory for the users matching it, inherited by every sub-directory (KB-4).

    A grant names a role, a unit (with or without its sub-units), both, or neither (every user). A grant
    below for the same role/unit replaces the inherited one, so rights can be widened or taken away there.
    """

    directory = models.ForeignKey(
        Directory, verbose_name=_("目录"), related_name="grants", on_delete=models.CASCADE
    )
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices, blank=True)
    unit = models.ForeignKey(
        Unit, verbose_name=_("单位"), null=True, blank=True, related_name="+", on_delete=models.CASCADE
    )
    include_subunits = models.BooleanField(_("含下级单位"), default=True)
    can_read = models.BooleanField(_("查看"), default=True)
    can_edit = models.BooleanField(_("编辑"), default=False)
    can_review = models.BooleanField(_("审核"), default=False)

    class Meta:
        verbose_name = _("目录权限")
        verbose_name_plural = _("目录权限")
        ordering = ["directory", "id"]

    def __str__(self) -> str:
        return f"{self.directory} · {self.role or '*'} · {self.unit or '*'}"

    @property
    def key(self) -> tuple[str, int | None, bool]:
        return (self.role, self.unit_id, self.include_subunits if self.unit_id else True)


class ItemState(models.TextChoices):
    NORMAL = "normal", _("正常")
    PAUSED = "paused", _("暂停")
    ARCHIVED = "archived", _("归档")
    RECYCLED = "recycled", _("回收站")
    DELETED = "deleted", _("已删除")


class Item(models.Model):
    """A knowledge item. The title/content fields hold the published version; changes wait in versions."""

    space = models.ForeignKey(
        Space, verbose_name=_("知识空间"), related_name="items", on_delete=models.PROTECT
    )
    directory = models.ForeignKey(
        Directory, verbose_name=_("目录"), related_name="items", on_delete=models.PROTECT
    )
    state = models.CharField(_("状态"), max_length=16, choices=ItemState.choices, default=ItemState.NORMAL)
    state_before = models.CharField(
        _("移入回收站前状态"), max_length=16, choices=ItemState.choices, blank=True
    )
    published_version = models.ForeignKey(
        "ItemVersion",
        verbose_name=_("已发布版本"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    title = models.CharField(_("标题"), max_length=200)
    keywords = models.CharField(_("关键词"), max_length=200, blank=True)
    content = models.TextField(_("内容"))
    content_text = models.TextField(_("内容纯文本"), blank=True)
    valid_from = models.DateTimeField(_("生效时间"), null=True, blank=True)
    valid_to = models.DateTimeField(_("失效时间"), null=True, blank=True)
    is_public = models.BooleanField(_("公开"), default=False)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True, db_index=True)
    view_count = models.PositiveIntegerField(_("浏览次数"), default=0, db_index=True)
    favourite_count = models.PositiveIntegerField(_("收藏次数"), default=0)
    helpful_count = models.PositiveIntegerField(_("有用"), default=0)
    unhelpful_count = models.PositiveIntegerField(_("无用"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), related_name="+", on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("知识条目")
        verbose_name_plural = _("知识条目")
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["directory", "state"], name="kb_item_dir_state_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_published(self) -> bool:
        return self.published_version_id is not None


class Attachment(models.Model):
    """A file of an item (Word, Excel, TXT, PDF, HTML) with its extracted text, or why it has none."""

    item = models.ForeignKey(
        Item, verbose_name=_("知识条目"), related_name="attachments", on_delete=models.CASCADE
    )
    file = models.FileField(_("文件"), upload_to="kb/%Y/%m/")
    name = models.CharField(_("文件名"), max_length=200)
    size = models.PositiveIntegerField(_("大小"))
    content_type = models.CharField(_("类型"), max_length=100, blank=True)
    text = models.TextField(_("提取的文本"), blank=True)
    extract_error = models.CharField(_("解析问题"), max_length=300, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), related_name="+", on_delete=models.PROTECT
    )
    uploaded_at = models.DateTimeField(_("上传时间"))

    class Meta:
        verbose_name = _("知识附件")
        verbose_name_plural = _("知识附件")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class VersionStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已发布")
    REJECTED = "rejected", _("已退回")
    SUPERSEDED = "superseded", _("已被新修改取代")


class ItemVersion(models.Model):
    """One submitted state of an item: the version history, and the unit of review (KB-2)."""

    item = models.ForeignKey(
        Item, verbose_name=_("知识条目"), related_name="versions", on_delete=models.CASCADE
    )
    number = models.PositiveIntegerField(_("版本号"))
    title = models.CharField(_("标题"), max_length=200)
    keywords = models.CharField(_("关键词"), max_length=200, blank=True)
    content = models.TextField(_("内容"))
    content_text = models.TextField(_("内容纯文本"), blank=True)
    valid_from = models.DateTimeField(_("生效时间"), null=True, blank=True)
    valid_to = models.DateTimeField(_("失效时间"), null=True, blank=True)
    is_public = models.BooleanField(_("公开"), default=False)
    attachments = models.ManyToManyField(
        Attachment, verbose_name=_("附件"), blank=True, related_name="versions"
    )
    change_note = models.CharField(_("修改说明"), max_length=255, blank=True)
    status = models.CharField(_("审核状态"), max_length=16, choices=VersionStatus.choices)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("提交人"), related_name="+", on_delete=models.PROTECT
    )
    submitted_at = models.DateTimeField(_("提交时间"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_note = models.CharField(_("审核意见"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("知识版本")
        verbose_name_plural = _("知识版本")
        ordering = ["item", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="kb_version_item_number_unique")
        ]
        indexes = [models.Index(fields=["status", "submitted_at"], name="kb_version_status_idx")]

    def __str__(self) -> str:
        return f"{self.item_id} v{self.number}"


class Favourite(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        related_name="kb_favourites",
        on_delete=models.CASCADE,
    )
    item = models.ForeignKey(
        Item, verbose_name=_("知识条目"), related_name="favourites", on_delete=models.CASCADE
    )
    created_at = models.DateTimeField(_("收藏时间"))

    class Meta:
        verbose_name = _("知识收藏")
        verbose_name_plural = _("知识收藏")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "item"], name="kb_favourite_unique")]


class HelpfulVote(models.Model):
    """An agent's "was this helpful" answer; one per user and item, changeable."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), related_name="+", on_delete=models.CASCADE
    )
    item = models.ForeignKey(Item, verbose_name=_("知识条目"), related_name="votes", on_delete=models.CASCADE)
    helpful = models.BooleanField(_("有用"))
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("有用评价")
        verbose_name_plural = _("有用评价")
        constraints = [models.UniqueConstraint(fields=["user", "item"], name="kb_vote_unique")]


class ViewDay(models.Model):
    """Views of an item on one day: rankings by period and statistics per item and directory (KB-6)."""

    item = models.ForeignKey(
        Item, verbose_name=_("知识条目"), related_name="view_days", on_delete=models.CASCADE
    )
    day = models.DateField(_("日期"))
    count = models.PositiveIntegerField(_("浏览次数"), default=0)

    class Meta:
        verbose_name = _("每日浏览")
        verbose_name_plural = _("每日浏览")
        constraints = [models.UniqueConstraint(fields=["item", "day"], name="kb_viewday_unique")]
        indexes = [models.Index(fields=["day", "item"], name="kb_viewday_day_idx")]


class SynonymGroup(models.Model):
    """Words a caller may use for the same thing (`掉了, 丢失, 遗失`): the related-results search of the
    staff search looks for every word of a group when the query contains one. Edited by administrators."""

    words = models.CharField(
        _("同义词"),
        max_length=500,
        help_text=_("用逗号、顿号或空格分隔，至少两个词；单字词只用于触发本组，检索时只用两字以上的词"),
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("同义词组")
        verbose_name_plural = _("同义词组")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.words

    @property
    def word_list(self) -> list[str]:
        from .text import split_words

        return split_words(self.words)
