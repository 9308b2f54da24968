"""Benchmarks with their targets. Run them as modules from the repository root (`python -m bench.case_bench`).

Importing the package sets Django up against DATABASE_URL, with DEBUG off (DEBUG keeps every query in memory
and would distort the figures).
"""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
os.environ.setdefault("DJANGO_DEBUG", "0")
django.setup()


def require_postgresql() -> str:
    """The database name, or exit with a hint if DATABASE_URL does not point at PostgreSQL."""
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit(
            "这些基准测试需要 PostgreSQL：请设置 DATABASE_URL，例如 "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_bench"
        )
    return str(connection.settings_dict["NAME"])
