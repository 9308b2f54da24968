#!/usr/bin/env bash
# Production server, one command: apply migrations, collect static files, then serve the pages and the API with
# gunicorn (config/gunicorn.conf.py: threaded workers, connection budget checked against PostgreSQL).
# Needs DJANGO_SECRET_KEY, HOTLINE_DATA_KEY, DATABASE_URL, DJANGO_ALLOWED_HOSTS (see README, "Production").
# HOTLINE_MIGRATE=0 skips the migrations (when several servers start from one release, migrate once).
# HOTLINE_PUSH_BIND set (e.g. 127.0.0.1:8001): the push endpoints (URLs ending in /events/) are also served there
# by uvicorn (scripts/serve-push.sh); the reverse proxy routes `location ~ /events/$` to it (README, "Push").
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.prod}
mkdir -p "${HOTLINE_VAR_DIR:-var}"
if [ "${HOTLINE_MIGRATE:-1}" = 1 ]; then
  .venv/bin/python manage.py migrate --no-input -v 0
fi
.venv/bin/python manage.py collectstatic --no-input -v 0
if [ -z "${HOTLINE_PUSH_BIND:-}" ]; then
  exec .venv/bin/gunicorn -c config/gunicorn.conf.py
fi
scripts/serve-push.sh &
push_pid=$!
.venv/bin/gunicorn -c config/gunicorn.conf.py &
web_pid=$!
trap 'kill -TERM "$web_pid" "$push_pid" 2>/dev/null || true' TERM INT
status=0
wait -n "$web_pid" "$push_pid" || status=$?
kill -TERM "$web_pid" "$push_pid" 2>/dev/null || true
wait || true
exit "$status"
