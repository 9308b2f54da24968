# The moved table takes its new app's name (a rename: the rows and indexes are kept).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0008_requestkey_from_citizens'),
        ('citizens', '0005_requestkey_to_cases'),
    ]

    operations = [
        migrations.AlterModelTable(name='requestkey', table=None),
    ]
