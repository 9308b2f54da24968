from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from hotline.knowledge.engine import get_engine, index_dir
from hotline.knowledge.indexing import rebuild


class Command(BaseCommand):
    help = "重建知识库检索索引（从数据库读取全部可检索条目）"

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        count = rebuild(get_engine())
        self.stdout.write(
            self.style.SUCCESS(
                f"已索引 {count} 条知识，用时 {time.perf_counter() - started:.1f} 秒（{index_dir()}）"
            )
        )
