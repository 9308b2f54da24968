"""The overdue mark moves out of the wide case row into a narrow table of its own (issue 11, item 20)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0019_callback_time_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='OverdueMark',
            fields=[
                ('case', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='overdue_mark', serialize=False, to='cases.case', verbose_name='工单')),
                ('at', models.DateTimeField(verbose_name='标记时间')),
            ],
            options={
                'verbose_name': '超期标记',
                'verbose_name_plural': '超期标记',
            },
        ),
        # Every case flagged so far keeps its mark (the moment it was flagged was not kept: the migration's).
        migrations.RunSQL(
            "INSERT INTO cases_overduemark (case_id, at) SELECT id, CURRENT_TIMESTAMP FROM cases_case WHERE is_overdue",
            "UPDATE cases_case SET is_overdue = true WHERE id IN (SELECT case_id FROM cases_overduemark)",
        ),
        migrations.RemoveField(
            model_name='case',
            name='is_overdue',
        ),
    ]
