# Leave a tenth of each cases_case page free so updates of unindexed columns (the deadline sweep's overdue
# flag, status marks) can stay on their page as HOT updates instead of writing a new entry in each of the
# table's ~21 indexes. Only pages written from now on get the free space; `VACUUM FULL cases_case` (or
# pg_repack) in a maintenance window gives it to the existing rows too. No-op on other databases.

from django.db import migrations


def _postgresql(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0012_citizen_rating_and_upload_without_user"),
    ]

    operations = [
        migrations.RunPython(
            _postgresql("ALTER TABLE cases_case SET (fillfactor = 90)"),
            _postgresql("ALTER TABLE cases_case RESET (fillfactor)"),
            elidable=False,
        ),
    ]
