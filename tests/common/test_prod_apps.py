"""Production settings leave the demo app out (its seed_demo command must not exist on a real server)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_is_not_installed_in_production():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "HOTLINE_DATA_KEY": secrets.token_urlsafe(32),
        "DJANGO_ALLOWED_HOSTS": "12345.example.gov.cn",
    }
    code = "import django; django.setup(); from django.conf import settings; print(settings.INSTALLED_APPS)"
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "hotline.demo" not in result.stdout and "hotline.cases" in result.stdout
