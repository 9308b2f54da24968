#!/usr/bin/env bash
# The push endpoints (SSE: every URL ending in /events/ — online chat, the call bar) under uvicorn (ASGI): each
# open stream waits on the event loop instead of holding one of gunicorn's threads, so one process holds
# hundreds of streams (bench/chat_bench.py). The reverse proxy sends `location ~ /events/$` here and everything
# else to gunicorn (scripts/serve-prod.sh starts both when HOTLINE_PUSH_BIND is set). Publishers are gunicorn's
# workers and the call controller: HOTLINE_PUSH_REDIS (Redis pub/sub) is required.
# Environment: HOTLINE_PUSH_BIND (127.0.0.1:8001), HOTLINE_PUSH_WORKERS (1).
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.prod}
if [ -z "${HOTLINE_PUSH_REDIS:-}${HOTLINE_TELEPHONY_REDIS:-}" ]; then
  echo "serve-push: set HOTLINE_PUSH_REDIS (the pages that publish run in other processes)" >&2
  exit 2
fi
bind=${HOTLINE_PUSH_BIND:-127.0.0.1:8001}
# A stream's view reads the database once (who may listen), inside one of HOTLINE_PUSH_DB_SLOTS (default 8: the
# most connections a burst of stream opens takes at once); no connection is kept between requests.
export DATABASE_CONN_MAX_AGE=0
# The push server needs none of what the pages warm up (jieba, the search index, templates).
export HOTLINE_WARM_UP=${HOTLINE_PUSH_WARM_UP:-0}
exec .venv/bin/uvicorn config.asgi:application --host "${bind%:*}" --port "${bind##*:}" \
  --workers "${HOTLINE_PUSH_WORKERS:-1}" --no-access-log --proxy-headers --forwarded-allow-ips 127.0.0.1 \
  --timeout-graceful-shutdown 5
