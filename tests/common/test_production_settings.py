"""Production settings refuse the public development secrets and pass Django's deployment checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD = {
    "DJANGO_SECRET_KEY": "k" * 20 + "-production-secret-0123456789abcdefXYZ",
    "HOTLINE_DATA_KEY": "d" * 40,
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SECRET_KEY", "HOTLINE_DATA_KEY", "DATABASE_URL"}
    }
    base.update(
        DJANGO_SETTINGS_MODULE="config.settings.prod", DJANGO_ALLOWED_HOSTS="12345.example.gov.cn", **env
    )
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=base, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("missing", "value"),
    [
        ("HOTLINE_DATA_KEY", None),
        ("HOTLINE_DATA_KEY", "development-data-key-change-me"),
        ("DJANGO_SECRET_KEY", None),
        ("DJANGO_SECRET_KEY", "insecure-development-key-change-me"),
    ],
)
def test_production_refuses_to_start_without_its_secrets(missing, value):
    env = {k: v for k, v in GOOD.items() if k != missing}
    if value is not None:
        env[missing] = value
    result = manage("check", **env)
    assert result.returncode != 0
    assert f"{missing} must be set" in result.stderr


def test_deployment_checks_pass_with_production_settings():
    result = manage("check", "--deploy", "--tag", "security", "--fail-level", "WARNING", **GOOD)
    assert result.returncode == 0, result.stdout + result.stderr
