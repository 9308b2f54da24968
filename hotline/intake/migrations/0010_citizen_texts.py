from django.db import migrations


def add_templates(apps, schema_editor):
    """The WeChat conversation texts become message templates (shipped defaults; staff edit them on 市民文案)."""
    from hotline.intake.defaults import TEMPLATES

    model = apps.get_model("notify", "MessageTemplate")
    for code, name, subject, body in TEMPLATES:
        if code.startswith("wechat_"):
            model.objects.get_or_create(code=code, defaults={"name": name, "subject": subject, "body": body})


def remove_templates(apps, schema_editor):
    keep = {"wechat_bind_code", "wechat_progress"}  # made by 0002 and 0009
    apps.get_model("notify", "MessageTemplate").objects.filter(code__startswith="wechat_").exclude(
        code__in=keep
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("intake", "0009_wechat_photos_progress")]

    operations = [migrations.RunPython(add_templates, remove_templates)]
