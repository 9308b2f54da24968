"""What a new platform starts with: the published holiday calendar, office hours, time limits and the
seed's escalation rules. Admins change all of it afterwards."""

from __future__ import annotations

import datetime as dt
from typing import Any

# (stage, case type code or "", urgency code or "", amount, unit, max extension in working days)
TIME_LIMITS = [
    ("sign_for", "", "", 1, "working_days", 0),
    ("sign_for", "", "urgent", 2, "working_hours", 0),
    ("sign_for", "", "very_urgent", 1, "hours", 0),
    ("reply", "", "", 5, "working_days", 10),
    ("reply", "consult", "", 3, "working_days", 5),
    ("reply", "", "urgent", 2, "working_days", 3),
    ("reply", "", "very_urgent", 1, "working_days", 1),
    # a unit forwarding down gives the lower level part of its own time (never beyond it)
    ("forwarded", "", "", 3, "working_days", 0),
    ("callback", "", "", 2, "working_days", 0),
    ("total", "", "", 15, "working_days", 0),
]

# (kind, stage, offset in working days from the deadline (reminder: calendar days from the start),
#  roles, also the parent unit, channels). The seed's rule (3.2.3.5) for every stage: a warning before the
# deadline to whoever does the work, a yellow card at the deadline, a red card some working days later that also
# reaches the managers; by SMS and in-app. A warning falls away where the limit is too short for it (a one-day
# sign-for); the handling stage has no time limit by default, so its rules act once an admin sets one.
ESCALATION_RULES = [
    ("warning", "reply", -1, ["unit_handler"], False, ["in_app", "sms"]),
    ("yellow", "reply", 0, ["unit_handler", "unit_leader"], False, ["in_app", "sms"]),
    ("red", "reply", 3, ["unit_leader"], True, ["in_app", "sms"]),
    ("reminder", "reply", 7, ["unit_handler"], False, ["in_app"]),
    # a step forwarded down: the lower unit is warned and carded on its own deadline; its cards also reach the
    # unit that forwarded it (always its parent unit), which answers for it to the office
    ("warning", "forwarded", -1, ["unit_handler"], False, ["in_app", "sms"]),
    ("yellow", "forwarded", 0, ["unit_handler", "unit_leader"], True, ["in_app", "sms"]),
    ("red", "forwarded", 2, ["unit_leader"], True, ["in_app", "sms"]),
    ("warning", "sign_for", -1, ["unit_handler"], False, ["in_app", "sms"]),
    ("yellow", "sign_for", 0, ["unit_handler"], False, ["in_app", "sms"]),
    ("red", "sign_for", 1, ["unit_handler", "unit_leader"], True, ["in_app", "sms"]),
    ("warning", "handling", -1, ["unit_handler"], False, ["in_app", "sms"]),
    ("yellow", "handling", 0, ["unit_handler", "unit_leader"], False, ["in_app", "sms"]),
    ("red", "handling", 3, ["unit_leader"], True, ["in_app", "sms"]),
    ("warning", "callback", -1, ["agent"], False, ["in_app", "sms"]),
    ("yellow", "callback", 0, ["agent", "monitor"], False, ["in_app", "sms"]),
    ("red", "callback", 1, ["agent", "monitor"], False, ["in_app", "sms"]),
    ("warning", "total", -1, ["dispatcher"], False, ["in_app", "sms"]),
    ("yellow", "total", 0, ["dispatcher"], False, ["in_app", "sms"]),
    ("red", "total", 3, ["dispatcher", "leader"], False, ["in_app", "sms"]),
    # a flow template step with its own time limit: at the office's steps (审核派单, 结果审核 …) the office hears of
    # it, as for the total; at a unit's step (特别督办: the main unit's leader must give an opinion) the clock is
    # the unit's, and its leaders hear of it (a unit has no dispatchers, the office no unit leaders)
    ("warning", "step", -1, ["dispatcher", "unit_leader"], False, ["in_app", "sms"]),
    ("yellow", "step", 0, ["dispatcher", "unit_leader"], False, ["in_app", "sms"]),
    ("red", "step", 1, ["dispatcher", "leader", "unit_leader"], False, ["in_app", "sms"]),
]
OFFICE_HOURS = [(dt.time(8, 30), dt.time(12, 0)), (dt.time(13, 30), dt.time(17, 30))]


def seed_calendar(exception_model: Any, hours_model: Any) -> None:
    import chinese_calendar

    rows = {day: (False, name) for day, name in chinese_calendar.holidays.items()}
    rows.update({day: (True, name) for day, name in chinese_calendar.workdays.items()})
    existing = set(exception_model.objects.values_list("date", flat=True))
    exception_model.objects.bulk_create(
        [
            exception_model(date=day, is_workday=workday, name=name or "")
            for day, (workday, name) in sorted(rows.items())
            if day not in existing
        ]
    )
    if not hours_model.objects.exists():
        hours_model.objects.bulk_create([hours_model(start=start, end=end) for start, end in OFFICE_HOURS])


def seed_rules(time_limit_model: Any, rule_model: Any, dict_item_model: Any) -> None:
    def item(kind: str, code: str) -> Any:
        return dict_item_model.objects.filter(kind=kind, code=code).first() if code else None

    if not time_limit_model.objects.exists():
        time_limit_model.objects.bulk_create(
            [
                time_limit_model(
                    stage=stage,
                    case_type=item("case_type", case_type),
                    urgency=item("urgency", urgency),
                    amount=amount,
                    unit=unit,
                    max_extension_days=max_ext,
                )
                for stage, case_type, urgency, amount, unit, max_ext in TIME_LIMITS
            ]
        )
    for kind, stage, offset, roles, parent, channels in ESCALATION_RULES:
        rule_model.objects.get_or_create(
            kind=kind,
            stage=stage,
            defaults={
                "offset_days": offset,
                "recipient_roles": roles,
                "notify_parent_unit": parent,
                "channels": channels,
            },
        )


def seed_all() -> None:
    from hotline.common.models import DictItem

    from .models import CalendarException, EscalationRule, OfficeHours, TimeLimit

    seed_calendar(CalendarException, OfficeHours)
    seed_rules(TimeLimit, EscalationRule, DictItem)
