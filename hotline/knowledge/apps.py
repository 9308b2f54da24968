from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    name = "hotline.knowledge"
    label = "knowledge"
    verbose_name = _("知识库")

    def ready(self) -> None:
        from hotline.common.registry import register_warm_up

        from .engine import get_engine

        register_warm_up("knowledge_index", lambda: get_engine().count())

        from hotline.common.registry import MenuEntry, register_menu_entry

        register_menu_entry(
            MenuEntry("knowledge", _("知识库"), "kb-search", 50, active_prefix="kb-", testid="nav-kb")
        )
