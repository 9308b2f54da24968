from django.db import migrations


def forwards(apps, schema_editor):
    from hotline.sla.defaults import seed_calendar, seed_rules

    seed_calendar(apps.get_model("sla", "CalendarException"), apps.get_model("sla", "OfficeHours"))
    seed_rules(apps.get_model("sla", "TimeLimit"), apps.get_model("sla", "EscalationRule"),
               apps.get_model("common", "DictItem"))


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial"), ("common", "0003_seed_dictionaries")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
