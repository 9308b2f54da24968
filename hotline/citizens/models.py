from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from hotline.common import crypto


class Gender(models.TextChoices):
    UNKNOWN = "", _("未知")
    MALE = "male", _("男")
    FEMALE = "female", _("女")


class CitizenLevel(models.TextChoices):
    NORMAL = "normal", _("普通")
    VIP = "vip", _("重点")
    SENSITIVE = "sensitive", _("敏感")


class Citizen(models.Model):
    """A citizen profile. The full profile screens arrive with the citizen-records issue."""

    name = models.CharField(_("姓名"), max_length=50, blank=True)
    gender = models.CharField(_("性别"), max_length=8, choices=Gender.choices, blank=True)
    phone = models.CharField(_("电话"), max_length=20, db_index=True, blank=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    work_unit = models.CharField(_("工作单位"), max_length=100, blank=True)
    post_code = models.CharField(_("邮编"), max_length=6, blank=True)
    id_card_encrypted = models.TextField(_("身份证号（加密）"), blank=True, editable=False)
    id_card_hash = models.CharField(
        _("身份证号检索值"), max_length=64, blank=True, db_index=True, editable=False
    )
    level = models.CharField(
        _("级别"), max_length=16, choices=CitizenLevel.choices, default=CitizenLevel.NORMAL
    )
    notes = models.TextField(_("备注"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("市民")
        verbose_name_plural = _("市民")

    def __str__(self) -> str:
        return self.name or self.phone

    @property
    def id_card(self) -> str:
        return crypto.decrypt(self.id_card_encrypted)

    def set_id_card(self, value: str) -> None:
        value = value.strip().upper()
        self.id_card_encrypted = crypto.encrypt(value)
        self.id_card_hash = crypto.lookup_hash(value)
