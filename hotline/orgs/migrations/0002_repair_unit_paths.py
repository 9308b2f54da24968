from django.db import migrations


def repair(apps, schema_editor):
    from hotline.orgs.treefix import repair_unit_paths

    repair_unit_paths(apps.get_model("orgs", "Unit"))


class Migration(migrations.Migration):
    dependencies = [("orgs", "0001_initial")]

    operations = [migrations.RunPython(repair, migrations.RunPython.noop)]
