"""The shapes of the supervision API's answers, for the OpenAPI schema."""

from __future__ import annotations

from rest_framework import serializers


class CardLedgerRowOutput(serializers.Serializer):
    unit = serializers.IntegerField()
    unit_name = serializers.CharField()
    warnings = serializers.IntegerField()
    yellow = serializers.IntegerField()
    red = serializers.IntegerField()
    reminders = serializers.IntegerField()
    extensions_requested = serializers.IntegerField()
    extensions_approved = serializers.IntegerField()
    late_reports = serializers.IntegerField()


class ResultSupervisionRowOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    reason = serializers.CharField()
    text = serializers.CharField()


class DissatisfiedOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()
    dissatisfied_count = serializers.IntegerField()
    main_unit = serializers.CharField()


class RepeatCallerOutput(serializers.Serializer):
    citizen_phone = serializers.CharField()
    n = serializers.IntegerField()


class QualitySupervisionOutput(serializers.Serializer):
    repeat_callers = RepeatCallerOutput(many=True)
    dissatisfied = DissatisfiedOutput(many=True)


class NoticeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    subject = serializers.CharField()
    body = serializers.CharField()
    link = serializers.CharField()
    created_at = serializers.DateTimeField()


class NoticeReadOutput(serializers.Serializer):
    marked = serializers.IntegerField()


class TimeLimitRowOutput(serializers.Serializer):
    unit = serializers.IntegerField()
    unit_name = serializers.CharField()
    received = serializers.IntegerField()
    signed_late = serializers.IntegerField()
    replied_late = serializers.IntegerField()
    avg_hours_to_sign = serializers.FloatField(allow_null=True)
    avg_hours_to_reply = serializers.FloatField(allow_null=True)
