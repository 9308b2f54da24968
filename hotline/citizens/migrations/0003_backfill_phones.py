from django.db import migrations


def backfill(apps, schema_editor):
    """Every existing citizen's main number becomes a CitizenPhone row (what screen pop looks numbers up by)."""
    Citizen = apps.get_model("citizens", "Citizen")
    CitizenPhone = apps.get_model("citizens", "CitizenPhone")
    batch = []
    for pk, phone in Citizen.objects.exclude(phone="").values_list("pk", "phone").iterator(chunk_size=5000):
        batch.append(CitizenPhone(citizen_id=pk, number=phone, is_primary=True))
        if len(batch) >= 5000:
            CitizenPhone.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    CitizenPhone.objects.bulk_create(batch, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("citizens", "0002_profiles_blacklist_screenpop")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
