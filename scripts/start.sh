#!/usr/bin/env bash
# One command for a newcomer: install, create the SQLite database, load the demo city, start the server.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.dev}
mkdir -p "${HOTLINE_VAR_DIR:-var}"
.venv/bin/python manage.py migrate --no-input -v 0
.venv/bin/python manage.py seed_demo
HOST=${HOTLINE_HOST:-127.0.0.1}
PORT=${HOTLINE_PORT:-8000}
echo
echo "12345 热线平台已启动： http://$HOST:$PORT/   （API 文档 http://$HOST:$PORT/api/v1/docs/ ，管理后台 http://$HOST:$PORT/admin/）"
# Background jobs (deadline sweep, message delivery) in a companion process, stopped with the server.
.venv/bin/python manage.py run_worker &
WORKER=$!
trap 'kill $WORKER 2>/dev/null' EXIT INT TERM
.venv/bin/python manage.py runserver "$HOST:$PORT"
