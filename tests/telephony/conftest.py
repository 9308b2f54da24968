"""Fixtures of the end-to-end telephony tests: one SIP environment for the whole run (Kamailio, a media node,
four phones), a call controller per test on the test's own var directory. See `e2e.py`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .e2e import run_controller, start_sip_env


@pytest.fixture(scope="session")
def sip_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    yield from start_sip_env(tmp_path_factory)


@pytest.fixture
def controller(sip_env: dict[str, Any], settings: Any, tmp_path: Path) -> Iterator[Any]:
    yield from run_controller(sip_env, settings, tmp_path)
