"""API-1: the OpenAPI schema is true. Schemathesis fuzzes every operation of the live test server, logged in
with a token, and no answer may be a 5xx or break the schema.

Bounded (a few examples per operation, a time budget); CI runs it from `.ci/run` with HOTLINE_SCHEMATHESIS=1
because it takes a minute or two, more than the rest of a test file should.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token

from tests.conftest import dispatched_to, submitted_case

pytestmark = pytest.mark.skipif(
    not os.environ.get("HOTLINE_SCHEMATHESIS"), reason="set HOTLINE_SCHEMATHESIS=1 (run by .ci/run)"
)

CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"


def test_the_api_keeps_its_schema(transactional_db, live_server, city, people, tmp_path: Path):
    token = Token.objects.create(user=people.dispatcher)
    dispatched_to(city, people, city.xingfu)
    submitted_case(city, people)
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{live_server.url}/api/v1/schema/",
        "--header",
        f"Authorization: Token {token.key}",
        "--checks",
        CHECKS,
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        os.environ.get("HOTLINE_SCHEMATHESIS_EXAMPLES", "5"),
        "--max-time",
        os.environ.get("HOTLINE_SCHEMATHESIS_SECONDS", "120"),
        # Revoking a token (the run's own, too) is tested in tests/orgs; fuzzing it left the rest unauthenticated.
        "--exclude-path-regex",
        "^/api/v1/auth/tokens/",
        "--workers",
        "1",
        "--seed",
        "12345",
        "--generation-database",
        "none",
        "--request-timeout",
        "20",
        "--no-color",
        "--report-dir",
        str(tmp_path),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=240)
    (tmp_path / "schemathesis.txt").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
