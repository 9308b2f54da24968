from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgsConfig(AppConfig):
    name = "hotline.orgs"
    label = "orgs"
    verbose_name = _("组织与人员")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed

        from .spraying import on_login_failed

        user_login_failed.connect(on_login_failed, dispatch_uid="hotline-spraying")

        from django.db.models.signals import pre_save

        from .models import User
        from .tokens import revoke_on_password_change

        pre_save.connect(revoke_on_password_change, sender=User, dispatch_uid="hotline-token-password")
