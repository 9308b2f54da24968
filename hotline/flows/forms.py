"""The editor's forms: template rules, and a version's steps and transitions as two formsets."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hotline.cases.lifecycle import Action
from hotline.cases.models import CaseStatus, Channel
from hotline.common.models import DictItem, DictKind
from hotline.orgs.models import Role, Unit, UnitKind

from .definition import FlowDef, StepDef, TransitionDef
from .models import DispatchMode, LimitUnit, StepKind, UnitLevel

SMALL = {"class": "form-select form-select-sm"}
TEXT = {"class": "form-control form-control-sm"}


class TemplateForm(forms.Form):
    name = forms.CharField(label=_("模板名称"), max_length=100, widget=forms.TextInput(TEXT))
    description = forms.CharField(
        label=_("说明"),
        required=False,
        widget=forms.Textarea({"rows": 2, "class": "form-control form-control-sm"}),
    )
    case_types = forms.MultipleChoiceField(
        label=_("适用诉求类型（不选为全部）"), required=False, widget=forms.SelectMultiple(SMALL)
    )
    bureaus = forms.MultipleChoiceField(
        label=_("适用职能局（不选为全部）"), required=False, widget=forms.SelectMultiple(SMALL)
    )
    channels = forms.MultipleChoiceField(
        label=_("适用渠道（不选为全部）"),
        required=False,
        choices=Channel.choices,
        widget=forms.SelectMultiple(SMALL),
    )
    valid_from = forms.DateField(
        label=_("生效日期"), required=False, widget=forms.DateInput({"type": "date", **TEXT})
    )
    valid_to = forms.DateField(
        label=_("失效日期"), required=False, widget=forms.DateInput({"type": "date", **TEXT})
    )
    priority = forms.IntegerField(
        label=_("优先级"), initial=0, min_value=-1000, max_value=1000, widget=forms.NumberInput(TEXT)
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["case_types"].choices = [  # type: ignore[attr-defined]
            (d.code, d.name) for d in DictItem.objects.filter(kind=DictKind.CASE_TYPE, is_active=True)
        ]
        self.fields["bureaus"].choices = [  # type: ignore[attr-defined]
            (u.code, u.name)
            for u in Unit.objects.filter(kind=UnitKind.BUREAU, is_active=True).order_by("path")
        ]


class NewTemplateForm(TemplateForm):
    code = forms.SlugField(label=_("模板编号"), max_length=40, widget=forms.TextInput(TEXT))

    field_order = ["code", "name"]


class StepForm(forms.Form):
    code = forms.SlugField(label=_("编码"), max_length=40, widget=forms.TextInput(TEXT))
    name = forms.CharField(label=_("名称"), max_length=60, widget=forms.TextInput(TEXT))
    kind = forms.ChoiceField(
        label=_("类型"), choices=StepKind.choices, initial=StepKind.SINGLE, widget=forms.Select(SMALL)
    )
    statuses = forms.MultipleChoiceField(
        label=_("对应工单状态"),
        required=False,
        choices=CaseStatus.choices,
        widget=forms.SelectMultiple(SMALL),
    )
    roles = forms.MultipleChoiceField(
        label=_("办理角色"), required=False, choices=Role.choices, widget=forms.SelectMultiple(SMALL)
    )
    unit_level = forms.ChoiceField(
        label=_("单位层级"), required=False, choices=UnitLevel.choices, widget=forms.Select(SMALL)
    )
    limit_amount = forms.IntegerField(
        label=_("时限"), required=False, min_value=0, max_value=999, widget=forms.NumberInput(TEXT)
    )
    limit_unit = forms.ChoiceField(
        label=_("时限单位"), choices=LimitUnit.choices, initial=LimitUnit.WORKDAYS, widget=forms.Select(SMALL)
    )
    dispatch_mode = forms.ChoiceField(
        label=_("调度模式"), required=False, choices=DispatchMode.choices, widget=forms.Select(SMALL)
    )
    sequence = forms.CharField(
        label=_("办理顺序（串行环节）"),
        required=False,
        max_length=100,
        help_text=_("单位层级依次列出，如：街道乡镇→区县"),
        widget=forms.TextInput({**TEXT, "placeholder": _("街道乡镇→区县")}),
    )

    def clean_sequence(self) -> tuple[str, ...]:
        """Unit levels by name or code, separated by →, 、, commas or spaces."""
        by_name = {str(label): value for value, label in UnitLevel.choices if value}
        levels = []
        for token in re.split(r"[→>,，、\s]+", self.cleaned_data.get("sequence") or ""):
            if not token:
                continue
            level = by_name.get(token, token)
            if level not in UnitLevel.values or not level:
                raise forms.ValidationError(_("未知的单位层级“%(level)s”") % {"level": token})
            levels.append(level)
        return tuple(levels)


ACTION_CHOICES = [("", _("（分支，无操作）")), *Action.choices]


class TransitionForm(forms.Form):
    source = forms.CharField(label=_("从环节"), max_length=40, widget=forms.TextInput(TEXT))
    target = forms.CharField(label=_("到环节"), max_length=40, widget=forms.TextInput(TEXT))
    action = forms.ChoiceField(
        label=_("操作"), required=False, choices=ACTION_CHOICES, widget=forms.Select(SMALL)
    )
    label = forms.CharField(label=_("流向名称"), max_length=60, required=False, widget=forms.TextInput(TEXT))
    guard = forms.CharField(label=_("控制条件"), max_length=400, required=False, widget=forms.TextInput(TEXT))


StepFormSet = forms.formset_factory(StepForm, extra=2, can_delete=True, max_num=100, validate_max=True)
TransitionFormSet = forms.formset_factory(
    TransitionForm, extra=3, can_delete=True, max_num=400, validate_max=True
)


def _kept(formset: forms.BaseFormSet) -> list[dict[str, Any]]:
    rows = []
    for form in formset.forms:
        data = form.cleaned_data
        if not data or data.get("DELETE"):
            continue
        rows.append(data)
    return rows


def flow_from_formsets(steps: forms.BaseFormSet, transitions: forms.BaseFormSet) -> FlowDef:
    """The definition the two (valid) formsets describe; blank extra rows are skipped."""
    return FlowDef(
        steps=[
            StepDef(
                code=row["code"],
                name=row["name"],
                kind=row["kind"],
                statuses=tuple(sorted(set(row["statuses"]))),
                roles=tuple(sorted(set(row["roles"]))),
                unit_level=row["unit_level"] or "",
                limit_amount=row["limit_amount"] or None,
                limit_unit=row["limit_unit"],
                dispatch_mode=row["dispatch_mode"] or "",
                sequence=tuple(row.get("sequence") or ()),
            )
            for row in _kept(steps)
        ],
        transitions=[
            TransitionDef(
                source=row["source"].strip(),
                target=row["target"].strip(),
                action=row["action"] or "",
                label=row["label"],
                guard=row["guard"].strip(),
            )
            for row in _kept(transitions)
        ],
    )


def formset_initial(flow: FlowDef) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    steps = [
        {
            "code": s.code,
            "name": s.name,
            "kind": s.kind,
            "statuses": list(s.statuses),
            "roles": list(s.roles),
            "unit_level": s.unit_level,
            "limit_amount": s.limit_amount,
            "limit_unit": s.limit_unit,
            "dispatch_mode": s.dispatch_mode,
            "sequence": s.sequence_label,
        }
        for s in flow.steps
    ]
    transitions = [
        {"source": t.source, "target": t.target, "action": t.action, "label": t.label, "guard": t.guard}
        for t in flow.transitions
    ]
    return steps, transitions
