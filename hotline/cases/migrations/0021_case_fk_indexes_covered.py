# The case table's own indexes on district_id and main_unit_id are prefixes of case_district_created_idx
# (district, created_at) and case_mainunit_created_idx (main_unit, created_at): every look-up by either column can
# use the composite index, so the single-column ones only cost writes (issue 12: each case insert wrote 22 indexes).
# Only the indexes are dropped; the foreign keys stay as they are (no re-validation of the table).

import django.db.models.deletion
from django.db import migrations, models

FIELDS = {
    "district": ("cases_case_district_id_60fa1ba0", "district_id", "所属区县"),
    "main_unit": ("cases_case_main_unit_id_9b7c6e7d", "main_unit_id", "主办单位"),
}


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0020_overdue_mark"),
        ("orgs", "0002_repair_unit_paths"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="case",
                    name=name,
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="orgs.unit",
                        verbose_name=label,
                    ),
                )
                for name, (_index, _column, label) in FIELDS.items()
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX "{index}" ON "cases_case" ("{column}")',
                )
                for index, column, _label in FIELDS.values()
            ],
        ),
    ]
