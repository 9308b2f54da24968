from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hotline.orgs.models import Unit

from .models import BulletinKind


class BulletinForm(forms.Form):
    kind = forms.ModelChoiceField(label=_("类型"), queryset=BulletinKind.objects.filter(is_active=True))
    subject = forms.CharField(label=_("标题"), max_length=200)
    units = forms.ModelMultipleChoiceField(
        label=_("收件单位"), required=False, queryset=Unit.objects.filter(is_active=True).order_by("path"),
        widget=forms.SelectMultiple(attrs={"size": 10, "class": "form-select", "data-testid": "bulletin-units"}),
        help_text=_("按住 Ctrl 多选；发给超过 %(n)s 个单位的公告须经热线办领导审核"),
    )  # fmt: skip
    body = forms.CharField(
        label=_("正文"), required=False, max_length=50_000, widget=forms.Textarea(attrs={"rows": 10})
    )
    is_public = forms.BooleanField(
        label=_("对公众发布（市民门户“最新公告”，须经他人审核）"), required=False,
        widget=forms.CheckboxInput(attrs={"data-testid": "bulletin-public"}),
    )  # fmt: skip
    public_from = forms.DateTimeField(
        label=_("公开起始时间"), required=False, help_text=_("留空：审核通过即公开"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )  # fmt: skip
    public_until = forms.DateTimeField(
        label=_("公开截止时间"), required=False, help_text=_("留空：长期有效"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )  # fmt: skip
