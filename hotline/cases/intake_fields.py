"""The intake contract's field list: every scalar field of `services.CaseInput`, once.

The intake service validates what these fields say (lengths, choices) together with its business rules
(`services.intake._validate_input`), the staff intake form (`forms.IntakeForm`) and the API's input serializer
(`serializers.CaseFieldsInput`) are built from this list, and the citizen channels fill `CaseInput` directly.
The form and the serializer only parse (text, a dictionary item by code, a unit by id); every rule — a post code of
six digits, a valid phone, e-mail or ID number, a content long enough — is checked by the service, so a screen,
the API and a citizen channel refuse the same input with the same field errors.

`extra` (a bureau's extended fields, checked against their definitions) and `origin` (channel data) are the two
structured fields of `CaseInput`; they are not in this list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from django.utils.translation import gettext_lazy as _

from hotline.citizens.models import Gender
from hotline.common.models import DictKind

from .models import Channel

Kind = Literal["text", "textarea", "choice", "dict", "unit", "bool"]


@dataclass(frozen=True)
class IntakeField:
    name: str
    label: Any
    kind: Kind
    max_length: int = 0  # text: the column's length, checked by the service
    required: bool = False  # must be given at all (the service says what a complete request needs)
    choices: Any = ()  # choice: the TextChoices whose values are allowed
    initial: Any = None  # choice: the value when none is given
    dict_kind: str = ""  # dict: the dictionary's kind (a DictItem by its code)
    units: str = ""  # unit: which units the form offers ("bureau", "area"); the service checks the unit
    rows: int = 0  # textarea: rows in the form

    @property
    def empty(self) -> Any:
        """The value when the field is left out."""
        if self.kind in ("dict", "unit"):
            return None
        if self.kind == "bool":
            return False
        return self.initial if self.initial is not None else ""


# In the order of the intake screen.
INTAKE_FIELDS: tuple[IntakeField, ...] = (
    IntakeField("citizen_phone", _("联系电话"), "text", max_length=20),
    IntakeField("citizen_name", _("姓名"), "text", max_length=50),
    IntakeField("citizen_gender", _("性别"), "choice", choices=Gender),
    IntakeField("citizen_id_card", _("身份证号"), "text", max_length=18),
    IntakeField("citizen_email", _("电子邮箱"), "text", max_length=254),
    IntakeField("citizen_address", _("联系地址"), "text", max_length=200),
    IntakeField("citizen_work_unit", _("工作单位"), "text", max_length=100),
    IntakeField("citizen_post_code", _("邮编"), "text", max_length=6),
    IntakeField("citizen_notes", _("来电人备注"), "text", max_length=200),
    IntakeField("channel", _("来源渠道"), "choice", choices=Channel, initial=Channel.PHONE),
    IntakeField("case_type", _("诉求类型"), "dict", dict_kind=DictKind.CASE_TYPE, required=True),
    IntakeField("nature", _("性质分类"), "dict", dict_kind=DictKind.NATURE),
    IntakeField("urgency", _("紧急程度"), "dict", dict_kind=DictKind.URGENCY),
    IntakeField("secrecy", _("保密等级"), "dict", dict_kind=DictKind.SECRECY),
    IntakeField("bureau", _("职能局"), "unit", units="bureau"),
    IntakeField("location_unit", _("事发地所属区域"), "unit", units="area"),
    IntakeField("location", _("事发地点"), "text", max_length=200),
    IntakeField("title", _("标题"), "text", max_length=100),
    IntakeField("content", _("诉求内容"), "textarea", rows=6),
    IntakeField("keywords", _("关键词"), "text", max_length=200),
    IntakeField("is_typical_recording", _("典型录音"), "bool"),
    IntakeField("is_public", _("同意公开"), "bool"),
)
INTAKE_FIELD_NAMES = tuple(f.name for f in INTAKE_FIELDS)
STRUCTURED_FIELDS = ("extra", "origin")
TEXT_FIELDS = tuple(f for f in INTAKE_FIELDS if f.kind == "text" and f.max_length)

__all__ = ["INTAKE_FIELDS", "INTAKE_FIELD_NAMES", "STRUCTURED_FIELDS", "TEXT_FIELDS", "IntakeField"]
