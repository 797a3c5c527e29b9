#!/usr/bin/env bash
# `make test`: start a throwaway PostgreSQL and Redis, run the whole suite, stop them.
# PostgreSQL refuses to run as root: as root the server runs as the `postgres` account;
# as any other user it runs as that user.
source "$(dirname "$0")/_venv.sh"
PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"
[ -x "$PG_BIN/initdb" ] || { echo "PostgreSQL server binaries not found (set PG_BIN)." >&2; exit 1; }
command -v redis-server >/dev/null || { echo "redis-server not found (apt-get install redis-server)." >&2; exit 1; }

work=$(mktemp -d /tmp/billing-ops-test.XXXXXX)
chmod 755 "$work"
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres "$work"
  as_pg=(runuser -u postgres --)
fi
free_port() { .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PGPORT=$(free_port); REDIS_PORT=$(free_port)

cleanup() {
  [ -n "${migrating:-}" ] && kill "$migrating" 2>/dev/null || true
  "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  [ -f "$work/redis.pid" ] && kill "$(cat "$work/redis.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

"${as_pg[@]}" "$PG_BIN/initdb" -D "$work/pg" -U billing --auth=trust -E UTF8 >/dev/null
"${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w \
  -o "-p $PGPORT -k $work -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null
# The database DATABASE_URL names (pytest-django creates test_billing_ops beside it);
# makemigrations --check and the production-settings tests connect to it.
"${as_pg[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U billing billing_ops
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
  --daemonize yes --pidfile "$work/redis.pid" --logfile "$work/redis.log"

export DATABASE_URL="postgresql://billing@127.0.0.1:${PGPORT}/billing_ops"
export CELERY_BROKER_URL="redis://127.0.0.1:${REDIS_PORT}/0"
export REDIS_URL="redis://127.0.0.1:${REDIS_PORT}/1"
export BILLING_OPS_VAR_DIR="$work/var"
export DJANGO_SETTINGS_MODULE=billing_ops.settings.test

# The test databases are migrated once, into a template, while the static checks run on
# the other core; then each is a copy of it, which pytest reuses (`--reuse-db`) rather
# than migrating again per pytest-xdist worker: Django re-renders every related model at
# each operation of the ~110 migrations, ~70 CPU s a migrate.
template=billing_ops_template
"${as_pg[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U billing "$template"
DATABASE_URL="postgresql://billing@127.0.0.1:${PGPORT}/$template" \
  .venv/bin/python manage.py migrate --noinput -v0 >"$work/migrate.log" 2>&1 &
migrating=$!

# FAST=1 skips the static checks (for a quick rerun of a few tests while working).
if [ -z "${FAST:-}" ]; then
.venv/bin/ruff check .
.venv/bin/ruff format --check . >/dev/null || { .venv/bin/ruff format --check .; exit 1; }
# Types: strict on work/ and billing_ops/ (config in pyproject.toml [tool.mypy]); the
# django-stubs plugin imports DJANGO_SETTINGS_MODULE, so this runs after the exports above.
.venv/bin/mypy .
# Layers import one way (pyproject.toml [tool.importlinter]).
.venv/bin/lint-imports --no-cache >/dev/null || { .venv/bin/lint-imports --no-cache; exit 1; }
.venv/bin/python manage.py makemigrations --check --dry-run >/dev/null \
  || { echo "Model changes without migrations: run manage.py makemigrations." >&2; exit 1; }
fi
wait "$migrating" || { cat "$work/migrate.log" >&2; echo "migrate failed." >&2; exit 1; }
migrating=
# pytest-django's names: test_billing_ops in one process, a _gwN suffix per xdist worker
# (a worker beyond these, or of TEST_WORKERS=auto, is created and migrated by pytest).
copies=2; [[ "${TEST_WORKERS:-2}" =~ ^[0-9]+$ ]] && copies=$((10#${TEST_WORKERS:-2}))
for name in test_billing_ops $(seq -f 'test_billing_ops_gw%g' 0 $(( copies - 1 ))); do
  "${as_pg[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U billing -T "$template" "$name"
done
# The whole suite (no arguments: `make test`) runs on TEST_WORKERS pytest-xdist workers
# (default 2, one per core of the CI machine; 0 runs in this process). Each module (or
# class) stays on one worker so its shared fixtures are built once.
workers=()
if [ "$#" = 0 ] && [ "${TEST_WORKERS:-2}" != 0 ]; then
  workers=(-n "${TEST_WORKERS:-2}" --dist loadscope)
fi
# The whole suite also names its slowest tests (the suite's time is budgeted).
[ "$#" = 0 ] && workers+=(--durations=20 --durations-min=15)
set +e
.venv/bin/python -m pytest --reuse-db "${workers[@]}" "$@"
status=$?
set -e
if [ "$status" = 5 ]; then
  echo "pytest collected no tests: failing." >&2
  exit 1
fi
exit "$status"
