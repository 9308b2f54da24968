"""Step alerts at a unit's step reach its leaders: a `step` clock at special supervision (特别督办) is the main
unit's (the office's before), so the step rules name `unit_leader` beside the office's roles. Rules still as
seeded by 0011 get it; rules an admin has edited are left as they are."""

from django.db import migrations

SEEDED = {
    "warning": (["dispatcher"], ["dispatcher", "unit_leader"]),
    "yellow": (["dispatcher"], ["dispatcher", "unit_leader"]),
    "red": (["dispatcher", "leader"], ["dispatcher", "leader", "unit_leader"]),
}


def add_unit_leaders(apps, schema_editor):
    rule = apps.get_model("sla", "EscalationRule")
    for r in rule.objects.filter(stage="step", kind__in=SEEDED):
        old, new = SEEDED[r.kind]
        if sorted(r.recipient_roles or []) == sorted(old):
            r.recipient_roles = new
            r.save(update_fields=["recipient_roles"])


def drop_unit_leaders(apps, schema_editor):
    rule = apps.get_model("sla", "EscalationRule")
    for r in rule.objects.filter(stage="step", kind__in=SEEDED):
        old, new = SEEDED[r.kind]
        if sorted(r.recipient_roles or []) == sorted(new):
            r.recipient_roles = old
            r.save(update_fields=["recipient_roles"])


class Migration(migrations.Migration):
    dependencies = [("sla", "0011_flow_step_stage")]

    operations = [migrations.RunPython(add_unit_leaders, drop_unit_leaders)]
