from django.db import migrations, models

CODES = ("wechat_progress",)


def add_templates(apps, schema_editor):
    from hotline.intake.defaults import TEMPLATES

    model = apps.get_model("notify", "MessageTemplate")
    for code, name, subject, body in TEMPLATES:
        if code in CODES:
            model.objects.get_or_create(code=code, defaults={"name": name, "subject": subject, "body": body})


def remove_templates(apps, schema_editor):
    apps.get_model("notify", "MessageTemplate").objects.filter(code__in=CODES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0008_sms_phrases_extensions"),
        ("notify", "0010_outbox_headers_db_default"),
    ]

    operations = [
        migrations.AddField(
            model_name="wechatfollower",
            name="pending_media",
            field=models.JSONField(blank=True, db_default=[], default=list, verbose_name="待提交照片"),
        ),
        migrations.RunPython(add_templates, remove_templates),
    ]
