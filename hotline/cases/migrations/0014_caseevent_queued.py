# Case events wait for the case-events job (cases/events.py) while `queued`; a partial index finds them. Adding a
# column with a constant default changes no row on PostgreSQL (metadata only).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0013_case_fillfactor_for_hot_updates"),
    ]

    operations = [
        migrations.AddField(
            model_name="caseevent",
            name="queued",
            field=models.BooleanField(default=False, verbose_name="待后台处理"),
        ),
        migrations.AddIndex(
            model_name="caseevent",
            index=models.Index(
                condition=models.Q(("queued", True)), fields=["id"], name="caseevent_queued_idx"
            ),
        ),
    ]
