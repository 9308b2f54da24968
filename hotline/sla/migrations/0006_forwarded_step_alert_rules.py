"""A step forwarded down warns and cards on its own deadline (issue 11, item 11).

Platforms seeded before get the `forwarded` stage's warning / yellow / red rules (admins edit them afterwards),
and the running deadline of every open forwarded step moves to that stage, so the next sweep applies them.
"""

from django.db import migrations

RULES = [
    # kind, stage, offset, roles, notify parent, channels (as seeded by hotline.sla.defaults at this point)
    ("warning", "forwarded", -1, ["unit_handler"], False, ["in_app", "sms"]),
    ("yellow", "forwarded", 0, ["unit_handler", "unit_leader"], True, ["in_app", "sms"]),
    ("red", "forwarded", 2, ["unit_leader"], True, ["in_app", "sms"]),
]


def forwards(apps, schema_editor):
    rule = apps.get_model("sla", "EscalationRule")
    clock = apps.get_model("sla", "Clock")
    for kind, stage, offset, roles, parent, channels in RULES:
        rule.objects.get_or_create(
            kind=kind,
            stage=stage,
            defaults={
                "offset_days": offset,
                "recipient_roles": roles,
                "notify_parent_unit": parent,
                "channels": channels,
            },
        )
    clock.objects.filter(stage="reply", stopped_at__isnull=True, assignment__parent__isnull=False).update(
        stage="forwarded"
    )


def backwards(apps, schema_editor):
    clock = apps.get_model("sla", "Clock")
    clock.objects.filter(stage="forwarded").update(stage="reply")


class Migration(migrations.Migration):
    dependencies = [("sla", "0005_forwarded_stage")]

    operations = [migrations.RunPython(forwards, backwards)]
