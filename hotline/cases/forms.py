"""HTML forms of the workbench. They only parse and render; the services decide."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.forms.forms import DeclarativeFieldsMetaclass
from django.utils.translation import gettext_lazy as _

from hotline.common.models import DictItem, DictKind
from hotline.orgs.models import Unit, UnitKind

from .intake_fields import INTAKE_FIELDS, IntakeField
from .lifecycle import Action
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


def _unit_queryset(units: str) -> Any:
    """The units the intake screen offers (the service refuses a retired unit or a non-bureau as bureau)."""
    if units == "bureau":
        return Unit.objects.filter(kind=UnitKind.BUREAU, is_active=True, parent__isnull=True)
    return Unit.objects.filter(
        is_active=True, kind__in=[UnitKind.DISTRICT, UnitKind.STREET, UnitKind.COMMUNITY]
    ).order_by("path")


def intake_form_field(spec: IntakeField) -> forms.Field:
    """The screen's field for one field of the intake contract. It parses only; the service validates."""
    if spec.kind == "dict":
        return dict_choice(spec.dict_kind, spec.label, required=spec.required)
    if spec.kind == "unit":
        return forms.ModelChoiceField(
            queryset=_unit_queryset(spec.units), label=spec.label, required=False, empty_label=_("——请选择——")
        )
    if spec.kind == "bool":
        return forms.BooleanField(label=spec.label, required=False)
    if spec.kind == "choice":
        # A choice with a default has no empty option: it must be sent (like the select always does).
        return forms.ChoiceField(
            label=spec.label,
            choices=spec.choices.choices,
            initial=spec.initial,
            required=spec.initial is not None,
        )
    if spec.kind == "textarea":
        return forms.CharField(
            label=spec.label, widget=forms.Textarea(attrs={"rows": spec.rows}), required=spec.required
        )
    # The length is the browser's limit (maxlength); the service refuses a longer value with its own message.
    widget = forms.TextInput(attrs={"maxlength": str(spec.max_length)} if spec.max_length else {})
    return forms.CharField(label=spec.label, widget=widget, required=spec.required)


# The contract's fields as a form (a class built from the field list, so the metaclass declares them in order).
CaseFieldsForm = DeclarativeFieldsMetaclass(
    "CaseFieldsForm", (forms.Form,), {spec.name: intake_form_field(spec) for spec in INTAKE_FIELDS}
)


class IntakeForm(CaseFieldsForm):  # type: ignore[misc,valid-type]
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

        fields: dict[str, forms.Field] = self.fields
        fields["sms_template"].choices = [("", _("不发送"))] + [  # type: ignore[attr-defined]
            (t.code, t.name) for t in citizen_templates()
        ]
        for field in fields.values():
            widget = field.widget
            css = (
                "form-check-input"
                if isinstance(widget, forms.CheckboxInput)
                else ("form-select" if isinstance(widget, forms.Select) else "form-control")
            )
            widget.attrs["class"] = css
        fields["citizen_phone"].widget.attrs.update({"autofocus": True, "inputmode": "tel"})
        area = fields["location_unit"]
        area.widget = PinyinUnitSelect(attrs=area.widget.attrs)
        area.widget.choices = area.choices  # type: ignore[attr-defined]
        fields["location_unit"].label_from_instance = lambda u: "　" * (u.depth - 1) + u.name  # type: ignore[attr-defined]

    def extra_values(self) -> dict[str, Any]:
        """Extended fields arrive as `extra.<key>` inputs."""
        return {
            k.removeprefix("extra."): v for k, v in self.data.items() if k.startswith("extra.") and v != ""
        }

    def to_case_input(self) -> CaseInput:
        data = self.cleaned_data
        values = {spec.name: data.get(spec.name) or spec.empty for spec in INTAKE_FIELDS}
        return CaseInput(**values, extra=self.extra_values())
