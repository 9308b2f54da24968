"""HTML forms of the workbench. They only parse and render; the services decide."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hotline.common.models import DictItem, DictKind
from hotline.orgs.models import Unit, UnitKind

from .lifecycle import Action
from .models import Channel
from .services import CaseInput

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise


def dict_choice(kind: str, label: str | _StrPromise, *, required: bool = False) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=DictItem.objects.filter(kind=kind, is_active=True),
        to_field_name="code",
        label=label,
        required=required,
        empty_label=_("——请选择——"),
    )


class PinyinUnitSelect(forms.Select):
    """A unit select whose options carry the unit's pinyin initials, for the page's type-to-filter box."""

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(*args, **kwargs)
        unit = getattr(option["value"], "instance", None)
        if unit is not None:
            option["attrs"]["data-pinyin"] = unit.pinyin
        return option


class IntakeForm(forms.Form):
    citizen_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    citizen_name = forms.CharField(label=_("姓名"), max_length=50, required=False)
    citizen_gender = forms.ChoiceField(
        label=_("性别"), choices=[("", _("未知")), ("male", _("男")), ("female", _("女"))], required=False
    )
    citizen_id_card = forms.CharField(label=_("身份证号"), max_length=18, required=False)
    citizen_email = forms.EmailField(label=_("电子邮箱"), required=False)
    citizen_address = forms.CharField(label=_("联系地址"), max_length=200, required=False)
    citizen_work_unit = forms.CharField(label=_("工作单位"), max_length=100, required=False)
    citizen_post_code = forms.CharField(label=_("邮编"), max_length=6, required=False)
    citizen_notes = forms.CharField(label=_("来电人备注"), max_length=200, required=False)
    channel = forms.ChoiceField(label=_("来源渠道"), choices=Channel.choices, initial=Channel.PHONE)
    case_type = dict_choice(DictKind.CASE_TYPE, _("诉求类型"), required=True)
    nature = dict_choice(DictKind.NATURE, _("性质分类"))
    urgency = dict_choice(DictKind.URGENCY, _("紧急程度"))
    secrecy = dict_choice(DictKind.SECRECY, _("保密等级"))
    bureau = forms.ModelChoiceField(
        queryset=Unit.objects.filter(kind=UnitKind.BUREAU, is_active=True, parent__isnull=True),
        label=_("职能局"),
        required=False,
        empty_label=_("——请选择——"),
    )
    location_unit = forms.ModelChoiceField(
        queryset=Unit.objects.filter(
            is_active=True, kind__in=[UnitKind.DISTRICT, UnitKind.STREET, UnitKind.COMMUNITY]
        ).order_by("path"),
        label=_("事发地所属区域"),
        required=False,
        empty_label=_("——请选择——"),
    )
    location = forms.CharField(label=_("事发地点"), max_length=200, required=False)
    title = forms.CharField(label=_("标题"), max_length=100, required=False)
    content = forms.CharField(label=_("诉求内容"), widget=forms.Textarea(attrs={"rows": 6}), required=False)
    keywords = forms.CharField(label=_("关键词"), max_length=200, required=False)
    is_typical_recording = forms.BooleanField(label=_("典型录音"), required=False)
    is_public = forms.BooleanField(label=_("同意公开"), required=False)
    answer = forms.CharField(
        label=_("答复内容（解决归档时填写）"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    not_accepted_reason = dict_choice(DictKind.NOT_ACCEPTED_REASON, _("不予受理原因"))
    not_accepted_text = forms.CharField(label=_("不予受理说明"), required=False)
    sms_template = forms.ChoiceField(label=_("短信告知来电人"), required=False, choices=[])
    action = forms.ChoiceField(
        choices=[
            (a, Action(a).label)
            for a in (Action.SUBMIT, Action.SAVE_DRAFT, Action.ARCHIVE, Action.PROPOSE_NOT_ACCEPTED)
        ],
        initial=Action.SUBMIT,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from hotline.notify.services import citizen_templates

        self.fields["sms_template"].choices = [("", _("不发送"))] + [  # type: ignore[attr-defined]
            (t.code, t.name) for t in citizen_templates()
        ]
        for field in self.fields.values():
            widget = field.widget
            css = (
                "form-check-input"
                if isinstance(widget, forms.CheckboxInput)
                else ("form-select" if isinstance(widget, forms.Select) else "form-control")
            )
            widget.attrs["class"] = css
        self.fields["citizen_phone"].widget.attrs.update({"autofocus": True, "inputmode": "tel"})
        area = self.fields["location_unit"]
        area.widget = PinyinUnitSelect(attrs=area.widget.attrs)
        area.widget.choices = area.choices  # type: ignore[attr-defined]
        self.fields["location_unit"].label_from_instance = lambda u: "　" * (u.depth - 1) + u.name  # type: ignore[attr-defined]

    def extra_values(self) -> dict[str, Any]:
        """Extended fields arrive as `extra.<key>` inputs."""
        return {
            k.removeprefix("extra."): v for k, v in self.data.items() if k.startswith("extra.") and v != ""
        }

    def to_case_input(self) -> CaseInput:
        data = {k: v for k, v in self.cleaned_data.items() if k in CaseInput.__dataclass_fields__}
        for key in (
            "citizen_gender",
            "citizen_phone",
            "citizen_name",
            "citizen_id_card",
            "citizen_email",
            "citizen_address",
            "citizen_work_unit",
            "citizen_post_code",
            "citizen_notes",
            "location",
            "title",
            "content",
            "keywords",
        ):
            data[key] = data.get(key) or ""
        return CaseInput(**data, extra=self.extra_values())
