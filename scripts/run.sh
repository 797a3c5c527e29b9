#!/usr/bin/env bash
# `make run`: web + Celery worker (with beat) on the embedded defaults (SQLite and a
# filesystem broker under var/), with the demo loaded. Ctrl-C stops everything.
# DEBUG is off (branded error pages); `DJANGO_DEBUG=true make run` turns it on.
source "$(dirname "$0")/_venv.sh"
export DJANGO_SETTINGS_MODULE=billing_ops.settings.local
unset DATABASE_URL CELERY_BROKER_URL REDIS_URL
PORT="${PORT:-8000}"
py=.venv/bin/python
$py manage.py migrate --noinput -v0
$py manage.py seed_demo
pids=()
cleanup() { trap - INT TERM EXIT; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup INT TERM EXIT
# One worker node with beat embedded: the filesystem transport is unreliable for
# broadcast between several nodes.
.venv/bin/celery -A billing_ops worker -B --loglevel=INFO --concurrency=2 \
  --without-gossip --without-mingle --without-heartbeat &
pids+=($!)
$py manage.py runserver "127.0.0.1:${PORT}" --noreload &
pids+=($!)
echo
echo "billing-ops is running at http://127.0.0.1:${PORT}/  (Ctrl-C stops web, worker and beat)"
echo "Logins above; password for all: demo-pass-123"
wait -n "${pids[@]}"
