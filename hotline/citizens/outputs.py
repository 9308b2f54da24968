"""The shapes of the citizen API's answers, for the OpenAPI schema (the data come from `selectors.*_data`)."""

from __future__ import annotations

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers


class CitizenOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    gender = serializers.CharField()
    gender_display = serializers.CharField()
    phone = serializers.CharField(help_text="无权限的角色看到脱敏号码")
    phones = serializers.ListField(child=serializers.CharField())
    email = serializers.CharField()
    address = serializers.CharField()
    work_unit = serializers.CharField()
    post_code = serializers.CharField()
    id_card = serializers.CharField()
    level = serializers.CharField()
    level_display = serializers.CharField()
    notes = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    masked = serializers.BooleanField()


class ContactOutput(serializers.Serializer):
    id = serializers.IntegerField()
    citizen = serializers.IntegerField()
    name = serializers.CharField()
    relation = serializers.CharField()
    phone = serializers.CharField()
    address = serializers.CharField()
    notes = serializers.CharField()


class CitizenDetailOutput(CitizenOutput):
    contacts = ContactOutput(many=True)


# inline: a declared field named `source` would hide Field.source.
HistoryEntryOutput = inline_serializer(
    name="HistoryEntryOutput",
    fields={
        "at": serializers.DateTimeField(),
        "source": serializers.CharField(),
        **{
            name: serializers.CharField()
            for name in (
                "channel",
                "channel_display",
                "title",
                "status",
                "status_display",
                "ref",
                "link",
                "number",
            )
        },
    },
    many=True,
)


class BlacklistOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    direction = serializers.CharField()
    direction_display = serializers.CharField()
    reason = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)
    treatment = serializers.CharField()
    treatment_display = serializers.CharField()
    treatment_target = serializers.CharField()


class BlacklistCheckOutput(serializers.Serializer):
    blacklisted = serializers.BooleanField()
    entry = BlacklistOutput(allow_null=True)


class RowErrorOutput(serializers.Serializer):
    row = serializers.IntegerField()
    column = serializers.CharField()
    message = serializers.CharField()


def _report_fields(**extra: serializers.Field) -> dict[str, serializers.Field]:
    # Built with inline_serializer: a declared field named `errors` would hide Serializer.errors.
    return {
        **extra,
        "total": serializers.IntegerField(),
        "created": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "rejected": serializers.IntegerField(),
        "errors": RowErrorOutput(many=True),
    }


_JOB_FIELDS: dict[str, serializers.Field] = {
    "id": serializers.IntegerField(),
    "kind": serializers.CharField(),
    "status": serializers.CharField(),
    "status_display": serializers.CharField(),
    "dry_run": serializers.BooleanField(),
    "file_name": serializers.CharField(),
    "expected_rows": serializers.IntegerField(),
    "read_rows": serializers.IntegerField(),
    "progress": serializers.IntegerField(),
    "message": serializers.CharField(),
    "created_at": serializers.DateTimeField(),
    "finished_at": serializers.DateTimeField(allow_null=True),
}
ImportJobOutput = inline_serializer(name="ImportJobOutput", fields=_report_fields(**_JOB_FIELDS))
ImportQueuedOutput = inline_serializer(
    name="ImportQueuedOutput",
    fields=_report_fields(**_JOB_FIELDS, job=serializers.IntegerField(), url=serializers.CharField()),
)
