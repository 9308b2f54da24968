from django.db import migrations

# The text as first shipped; admins edit it afterwards (a later change to defaults.py does not rewrite it).
CODE = "co_requester_merged"
NAME = "并单告知（市民）"
SUBJECT = "您的诉求已并单办理"
BODY = (
    "【12345热线】您反映的诉求（工单编号{merged_number}）与工单{number}为同一事项，已合并办理，"
    "办理结果将一并告知您。如有疑问请再次拨打12345。"
)


def forwards(apps, schema_editor):
    MessageTemplate = apps.get_model("notify", "MessageTemplate")
    MessageTemplate.objects.get_or_create(
        code=CODE, defaults={"name": NAME, "subject": SUBJECT, "body": BODY}
    )


def backwards(apps, schema_editor):
    apps.get_model("notify", "MessageTemplate").objects.filter(code=CODE).delete()


class Migration(migrations.Migration):
    dependencies = [("notify", "0003_citizen_templates")]

    operations = [migrations.RunPython(forwards, backwards)]
