"""Triggers refusing UPDATE and DELETE on the audit log (hotline/common/appendonly.py)."""

from django.db import migrations

from hotline.common import appendonly


def create(apps, schema_editor):
    for statement in appendonly.create_statements(schema_editor.connection.vendor):
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    for statement in appendonly.drop_statements(schema_editor.connection.vendor):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("common", "0003_seed_dictionaries")]

    operations = [migrations.RunPython(create, drop)]
