"""Open311 links carry their case's requested time, indexed (partner, time): a partner's own requests are paged
from the link table instead of probing every one of its cases. Backfilled from the cases."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    Open311Request = apps.get_model("integrations", "Open311Request")
    Open311Request.objects.filter(case_created_at__isnull=True).update(
        case_created_at=Subquery(Case.objects.filter(pk=OuterRef("case_id")).values("created_at")[:1])
    )
    # A link whose case is gone (none should be) keeps its own time rather than blocking the NOT NULL below.
    Open311Request.objects.filter(case_created_at__isnull=True).update(case_created_at=models.F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0017_request_embedding"),
        ("integrations", "0005_knowledge_api_clients_to_partners"),
    ]

    operations = [
        migrations.AddField(
            model_name="open311request",
            name="case_created_at",
            field=models.DateTimeField(null=True, verbose_name="工单受理时间"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="open311request",
            name="case_created_at",
            field=models.DateTimeField(verbose_name="工单受理时间"),
        ),
        migrations.AddIndex(
            model_name="open311request",
            index=models.Index(
                fields=["partner", "-case_created_at", "-case_id"], name="integ_o311_partner_case_time"
            ),
        ),
    ]
