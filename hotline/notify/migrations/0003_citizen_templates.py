from django.db import migrations


def forwards(apps, schema_editor):
    from hotline.notify.defaults import seed_templates

    seed_templates(apps.get_model("notify", "MessageTemplate"))


class Migration(migrations.Migration):
    dependencies = [("notify", "0002_seed")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
