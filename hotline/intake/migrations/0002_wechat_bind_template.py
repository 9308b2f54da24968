from django.db import migrations

CODE = "wechat_bind_code"
NAME = "微信绑定手机验证码（市民）"
SUBJECT = "12345热线微信绑定验证码"
BODY = "【12345热线】您正在将手机号绑定到12345热线微信公众号，验证码{code}，{minutes}分钟内有效。如非本人操作，请忽略。"


def add_template(apps, schema_editor):
    apps.get_model("notify", "MessageTemplate").objects.get_or_create(
        code=CODE, defaults={"name": NAME, "subject": SUBJECT, "body": BODY}
    )


def remove_template(apps, schema_editor):
    apps.get_model("notify", "MessageTemplate").objects.filter(code=CODE).delete()


class Migration(migrations.Migration):
    dependencies = [("intake", "0001_initial"), ("notify", "0005_outbox_sealed_body")]

    operations = [migrations.RunPython(add_template, remove_template)]
