from __future__ import annotations

from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitKind(models.TextChoices):
    OFFICE = "office", _("热线办")
    BUREAU = "bureau", _("职能局")
    DISTRICT = "district", _("区县")
    STREET = "street", _("街道乡镇")
    COMMUNITY = "community", _("社区村居")


class Unit(models.Model):
    """A node of the unit tree. Retired units stay for history; `path` makes subtree queries one index scan."""

    name = models.CharField(_("名称"), max_length=100)
    code = models.CharField(_("编码"), max_length=32, unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级单位"),
        null=True,
        blank=True,
        related_name="children",
        on_delete=models.PROTECT,
    )
    is_vertical = models.BooleanField(_("垂直管理"), default=False)
    path = models.CharField(_("层级路径"), max_length=255, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(_("层级"), default=1, editable=False)
    pinyin = models.CharField(_("拼音首字母"), max_length=100, blank=True, db_index=True)
    phone = models.CharField(_("联系电话"), max_length=32, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    retired_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", verbose_name=_("并入单位"), null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_city_level(self) -> bool:
        return self.parent_id is None

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part][:-1]

    def is_descendant_of(self, other: Unit) -> bool:
        return self.path.startswith(other.path) and self.pk != other.pk


class Role(models.TextChoices):
    AGENT = "agent", _("话务员")
    MONITOR = "monitor", _("班长质检")
    DISPATCHER = "dispatcher", _("派单员")
    UNIT_HANDLER = "unit_handler", _("承办人")
    UNIT_LEADER = "unit_leader", _("单位领导")
    KB_EDITOR = "kb_editor", _("知识库编辑")
    KB_REVIEWER = "kb_reviewer", _("知识库审核")
    LEADER = "leader", _("领导")
    ADMIN = "admin", _("系统管理员")


class User(AbstractUser):
    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("所属单位"),
        null=True,
        blank=True,
        related_name="users",
        on_delete=models.PROTECT,
    )
    phone = models.CharField(_("手机号"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.full_name or self.username

    @cached_property
    def role_set(self) -> frozenset[str]:
        return frozenset(self.roles.values_list("role", flat=True))

    def has_role(self, *roles: str) -> bool:
        return self.is_superuser or bool(self.role_set.intersection(roles))

    @property
    def in_office(self) -> bool:
        return self.is_superuser or (self.unit is not None and self.unit.kind == UnitKind.OFFICE)


class UserRole(models.Model):
    user = models.ForeignKey(User, verbose_name=_("用户"), related_name="roles", on_delete=models.CASCADE)
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)

    class Meta:
        verbose_name = _("用户角色")
        verbose_name_plural = _("用户角色")
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="userrole_unique")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"
