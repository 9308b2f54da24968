#!/usr/bin/env bash
# Runs the whole test suite (on SQLite by default; set DATABASE_URL for PostgreSQL). Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --test
exec .venv/bin/python -m pytest "$@"
