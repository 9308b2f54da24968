"""Warning, yellow and red card by SMS and in-app for every stage (issue 11, item 19); admins edit them after."""

from django.db import migrations

RULES = [
    # kind, stage, offset, roles, notify parent, channels (as seeded by hotline.sla.defaults at this point)
    ("warning", "sign_for", -1, ["unit_handler"], False, ["in_app", "sms"]),
    ("red", "sign_for", 1, ["unit_handler", "unit_leader"], True, ["in_app", "sms"]),
    ("warning", "handling", -1, ["unit_handler"], False, ["in_app", "sms"]),
    ("yellow", "handling", 0, ["unit_handler", "unit_leader"], False, ["in_app", "sms"]),
    ("red", "handling", 3, ["unit_leader"], True, ["in_app", "sms"]),
    ("warning", "callback", -1, ["agent"], False, ["in_app", "sms"]),
    ("red", "callback", 1, ["agent", "monitor"], False, ["in_app", "sms"]),
    ("warning", "total", -1, ["dispatcher"], False, ["in_app", "sms"]),
    ("red", "total", 3, ["dispatcher", "leader"], False, ["in_app", "sms"]),
]
IN_APP_ONLY = [
    ("yellow", "sign_for", 0, ["unit_handler"]),
    ("yellow", "callback", 0, ["agent", "monitor"]),
    ("yellow", "total", 0, ["dispatcher"]),
]


def forwards(apps, schema_editor):
    rule = apps.get_model("sla", "EscalationRule")
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
    # Upgrade the earlier in-app-only yellow cards unless an admin changed them.
    for kind, stage, offset, roles in IN_APP_ONLY:
        for row in rule.objects.filter(kind=kind, stage=stage, offset_days=offset):
            if row.recipient_roles == roles and row.channels == ["in_app"]:
                row.channels = ["in_app", "sms"]
                row.save(update_fields=["channels"])


class Migration(migrations.Migration):
    dependencies = [("sla", "0003_clock_keyset_index")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
