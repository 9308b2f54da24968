# Query passwords in citizen SMS bodies written before the outbox sealed them: redacted to ******; a message
# not sent yet keeps its full text sealed for delivery. Batched; `manage.py redact_stored_secrets` re-runs it.

from django.db import migrations


def redact(apps, schema_editor):
    from hotline.notify.redaction import outbox_redact

    outbox_redact(
        outbox_model=apps.get_model("notify", "Outbox"),
        template_model=apps.get_model("notify", "MessageTemplate"),
    )


class Migration(migrations.Migration):

    dependencies = [
        ("notify", "0005_outbox_sealed_body"),
    ]

    operations = [
        migrations.RunPython(redact, migrations.RunPython.noop, elidable=True),
    ]
