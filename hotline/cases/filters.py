"""The case search filters, shared by the API's case list and the search screen."""

from __future__ import annotations

from rest_framework import serializers

from . import lifecycle, selectors
from .models import CaseStatus


class CaseFilterInput(serializers.Serializer):
    created_from = serializers.DateTimeField(required=False)
    created_to = serializers.DateTimeField(required=False)
    number = serializers.CharField(required=False, default="")
    case_type = serializers.IntegerField(required=False)
    status = serializers.MultipleChoiceField(choices=CaseStatus.choices, required=False)
    caller_phone = serializers.CharField(required=False, default="")
    channel = serializers.CharField(required=False, default="")
    unit = serializers.IntegerField(required=False)
    district = serializers.IntegerField(required=False)
    keywords = serializers.CharField(required=False, default="", max_length=100)
    active = serializers.BooleanField(required=False, allow_null=True, default=None)
    overdue = serializers.BooleanField(required=False, allow_null=True, default=None)
    citizen = serializers.IntegerField(required=False)
    processing = serializers.ChoiceField(choices=lifecycle.Processing.choices, required=False, default="")
    supervision = serializers.ChoiceField(choices=lifecycle.Supervision.choices, required=False, default="")
    typical_recording = serializers.BooleanField(required=False, allow_null=True, default=None)
    call_id = serializers.CharField(required=False, default="", max_length=40)
    typical = serializers.BooleanField(required=False, allow_null=True, default=None)
    since = serializers.DateTimeField(required=False, help_text="督办统计：事件发生时间从")
    until = serializers.DateTimeField(required=False, help_text="督办统计：事件发生时间至（不含）")
    alert = serializers.ChoiceField(
        choices=["warning", "yellow", "red", "reminder"], required=False, default="", help_text="预警/红黄牌"
    )
    alert_stage = serializers.CharField(
        required=False, default="", max_length=16, help_text="预警/红黄牌的环节"
    )
    late_stage = serializers.ChoiceField(choices=["sign_for", "reply"], required=False, default="")
    received = serializers.BooleanField(required=False, allow_null=True, default=None)
    extension = serializers.ChoiceField(choices=["requested", "approved"], required=False, default="")
    late_report = serializers.BooleanField(required=False, allow_null=True, default=None)
    dissatisfied = serializers.BooleanField(required=False, allow_null=True, default=None)
    # the cross-tab's drill-down (issue 15): a cell lists its cases with the same filters
    not_status = serializers.MultipleChoiceField(
        choices=CaseStatus.choices, required=False, help_text="排除的状态"
    )
    bureau = serializers.IntegerField(required=False, help_text="职能局")
    nature = serializers.IntegerField(required=False, help_text="性质分类")
    urgency = serializers.IntegerField(required=False, help_text="紧急程度")
    main_unit = serializers.IntegerField(required=False, help_text="主办单位")
    main_unit_tree = serializers.IntegerField(required=False, help_text="主办单位为该单位或其下级")
    unit_tree = serializers.IntegerField(
        required=False, help_text="该单位或其下级承办（主办或协办，不含抄送）"
    )
    location_unit = serializers.IntegerField(required=False, help_text="事发地单位")
    location_tree = serializers.IntegerField(required=False, help_text="事发地为该单位或其下级")
    ordering = serializers.ChoiceField(
        choices=list(selectors.SORTABLE), required=False, default="-created_at"
    )

    def to_filters(self) -> selectors.CaseFilters:
        data = dict(self.validated_data)
        data["statuses"] = sorted(data.pop("status", []) or [])
        data["not_statuses"] = sorted(data.pop("not_status", []) or [])
        return selectors.CaseFilters(**data)
