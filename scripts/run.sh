#!/usr/bin/env bash
# `make run`: web + Celery worker (with beat) on the embedded defaults (SQLite and a
# filesystem broker under var/), with the demo loaded. Ctrl-C stops everything.
# DEBUG is off (branded error pages); `DJANGO_DEBUG=true make run` turns it on.
# PORT (default 8000) is the web server's port: `PORT=8001 make run`.
source "$(dirname "$0")/_venv.sh"
export DJANGO_SETTINGS_MODULE=billing_ops.settings.local
unset DATABASE_URL CELERY_BROKER_URL REDIS_URL
PORT="${PORT:-8000}"
HOST=127.0.0.1
py=.venv/bin/python
var="${BILLING_OPS_VAR_DIR:-var}"
mkdir -p "$var"

port_free() { "$py" -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1], int(sys.argv[2])))' "$HOST" "$PORT" 2>/dev/null; }
port_answers() { "$py" -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1)' "$HOST" "$PORT" 2>/dev/null; }

if ! port_free; then
  echo "Port $PORT on $HOST is already in use: stop what uses it, or choose another port, e.g. PORT=8001 make run" >&2
  exit 1
fi
$py manage.py migrate --noinput -v0
logins=$($py manage.py seed_demo)

pids=()
stopping=0
cleanup() {
  trap - INT TERM EXIT
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
# Ctrl-C is how one stops it: a clean stop, exit status 0 (no "make: *** Error").
on_signal() { stopping=1; echo; echo "Stopping web, worker and beat..."; cleanup; exit 0; }
trap on_signal INT TERM HUP
trap cleanup EXIT
# The servers run in sessions of their own (setsid), so Ctrl-C reaches this script alone and
# it stops them with SIGTERM. In the terminal's process group the worker took the SIGINT
# too and ended with status 1 (Celery's exit status for SIGINT); when that exit was reaped
# before this script ran its INT trap, `make run` reported a failed stop.
# One worker node with beat embedded: the filesystem transport is unreliable for
# broadcast between several nodes. Its banner and log go to a file, not over the logins.
setsid .venv/bin/celery -A billing_ops worker -B --loglevel=INFO --concurrency=2 \
  --without-gossip --without-mingle --without-heartbeat >"$var/worker.log" 2>&1 &
pids+=($!)
setsid $py manage.py runserver "$HOST:${PORT}" --noreload &
web=$!
pids+=($web)

# "running at" only once the port answers; if the server died first, say so and fail.
for _ in $(seq 1 300); do
  if port_answers; then break; fi
  if ! kill -0 "$web" 2>/dev/null; then
    echo "The web server did not start (port $PORT taken?): see the messages above." >&2
    exit 1
  fi
  sleep 0.1
done
if ! port_answers; then
  echo "The web server did not answer on port $PORT within 30 seconds." >&2
  exit 1
fi
echo
echo "$logins"
echo
echo "billing-ops is running at http://$HOST:${PORT}/  (Ctrl-C stops web, worker and beat; worker log: $var/worker.log)"
set +e
wait -n "${pids[@]}"
status=$?
[ "$stopping" = 1 ] && exit 0
echo "A process stopped (exit status $status): stopping the others." >&2
exit "$status"
