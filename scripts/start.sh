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
# Telephony (Kamailio + pjsua2 media node + call control) when installed; it says "off" and exits otherwise.
# Live call-bar pushes cross processes through Redis when one answers on 127.0.0.1.
if command -v redis-cli >/dev/null 2>&1 && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  export HOTLINE_TELEPHONY_REDIS=${HOTLINE_TELEPHONY_REDIS:-redis://127.0.0.1:6379/2}
fi
.venv/bin/python manage.py run_telephony &
TELEPHONY=$!
trap 'kill $WORKER $TELEPHONY 2>/dev/null' EXIT INT TERM
.venv/bin/python manage.py runserver "$HOST:$PORT"
