#!/usr/bin/env bash
# Load smoke test of the production server on PostgreSQL (CI runs it after the tests): a fresh database with the
# demo city's accounts, `scripts/serve-prod.sh` on 127.0.0.1, then scripts/serve_smoke.py (500 case creates from
# 8 clients, 200 dispatches; any 5xx fails). Bounded: the server is stopped after at most 400 s.
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${HOTLINE_SMOKE_DB:-hotline_smoke}
PORT=${HOTLINE_SMOKE_PORT:-8790}
PG="-h 127.0.0.1 -U postgres"
dropdb $PG --if-exists "$DB"
createdb $PG "$DB"
VAR=$(mktemp -d)
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB
export DJANGO_SETTINGS_MODULE=config.settings.prod DJANGO_SECRET_KEY=smoke-test-only-not-a-secret-0123456789 HOTLINE_DATA_KEY=smoke-test-only-not-a-secret-9876543210
export DJANGO_ALLOWED_HOSTS=127.0.0.1 HOTLINE_BIND=127.0.0.1:$PORT HOTLINE_VAR_DIR=$VAR
.venv/bin/python manage.py migrate --no-input -v 0
# The demo accounts (with development settings: the demo package need not be installed in production).
DJANGO_SETTINGS_MODULE=config.settings.dev .venv/bin/python manage.py seed_demo --cases 0 >/dev/null
HOTLINE_MIGRATE=0 HOTLINE_WEB_WORKERS=${HOTLINE_WEB_WORKERS:-3} timeout 400 ./scripts/serve-prod.sh >"$VAR/server.log" 2>&1 &
SERVER=$!
cleanup() {
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  grep -E " 5[0-9][0-9] |Traceback|Error" "$VAR/server.log" | head -20 || true
  dropdb $PG --if-exists "$DB" || true
  rm -rf "$VAR"
}
trap cleanup EXIT
.venv/bin/python scripts/serve_smoke.py --base "http://127.0.0.1:$PORT" --wait 240 "$@"
