# RequestKey moves from citizens to cases (cases owns duplicate screening). State only: the table and its rows
# stay; 0009 renames the table.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0007_query_password_reset'),
        ('citizens', '0004_requestkey_covering_index'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='RequestKey',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('key', models.BigIntegerField(verbose_name='特征值')),
                        ('weight', models.FloatField(default=0.0, verbose_name='权重')),
                        ('at', models.DateTimeField(verbose_name='受理时间')),
                        ('case', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='cases.case', verbose_name='工单')),
                    ],
                    options={
                        'verbose_name': '诉求特征索引',
                        'verbose_name_plural': '诉求特征索引',
                        'db_table': 'citizens_requestkey',
                        'indexes': [models.Index(fields=['key', 'at', 'case'], include=('weight',), name='requestkey_key_at_w_idx'), models.Index(fields=['case'], name='requestkey_case_idx')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
