# Case events wait for the case-events job (cases/events.py) while `queued`; a partial index finds them. Adding a
# column with a constant default changes no row on PostgreSQL (metadata only). The database default serves the
# deadline sweep, which inserts timeline events in SQL.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0015_assignment_supervision_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="caseevent",
            name="queued",
            field=models.BooleanField(db_default=False, default=False, verbose_name="待后台处理"),
        ),
        migrations.AddIndex(
            model_name="caseevent",
            index=models.Index(
                condition=models.Q(("queued", True)), fields=["id"], name="caseevent_queued_idx"
            ),
        ),
    ]
