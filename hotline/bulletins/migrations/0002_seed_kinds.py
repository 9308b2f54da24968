from django.db import migrations

KINDS = ["通知公告", "工作动态", "紧急通知", "业务交流"]


def seed(apps, schema_editor):
    kind = apps.get_model("bulletins", "BulletinKind")
    for order, name in enumerate(KINDS, start=1):
        kind.objects.get_or_create(name=name, defaults={"sort_order": order})


class Migration(migrations.Migration):
    dependencies = [("bulletins", "0001_bulletins")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
