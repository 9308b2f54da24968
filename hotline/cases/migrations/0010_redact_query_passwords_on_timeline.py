# Query passwords copied onto case timelines ("短信告知来电人") by code older than the sealed outbox: redacted
# to ******. Batched; `manage.py redact_stored_secrets` re-runs it.

from django.db import migrations


def redact(apps, schema_editor):
    from hotline.cases.redaction import timeline_redact

    timeline_redact(
        event_model=apps.get_model("cases", "CaseEvent"),
        template_model=apps.get_model("notify", "MessageTemplate"),
    )


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0009_requestkey_table"),
        ("notify", "0006_redact_stored_query_passwords"),
    ]

    operations = [
        migrations.RunPython(redact, migrations.RunPython.noop, elidable=True),
    ]
