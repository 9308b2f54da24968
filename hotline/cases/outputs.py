"""Shapes of the case API's answers that are built as plain dicts (duplicates, clusters, co-requesters, the
public lookup), for the OpenAPI schema. Model-backed answers are in serializers.py."""

from __future__ import annotations

from rest_framework import serializers


class CaseBriefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    status_display = serializers.CharField()
    case_type = serializers.CharField()
    citizen_name = serializers.CharField()
    citizen_phone = serializers.CharField()
    main_unit = serializers.CharField()
    created_at = serializers.DateTimeField()
    link = serializers.CharField()
    api = serializers.CharField()


class DuplicateCandidateOutput(CaseBriefOutput):
    score = serializers.FloatField()
    similar = serializers.BooleanField()
    same_phone = serializers.BooleanField()
    same_name = serializers.BooleanField()


class DuplicateCountsOutput(serializers.Serializer):
    same_phone = serializers.IntegerField()
    same_name = serializers.IntegerField()
    similar = serializers.IntegerField()


class DuplicateReportOutput(serializers.Serializer):
    since = serializers.DateTimeField()
    threshold = serializers.FloatField()
    counts = DuplicateCountsOutput()
    candidates = DuplicateCandidateOutput(many=True)


class HotClusterOutput(serializers.Serializer):
    size = serializers.IntegerField()
    terms = serializers.ListField(child=serializers.CharField())
    cases = CaseBriefOutput(many=True)


class CoRequesterOutput(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField()
    merged_case = serializers.IntegerField()
    merged_number = serializers.CharField()
    citizen = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    phone = serializers.CharField()
    merged_at = serializers.DateTimeField()
    merged_by = serializers.CharField()
    opinion = serializers.CharField()
    undone_at = serializers.DateTimeField(allow_null=True)
    called_back_at = serializers.DateTimeField(allow_null=True)
    callback_rating = serializers.CharField()


class PublicLookupOutput(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.CharField()
    status_display = serializers.CharField()
    processing = serializers.CharField()
    title = serializers.CharField()
    created_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    result = serializers.CharField()
