# RequestKey now belongs to cases (cases/migrations/0008): drop it from this app's state only.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('citizens', '0004_requestkey_covering_index'),
        ('cases', '0008_requestkey_from_citizens'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='RequestKey')],
            database_operations=[],
        ),
    ]
