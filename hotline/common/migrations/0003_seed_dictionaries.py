from django.db import migrations


def forwards(apps, schema_editor):
    from hotline.common.dictionaries import seed_dictionaries

    seed_dictionaries(apps.get_model("common", "DictItem"))


class Migration(migrations.Migration):
    dependencies = [("common", "0002_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
