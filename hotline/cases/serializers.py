"""Input and output shapes of the case API. No business rule lives here."""

from __future__ import annotations

import json
from typing import Any, cast

from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from hotline.common.api import CachedFieldsMixin, ChoiceDisplayField
from hotline.common.models import DictItem, DictKind
from hotline.orgs.models import Unit, User

from . import lifecycle, masking, selectors
from .intake_fields import INTAKE_FIELDS, IntakeField
from .models import (
    Assignment,
    AssignmentRole,
    Callback,
    CallbackMethod,
    CallbackResponse,
    CallbackSolution,
    Case,
    CaseAttachment,
    CaseEvent,
    ExtensionRequest,
    HandlingRecord,
    Rating,
    ReturnRequest,
)
from .services import CaseInput, Target


def dict_field(kind: str, *, required: bool = False) -> serializers.SlugRelatedField:
    extra: dict[str, Any] = {} if required else {"default": None, "allow_null": True}
    return serializers.SlugRelatedField(
        slug_field="code", queryset=DictItem.objects.filter(kind=kind), required=required, **extra
    )


def unit_field(**kwargs: Any) -> serializers.PrimaryKeyRelatedField:
    return serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all(), **kwargs)


class CachedDictItemField(serializers.SlugRelatedField):
    """A dictionary item by code, read from the in-process reference cache (intake is the hottest write).

    The services still refuse inactive items; a change made in another process is seen within a minute.
    """

    def __init__(self, kind: str, **kwargs: Any) -> None:
        self.kind = kind
        super().__init__(slug_field="code", queryset=DictItem.objects.filter(kind=kind), **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        item = selectors.DICT_ITEMS.get_by(kind=self.kind, code=str(data))
        if item is None:
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data))
        return item


class CachedUnitField(serializers.PrimaryKeyRelatedField):
    """A unit by id from the in-process reference cache; the services still refuse retired units."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not str(data).isdigit():
            self.fail("incorrect_type", data_type=type(data).__name__)
        unit = selectors.UNITS.get(int(data))
        if unit is None:
            self.fail("does_not_exist", pk_value=data)
        return unit


def cached_dict_field(kind: str, *, required: bool = False) -> CachedDictItemField:
    extra: dict[str, Any] = {} if required else {"default": None, "allow_null": True}
    return CachedDictItemField(kind, required=required, **extra)


# --------------------------------------------------------------------------- input


class JSONObjectField(serializers.JSONField):
    """A JSON object given either as JSON or, in multipart forms, as a JSON string."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str):
            try:
                data = json.loads(data or "{}")
            except ValueError as exc:
                raise serializers.ValidationError(gettext("应为JSON对象")) from exc
        if not isinstance(data, dict):
            raise serializers.ValidationError(gettext("应为JSON对象"))
        return super().to_internal_value(data)


class VersionInput(serializers.Serializer):
    version = serializers.IntegerField(required=False, min_value=1, help_text="乐观锁：工单当前版本号")


class OpinionInput(VersionInput):
    opinion = serializers.CharField(required=False, allow_blank=True, default="")


class ReasonInput(VersionInput):
    reason = serializers.CharField(allow_blank=True)


def intake_api_field(spec: IntakeField) -> serializers.Field:
    """The API's field for one field of the intake contract. It parses only; the service validates."""
    if spec.kind == "dict":
        return cached_dict_field(spec.dict_kind, required=spec.required)
    if spec.kind == "unit":
        return CachedUnitField(queryset=Unit.objects.all(), required=False, allow_null=True, default=None)
    if spec.kind == "bool":
        return serializers.BooleanField(required=False, default=False)
    if spec.kind == "choice":
        return serializers.ChoiceField(choices=spec.choices.choices, required=False, default=spec.empty)
    if spec.kind == "textarea":
        return serializers.CharField(allow_blank=True, required=spec.required, default="")
    # No length check here: the service refuses a value longer than the column with its own message.
    return serializers.CharField(required=spec.required, allow_blank=True, default="")


def _to_case_input(self: serializers.Serializer) -> CaseInput:
    data = self.validated_data
    return CaseInput(**{name: data[name] for name in CASE_INPUT_FIELDS if name in data})


# The contract's fields as a serializer, built from the one field list (intake_fields.py) plus the two structured
# fields; the class is made by the serializer metaclass, so its fields are declared once, in order.
# Its fields are built once per class (CachedFieldsMixin): intake is the hottest write.
CaseFieldsInput = serializers.SerializerMetaclass(
    "CaseFieldsInput",
    (CachedFieldsMixin, serializers.Serializer),
    {
        **{spec.name: intake_api_field(spec) for spec in INTAKE_FIELDS},
        "extra": JSONObjectField(required=False, default=dict),
        "origin": JSONObjectField(required=False, default=dict),
        "to_case_input": _to_case_input,
        "__module__": __name__,
    },
)

CASE_INPUT_FIELDS = frozenset(CaseInput.__dataclass_fields__)


class IntakeInput(CaseFieldsInput):  # type: ignore[misc,valid-type]
    action = serializers.ChoiceField(
        choices=[
            (a, lifecycle.Action(a).label)
            for a in ("save_draft", "submit", "archive", "propose_not_accepted")
        ],
        default="submit",
    )
    answer = serializers.CharField(required=False, allow_blank=True, default="")
    not_accepted_reason = dict_field(DictKind.NOT_ACCEPTED_REASON)
    not_accepted_text = serializers.CharField(required=False, allow_blank=True, default="")
    attachments = serializers.ListField(child=serializers.FileField(), required=False, default=list)
    sms_template = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="以 citizen_ 开头的短信模板编码；为空则不发送"
    )


class EditInput(VersionInput, CaseFieldsInput):  # type: ignore[misc,valid-type]
    pass


class IntakeActionInput(VersionInput):
    answer = serializers.CharField(required=False, allow_blank=True, default="")
    not_accepted_reason = dict_field(DictKind.NOT_ACCEPTED_REASON)
    not_accepted_text = serializers.CharField(required=False, allow_blank=True, default="")


class TargetInput(serializers.Serializer):
    unit = unit_field()
    role = serializers.ChoiceField(choices=AssignmentRole.choices)


class TargetsInput(OpinionInput):
    targets = TargetInput(many=True, allow_empty=True)  # the service says which unit is missing

    def targets_list(self) -> list[Target]:
        return [Target(t["unit"], t["role"]) for t in self.validated_data["targets"]]


class DispatchInput(TargetsInput):
    due_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ApproveReturnInput(OpinionInput):
    targets = TargetInput(many=True, required=False, default=list)


class InstructionInput(VersionInput):
    instruction = serializers.CharField(allow_blank=True)


class HandlingInput(VersionInput):
    cause = serializers.CharField(required=False, allow_blank=True, default="")
    solution = serializers.CharField(required=False, allow_blank=True, default="")
    result = serializers.CharField(allow_blank=True)
    promised_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ResultInput(VersionInput):
    result = serializers.CharField(allow_blank=True)


class ReturnInput(VersionInput):
    reason = dict_field(DictKind.RETURN_REASON, required=True)
    text = serializers.CharField(allow_blank=True)
    suggested_unit = unit_field()


class ExtensionInput(VersionInput):
    requested_due_at = serializers.DateTimeField()
    reason = serializers.CharField(allow_blank=True)


class ExtensionDecisionInput(VersionInput):
    approve = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CallbackInput(VersionInput):
    rating = serializers.ChoiceField(choices=Rating.choices)
    method = serializers.ChoiceField(choices=CallbackMethod.choices, default=CallbackMethod.PHONE)
    responded = serializers.ChoiceField(
        choices=CallbackResponse.choices, help_text="市民所说：承办单位是否与其联系（响应率）"
    )
    solution = serializers.ChoiceField(
        choices=CallbackSolution.choices, help_text="市民所说：问题是否解决（解决率；部分解决不计为已解决）"
    )
    citizen_words = serializers.CharField(required=False, allow_blank=True, default="")


class CloseMarksInput(VersionInput):
    is_public = serializers.BooleanField()
    push_hot = serializers.BooleanField(default=False)
    is_typical = serializers.BooleanField(default=False)


class ViolationInput(VersionInput):
    is_perfunctory = serializers.BooleanField(default=False)
    is_wrong = serializers.BooleanField(default=False)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class UrgeInput(VersionInput):
    message = serializers.CharField(allow_blank=True)
    assignment = serializers.PrimaryKeyRelatedField(
        queryset=Assignment.objects.all(), required=False, allow_null=True, default=None
    )


class PublicLookupInput(serializers.Serializer):
    number = serializers.CharField(max_length=20)
    password = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")


# --------------------------------------------------------------------------- output


def suggested_main_unit(case: Case) -> dict[str, Any]:
    from .services import default_main_unit

    unit, reason = default_main_unit(case)
    return {"unit": unit.pk if unit else None, "name": unit.name if unit else "", "reason": reason}


class CaseListOutput(CachedFieldsMixin, serializers.ModelSerializer):
    status_display = ChoiceDisplayField(Case._meta.get_field("status"))
    channel_display = ChoiceDisplayField(Case._meta.get_field("channel"))
    processing = serializers.SerializerMethodField()
    case_type = serializers.CharField(source="case_type.name")
    urgency = serializers.CharField(source="urgency.name", default="")
    main_unit = serializers.CharField(source="main_unit.name", default="")
    district = serializers.CharField(source="district.name", default="")
    citizen_name = serializers.SerializerMethodField()
    citizen_phone = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "version",
            "status",
            "status_display",
            "processing",
            "channel",
            "channel_display",
            "case_type",
            "urgency",
            "title",
            "citizen_name",
            "citizen_phone",
            "main_unit",
            "district",
            "created_at",
            "due_at",
            "closed_at",
        ]

    def _user(self) -> User:
        return self.context["request"].user

    def get_processing(self, case: Case) -> str:
        return lifecycle.PROCESSING_OF_STATUS[case.status]

    def _caller(self, case: Case) -> masking.Caller:
        """ORG-4: the caller as this user may see them (secret callers hidden, numbers masked by role)."""
        context = cast(dict[str, Any], self.context)  # a dict: the view reads the callers shown back from it
        callers: dict[int, masking.Caller] = context.setdefault("_callers", {})
        if case.pk not in callers:
            callers[case.pk] = masking.caller(case, self._user())
        return callers[case.pk]

    def get_citizen_name(self, case: Case) -> str:
        return self._caller(case).name

    def get_citizen_phone(self, case: Case) -> str:
        return self._caller(case).phone


class HandlingRecordOutput(CachedFieldsMixin, serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.__str__")

    class Meta:
        model = HandlingRecord
        fields = ["id", "actor", "cause", "solution", "result", "promised_at", "created_at"]


class AssignmentOutput(CachedFieldsMixin, serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name")
    role_display = serializers.CharField(source="get_role_display")
    status_display = serializers.CharField(source="get_status_display")
    records = HandlingRecordOutput(many=True, read_only=True)

    class Meta:
        model = Assignment
        fields = [
            "id",
            "unit",
            "unit_name",
            "parent",
            "role",
            "role_display",
            "status",
            "status_display",
            "round",
            "level",
            "opinion",
            "assigned_at",
            "signed_at",
            "due_at",
            "promised_at",
            "finished_at",
            "result",
            "records",
        ]


class AttachmentOutput(CachedFieldsMixin, serializers.ModelSerializer):
    download = serializers.SerializerMethodField(help_text="下载地址（按工单可见范围，记入审计日志）")

    class Meta:
        model = CaseAttachment
        fields = ["id", "name", "size", "content_type", "uploaded_at", "download"]

    def get_download(self, attachment: CaseAttachment) -> str:
        return f"/api/v1/cases/attachments/{attachment.pk}/"


class CallbackOutput(CachedFieldsMixin, serializers.ModelSerializer):
    rating_display = serializers.CharField(source="get_rating_display")
    method_display = serializers.CharField(source="get_method_display")
    responded_display = serializers.CharField(source="get_responded_display")
    solution_display = serializers.CharField(source="get_solution_display")
    actor = serializers.SerializerMethodField(help_text="回访人（市民自行评价时为“市民”）")

    class Meta:
        model = Callback
        fields = [
            "id",
            "actor",
            "method",
            "method_display",
            "rating",
            "rating_display",
            "responded",
            "responded_display",
            "solution",
            "solution_display",
            "citizen_words",
            "created_at",
        ]

    def get_actor(self, callback: Callback) -> str:
        return str(callback.actor) if callback.actor_id else gettext("市民")


class ReturnRequestOutput(CachedFieldsMixin, serializers.ModelSerializer):
    reason = serializers.CharField(source="reason.name")
    suggested_unit_name = serializers.CharField(source="suggested_unit.name")
    unit_name = serializers.CharField(source="assignment.unit.name")

    class Meta:
        model = ReturnRequest
        fields = [
            "id",
            "assignment",
            "unit_name",
            "reason",
            "text",
            "suggested_unit",
            "suggested_unit_name",
            "requested_at",
            "status",
            "decided_at",
            "decision_note",
        ]


class ExtensionOutput(CachedFieldsMixin, serializers.ModelSerializer):
    unit_name = serializers.CharField(source="assignment.unit.name")
    case = serializers.IntegerField(source="assignment.case_id")
    case_number = serializers.CharField(source="assignment.case.number")

    class Meta:
        model = ExtensionRequest
        fields = [
            "id",
            "assignment",
            "case",
            "case_number",
            "unit_name",
            "requested_due_at",
            "previous_due_at",
            "reason",
            "requested_at",
            "status",
            "decided_at",
            "decision_note",
        ]


class CaseDetailOutput(CaseListOutput):
    nature = serializers.CharField(source="nature.name", default="")
    secrecy = serializers.CharField(source="secrecy.name", default="")
    bureau = serializers.CharField(source="bureau.name", default="")
    location_unit = serializers.CharField(source="location_unit.name", default="")
    intake_by = serializers.CharField(source="intake_by.__str__", default="")
    close_kind_display = serializers.CharField(source="get_close_kind_display")
    last_rating_display = serializers.CharField(source="get_last_rating_display")
    not_accepted_reason = serializers.CharField(source="not_accepted_reason.name", default="")
    supervision = serializers.SerializerMethodField()
    citizen = serializers.SerializerMethodField()
    citizen_gender = serializers.SerializerMethodField()
    citizen_email = serializers.SerializerMethodField()
    citizen_address = serializers.SerializerMethodField()
    citizen_work_unit = serializers.SerializerMethodField()
    citizen_post_code = serializers.SerializerMethodField()
    citizen_notes = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()
    assignments = serializers.SerializerMethodField()
    attachments = AttachmentOutput(many=True, read_only=True)
    callbacks = CallbackOutput(many=True, read_only=True)
    return_requests = serializers.SerializerMethodField()
    suggested_main_unit = serializers.SerializerMethodField()

    class Meta(CaseListOutput.Meta):
        fields = [
            *CaseListOutput.Meta.fields,
            "citizen",
            "citizen_gender",
            "citizen_email",
            "citizen_address",
            "citizen_work_unit",
            "citizen_post_code",
            "citizen_notes",
            "nature",
            "secrecy",
            "bureau",
            "location",
            "location_unit",
            "content",
            "keywords",
            "is_typical_recording",
            "extra",
            "origin",
            "answer",
            "intake_by",
            "dispatch_round",
            "submitted_at",
            "dispatched_at",
            "not_accepted_reason",
            "not_accepted_text",
            "leader_instruction",
            "close_kind",
            "close_kind_display",
            "close_reason",
            "dissatisfied_count",
            "last_rating",
            "last_rating_display",
            "is_public",
            "push_hot",
            "is_typical",
            "is_perfunctory",
            "is_wrong",
            "violation_note",
            "supervision",
            "allowed_actions",
            "assignments",
            "attachments",
            "callbacks",
            "return_requests",
            "suggested_main_unit",
        ]

    @extend_schema_field(AssignmentOutput(many=True))
    def get_assignments(self, case: Case) -> Any:
        return AssignmentOutput(selectors.case_assignments(case=case), many=True).data

    def get_supervision(self, case: Case) -> list[str]:
        return selectors.supervision_of(case)

    def get_citizen(self, case: Case) -> int | None:
        return self._caller(case).citizen

    def get_citizen_gender(self, case: Case) -> str:
        return self._caller(case).gender

    def get_citizen_email(self, case: Case) -> str:
        return self._caller(case).email

    def get_citizen_address(self, case: Case) -> str:
        return self._caller(case).address

    def get_citizen_work_unit(self, case: Case) -> str:
        return self._caller(case).work_unit

    def get_citizen_post_code(self, case: Case) -> str:
        return self._caller(case).post_code

    def get_citizen_notes(self, case: Case) -> str:
        return self._caller(case).notes

    def get_allowed_actions(self, case: Case) -> list[str]:
        return lifecycle.allowed_actions(status=case.status, user=self._user(), case=case)

    def get_return_requests(self, case: Case) -> Any:
        requests = ReturnRequest.objects.filter(assignment__case=case).select_related(
            "reason", "suggested_unit", "assignment__unit"
        )
        return ReturnRequestOutput(requests, many=True).data

    def get_suggested_main_unit(self, case: Case) -> dict[str, Any]:
        return suggested_main_unit(case)


class CaseCreatedOutput(CachedFieldsMixin, serializers.ModelSerializer):
    """The answer to an intake: what the agent needs next (the full case is one GET away)."""

    status_display = ChoiceDisplayField(Case._meta.get_field("status"))
    query_password = serializers.SerializerMethodField()
    suggested_main_unit = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "version",
            "status",
            "status_display",
            "created_at",
            "query_password",
            "suggested_main_unit",
        ]

    def get_query_password(self, case: Case) -> str | None:
        return self.context.get("query_password")

    def get_suggested_main_unit(self, case: Case) -> dict[str, Any]:
        # The catalogue / model suggestion is made after commit by the case-events job: a case just registered
        # has none stored yet, so the location's default unit is the suggestion (the detail shows the later one).
        from .services.office import default_main_unit_by_location

        unit, reason = default_main_unit_by_location(case)
        return {"unit": unit.pk if unit else None, "name": unit.name if unit else "", "reason": reason}


class EventOutput(CachedFieldsMixin, serializers.ModelSerializer):
    action_display = serializers.SerializerMethodField()
    actor = serializers.SerializerMethodField()
    unit = serializers.CharField(source="unit.name", default="")
    assignment_unit = serializers.CharField(source="assignment.unit.name", default="")
    from_status_display = serializers.SerializerMethodField()
    to_status_display = serializers.SerializerMethodField()

    class Meta:
        model = CaseEvent
        fields = [
            "id",
            "at",
            "action",
            "action_display",
            "actor",
            "unit",
            "assignment",
            "assignment_unit",
            "from_status",
            "from_status_display",
            "to_status",
            "to_status_display",
            "opinion",
            "data",
        ]

    def get_action_display(self, event: CaseEvent) -> str:
        return str(lifecycle.Action(event.action).label)

    def get_actor(self, event: CaseEvent) -> str:
        """The person, or 系统 for events of the sweep and other jobs (as on the case page)."""
        return str(event.actor) if event.actor_id else gettext("系统")

    def _status_label(self, value: str) -> str:
        from .models import CaseStatus

        return str(CaseStatus(value).label) if value else ""

    def get_from_status_display(self, event: CaseEvent) -> str:
        return self._status_label(event.from_status)

    def get_to_status_display(self, event: CaseEvent) -> str:
        return self._status_label(event.to_status)


class WorkItemOutput(CachedFieldsMixin, serializers.ModelSerializer):
    role_display = serializers.CharField(source="get_role_display")
    status_display = serializers.CharField(source="get_status_display")
    case = serializers.SerializerMethodField()

    class Meta:
        model = Assignment
        fields = [
            "id",
            "role",
            "role_display",
            "status",
            "status_display",
            "assigned_at",
            "signed_at",
            "due_at",
            "promised_at",
            "opinion",
            "case",
        ]

    def get_case(self, assignment: Assignment) -> dict[str, Any]:
        case = assignment.case
        return {
            "id": case.id,
            "number": case.number,
            "version": case.version,
            "title": case.title,
            "status": case.status,
            "status_display": case.get_status_display(),
            "case_type": case.case_type.name,
            "urgency": case.urgency.name if case.urgency else "",
            "created_at": case.created_at,
        }
