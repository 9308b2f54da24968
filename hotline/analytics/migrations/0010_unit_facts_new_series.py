"""The unit facts gained three series (response rate, solution rate, re-dispatch rate): facts built before hold
none of their rows, so a report would read "—" for every past day. Marking the unit facts unbuilt makes the next
`analytics-facts` run rebuild them in full (`facts/units.refresh`); until then unit reports count directly."""

from django.db import migrations


def unit_facts_unbuilt(apps, schema_editor):
    FactState = apps.get_model("analytics", "FactState")
    FactState.objects.filter(pk=1).update(units_built_at=None, unit_months_through=None)


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0009_unit_month_facts"),
        ("cases", "0022_callback_response_solution"),
    ]

    operations = [migrations.RunPython(unit_facts_unbuilt, migrations.RunPython.noop)]
