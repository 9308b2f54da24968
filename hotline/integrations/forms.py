from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hotline.knowledge.models import Space
from hotline.orgs.models import Unit

from .models import Partner, Subscription


class PartnerForm(forms.Form):
    code = forms.CharField(label=_("接入代码"), max_length=40)
    name = forms.CharField(label=_("名称"), max_length=100)
    kind = forms.ChoiceField(label=_("类型"), choices=Partner.Kind.choices)
    unit = forms.ModelChoiceField(
        label=_("对应单位"),
        queryset=Unit.objects.filter(is_active=True).order_by("path"),
        required=False,
        help_text=_("委办局系统必填：它只能收到派给该单位（及下级）的诉求"),
    )
    sign_method = forms.ChoiceField(label=_("签名算法"), choices=Partner.SignMethod.choices)
    encryption = forms.ChoiceField(label=_("报文加密"), choices=Partner.Encryption.choices)
    accept_legacy_cipher = forms.BooleanField(
        label=_("我确认对方系统只能使用 DES（不安全的遗留算法）"), required=False
    )
    allowed_networks = forms.CharField(
        label=_("来源地址白名单"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("每行一个 IP 或 CIDR；留空不限"),
    )
    scopes = forms.MultipleChoiceField(
        label=_("授权范围"),
        choices=Partner.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[Partner.Scope.PING],
    )
    rate_per_minute = forms.IntegerField(
        label=_("每分钟请求上限"), min_value=1, max_value=100_000, initial=600
    )
    knowledge_spaces = forms.ModelMultipleChoiceField(
        label=_("可检索的知识空间"),
        queryset=Space.objects.filter(is_active=True).order_by("pk"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("授权“检索知识库”时：可检索哪些知识空间"),
    )
    knowledge_public_only = forms.BooleanField(label=_("仅检索公开条目"), required=False, initial=True)


class PartnerEditForm(forms.Form):
    """What may change on a registered partner (see services.partner_update)."""

    name = PartnerForm.base_fields["name"]
    allowed_networks = PartnerForm.base_fields["allowed_networks"]
    scopes = PartnerForm.base_fields["scopes"]
    rate_per_minute = PartnerForm.base_fields["rate_per_minute"]
    knowledge_spaces = PartnerForm.base_fields["knowledge_spaces"]
    knowledge_public_only = PartnerForm.base_fields["knowledge_public_only"]


class SubscriptionForm(forms.Form):
    url = forms.URLField(label=_("推送地址"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("订阅事件"), choices=Subscription.Event.choices, widget=forms.CheckboxSelectMultiple
    )


class BaseDataImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("数据类别"), choices=[])
    file = forms.FileField(label=_("文件（.xlsx 或 .csv）"))
    dry_run = forms.BooleanField(label=_("试导入（只检查，不保存）"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from .basedata import KINDS

        super().__init__(*args, **kwargs)
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = [(k.code, k.label) for k in KINDS.values()]
