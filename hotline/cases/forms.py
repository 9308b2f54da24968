"""HTML forms of the workbench. They only parse and render; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms

from hotline.common.models import DictItem, DictKind
from hotline.orgs.models import Unit, UnitKind

from .lifecycle import Action
from .models import Channel
from .services import CaseInput


def dict_choice(kind: str, label: str, *, required: bool = False) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=DictItem.objects.filter(kind=kind, is_active=True),
        to_field_name="code",
        label=label,
        required=required,
        empty_label="——请选择——",
    )


class IntakeForm(forms.Form):
    citizen_phone = forms.CharField(label="联系电话", max_length=20, required=False)
    citizen_name = forms.CharField(label="姓名", max_length=50, required=False)
    citizen_gender = forms.ChoiceField(
        label="性别", choices=[("", "未知"), ("male", "男"), ("female", "女")], required=False
    )
    citizen_id_card = forms.CharField(label="身份证号", max_length=18, required=False)
    citizen_email = forms.EmailField(label="电子邮箱", required=False)
    citizen_address = forms.CharField(label="联系地址", max_length=200, required=False)
    citizen_work_unit = forms.CharField(label="工作单位", max_length=100, required=False)
    citizen_post_code = forms.CharField(label="邮编", max_length=6, required=False)
    citizen_notes = forms.CharField(label="来电人备注", max_length=200, required=False)
    channel = forms.ChoiceField(label="来源渠道", choices=Channel.choices, initial=Channel.PHONE)
    case_type = dict_choice(DictKind.CASE_TYPE, "诉求类型", required=True)
    nature = dict_choice(DictKind.NATURE, "性质分类")
    urgency = dict_choice(DictKind.URGENCY, "紧急程度")
    secrecy = dict_choice(DictKind.SECRECY, "保密等级")
    bureau = forms.ModelChoiceField(
        queryset=Unit.objects.filter(kind=UnitKind.BUREAU, is_active=True, parent__isnull=True),
        label="职能局",
        required=False,
        empty_label="——请选择——",
    )
    location_unit = forms.ModelChoiceField(
        queryset=Unit.objects.filter(
            is_active=True, kind__in=[UnitKind.DISTRICT, UnitKind.STREET, UnitKind.COMMUNITY]
        ).order_by("path"),
        label="事发地所属区域",
        required=False,
        empty_label="——请选择——",
    )
    location = forms.CharField(label="事发地点", max_length=200, required=False)
    title = forms.CharField(label="标题", max_length=100, required=False)
    content = forms.CharField(label="诉求内容", widget=forms.Textarea(attrs={"rows": 6}), required=False)
    keywords = forms.CharField(label="关键词", max_length=200, required=False)
    is_typical_recording = forms.BooleanField(label="典型录音", required=False)
    is_public = forms.BooleanField(label="同意公开", required=False)
    answer = forms.CharField(
        label="答复内容（解决归档时填写）", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    not_accepted_reason = dict_choice(DictKind.NOT_ACCEPTED_REASON, "不予受理原因")
    not_accepted_text = forms.CharField(label="不予受理说明", required=False)
    action = forms.ChoiceField(
        choices=[
            (a, Action(a).label)
            for a in (Action.SUBMIT, Action.SAVE_DRAFT, Action.ARCHIVE, Action.PROPOSE_NOT_ACCEPTED)
        ],
        initial=Action.SUBMIT,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            css = (
                "form-check-input"
                if isinstance(widget, forms.CheckboxInput)
                else ("form-select" if isinstance(widget, forms.Select) else "form-control")
            )
            widget.attrs["class"] = css
        self.fields["citizen_phone"].widget.attrs.update({"autofocus": True, "inputmode": "tel"})
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
