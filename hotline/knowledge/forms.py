"""Forms of the knowledge-base staff screens: parsing only, the rules live in `services`."""

from __future__ import annotations

import html
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from . import services


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"class": "form-control"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


def as_html(text: str) -> str:
    """Content typed as plain text becomes one paragraph per line; HTML is kept (the service sanitises it)."""
    text = (text or "").strip()
    if "<" in text and ">" in text:
        return text
    return "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip())


DATETIME = forms.DateTimeInput(
    attrs={"type": "datetime-local", "class": "form-control"}, format="%Y-%m-%dT%H:%M"
)


class ItemForm(forms.Form):
    directory = forms.TypedChoiceField(label=_("目录"), coerce=int, choices=())
    title = forms.CharField(label=_("标题"), max_length=200)
    keywords = forms.CharField(label=_("关键词（空格分隔）"), max_length=200, required=False)
    content = forms.CharField(
        label=_("内容"),
        widget=forms.Textarea(attrs={"rows": 12, "class": "form-control"}),
        help_text=_("纯文本按行分段；也可使用段落、列表、表格等简单HTML格式（保存时会清除不安全的内容）。"),
    )
    valid_from = forms.DateTimeField(label=_("生效时间"), required=False, widget=DATETIME)
    valid_to = forms.DateTimeField(label=_("失效时间"), required=False, widget=DATETIME)
    is_public = forms.BooleanField(label=_("公开（市民门户可检索）"), required=False)
    change_note = forms.CharField(label=_("修改说明"), max_length=255, required=False)
    attachments = MultipleFileField(
        label=_("附件（Word、Excel、TXT、PDF、HTML）"),
        required=False,
    )
    remove_attachments = forms.TypedMultipleChoiceField(
        label=_("删除附件"), coerce=int, required=False, choices=(), widget=forms.CheckboxSelectMultiple
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        directories: list[tuple[int, str]] | None = None,
        attachments: list[tuple[int, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if directories is None:
            del self.fields["directory"]
        else:
            directory_field = self.fields["directory"]
            assert isinstance(directory_field, forms.ChoiceField)
            directory_field.choices = [("", _("——请选择——")), *directories]
        if attachments:
            remove_field = self.fields["remove_attachments"]
            assert isinstance(remove_field, forms.ChoiceField)
            remove_field.choices = attachments
        else:
            del self.fields["remove_attachments"]
        for name, field in self.fields.items():
            if isinstance(field.widget, forms.TextInput | forms.Select) and name != "version":
                field.widget.attrs.setdefault(
                    "class", "form-select" if name == "directory" else "form-control"
                )

    def to_item_input(self) -> services.ItemInput:
        data = self.cleaned_data
        return services.ItemInput(
            title=data["title"],
            content=as_html(data["content"]),
            keywords=data["keywords"],
            valid_from=data["valid_from"],
            valid_to=data["valid_to"],
            is_public=data["is_public"],
            change_note=data["change_note"],
        )


class GrantRowForm(forms.Form):
    """One grant of a directory: who (a role, a unit with or without its sub-units, both, or everyone) and
    which rights. Edit or review implies read (the service adds it)."""

    role = forms.ChoiceField(label=_("角色"), required=False, choices=())
    unit = forms.TypedChoiceField(label=_("单位"), required=False, coerce=int, empty_value=None, choices=())
    include_subunits = forms.BooleanField(label=_("含下级单位"), required=False)
    can_read = forms.BooleanField(label=_("查看"), required=False)
    can_edit = forms.BooleanField(label=_("编辑"), required=False)
    can_review = forms.BooleanField(label=_("审核"), required=False)

    def __init__(
        self, *args: Any, roles: list[tuple[str, str]], units: list[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        role_field = self.fields["role"]
        unit_field = self.fields["unit"]
        assert isinstance(role_field, forms.ChoiceField) and isinstance(unit_field, forms.ChoiceField)
        role_field.choices = [("", _("任意角色")), *roles]
        unit_field.choices = [("", _("任意单位")), *units]
        role_field.widget.attrs["class"] = "form-select form-select-sm"
        unit_field.widget.attrs["class"] = "form-select form-select-sm"
        for name in ("include_subunits", "can_read", "can_edit", "can_review"):
            self.fields[name].widget.attrs["class"] = "form-check-input"


GrantFormSet = forms.formset_factory(GrantRowForm, extra=0, can_delete=True)
