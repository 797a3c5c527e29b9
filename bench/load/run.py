"""The load run of issue 10: gunicorn with the production settings on loopback, and locust
headless for a bounded time, twice: 20 users with think time (a request every ~2 s each),
then the same 20 users without it.

    python bench/load/run.py --database-url postgresql://billing@127.0.0.1:54351/bench_e

The database is a bench database (``bench/queue_bench.py`` or ``bench/dataset.py`` made
it; its follow-up posts change claims there). The runner starts its own Redis (the
production cache and broker settings need one; nothing consumes the queued tasks), makes
one signed-in, second-factor-verified session per simulated user for ``--user`` (sessions
created in the database as a sign-in would, not through the sign-in page: 20 sign-ins with
Argon2 would be measured too and the throttle allows 30 a minute per address), runs the
phases, prints locust's per-endpoint figures and gunicorn's CPU per request, deletes the
sessions and stops everything it started. See bench/README.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
VENV_BIN = Path(sys.executable).parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--user", default="bill.biller", help="who the simulated users are")
    parser.add_argument("--practice", default="sunrise-dental")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--run-time", default="60s", help="per phase (locust --run-time)")
    parser.add_argument(
        "--workers", type=int, default=5, help="gunicorn sync workers (2 x cores + 1)"
    )
    parser.add_argument("--phases", default="think,busy", help="think, busy or both")
    parser.add_argument("--out", default=None, help="directory for locust's CSV files")
    parser.add_argument(
        "--static-root",
        default=str(Path(tempfile.gettempdir()) / "billing-ops-load-static"),
        help="collectstatic's target, kept between runs (collected when it has no manifest)",
    )
    parser.add_argument("--make-sessions", help=argparse.SUPPRESS)  # internal: child mode
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def production_env(
    database_url: str, redis_port: int, var_dir: str, static_root: str
) -> dict[str, str]:
    redis = f"redis://127.0.0.1:{redis_port}"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "billing_ops.settings.production",
        "DATABASE_URL": database_url,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "REDIS_URL": f"{redis}/1",
        "CELERY_BROKER_URL": f"{redis}/0",
        # Plain HTTP on loopback: no TLS proxy in front, so no redirect to https.
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_DEBUG": "false",
        "BILLING_OPS_VAR_DIR": var_dir,
        "DJANGO_STATIC_ROOT": static_root,
        "PYTHONPATH": str(ROOT),
    }


# --- child mode: sessions -----------------------------------------------------------


def make_sessions(path: str, args: argparse.Namespace) -> None:
    """One session per simulated user, as a sign-in with the second factor leaves it, and
    each user's own claims (payer AR, highest priority first) to open and follow up."""
    import django

    django.setup()
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from billing_ops.middleware import SESSION_LAST_SEEN, SESSION_STARTED
    from claims.choices import PAYER_AR_STATUSES
    from claims.models import Claim
    from practices.models import Practice
    from practices.selectors import mfa_required

    user = get_user_model().objects.get(username=args.user)
    practice = Practice.objects.get(slug=args.practice)
    claims = list(
        Claim.objects.filter(practice=practice, owner=user, status__in=PAYER_AR_STATUSES)
        .order_by("-priority", "-pk")
        .values_list("pk", flat=True)[: args.users * 20]
    )
    device = None
    if mfa_required(user):
        device, _ = TOTPDevice.objects.get_or_create(user=user, name="load run", confirmed=True)
    now = int(time.time())
    slots = []
    for i in range(args.users):
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "practices.backends.UserBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session[SESSION_STARTED] = now
        session[SESSION_LAST_SEEN] = now
        session["practice_id"] = practice.pk
        if device is not None:
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.create()
        slots.append({"session": session.session_key, "claims": claims[i :: args.users]})
    Path(path).write_text(json.dumps(slots))


def delete_sessions(path: str) -> None:
    import django

    django.setup()
    from django.contrib.sessions.models import Session

    keys = [slot["session"] for slot in json.loads(Path(path).read_text())]
    Session.objects.filter(session_key__in=keys).delete()


# --- the run ------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (gunicorn's master and workers)."""
    total = 0.0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    pids += [int(c) for c in children]
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5)  # noqa: S310 (loopback)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.5)
    sys.exit(f"gunicorn did not answer at {url}")


def warm(host: str, session: str, claim: int, rounds: int) -> None:
    """Each page a few times per worker before measuring: a fresh worker loads the URLconf,
    templates and content types on its first requests, which no user waits for twice."""
    request_headers = {"Cookie": f"sessionid={session}", "X-Forwarded-For": "127.0.0.1"}
    paths = ["/queues/my-day/", "/queues/payer-ar/", f"/claims/{claim}/", "/api/v1/claims/"]
    for _ in range(rounds):
        for path in paths:
            request = urllib.request.Request(host + path, headers=request_headers)
            with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
                response.read()


def report(stats_csv: Path) -> list[dict[str, Any]]:
    rows = []
    with stats_csv.open() as f:
        for row in csv.DictReader(f):
            rows.append(row)
            print(
                f"  {row['Name']:24} {int(row['Request Count']):6d} req "
                f"{int(row['Failure Count']):4d} err   p50 {row['50%']:>5} ms  "
                f"p95 {row['95%']:>5} ms  max {float(row['Max Response Time']):7.0f} ms  "
                f"{float(row['Requests/s']):6.1f} req/s"
            )
    return rows


def main() -> None:
    args = parse_args()
    if args.make_sessions:
        if args.make_sessions.startswith("delete:"):
            delete_sessions(args.make_sessions.removeprefix("delete:"))
        else:
            make_sessions(args.make_sessions, args)
        return
    if not args.database_url or not args.database_url.startswith(("postgres", "postgresql")):
        sys.exit("pass --database-url postgresql://... (a bench database)")
    if not (VENV_BIN / "locust").exists():
        sys.exit("locust is not installed here: .venv/bin/pip install -e '.[bench]'")
    work = Path(tempfile.mkdtemp(prefix="billing-ops-load-"))
    out = Path(args.out) if args.out else work
    out.mkdir(parents=True, exist_ok=True)
    redis_port, port = free_port(), free_port()
    env = production_env(args.database_url, redis_port, str(work / "var"), args.static_root)
    sessions = str(work / "sessions.json")
    started: list[subprocess.Popen[bytes]] = []
    try:
        started.append(
            subprocess.Popen(
                ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", ""]
                + ["--appendonly", "no"],
                stdout=subprocess.DEVNULL,
            )
        )
        me = [sys.executable, str(Path(__file__).resolve())]
        common = ["--user", args.user, "--practice", args.practice, "--users", str(args.users)]
        subprocess.run([*me, *common, "--make-sessions", sessions], env=env, check=True)
        # The production storage serves hashed names from a manifest, as the image does.
        if not (Path(args.static_root) / "staticfiles.json").exists():
            subprocess.run(
                [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
                env=env,
                cwd=ROOT,
                check=True,
            )
        gunicorn = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "billing_ops.wsgi:application"]
            + ["--bind", f"127.0.0.1:{port}", "--workers", str(args.workers)]
            + ["--worker-class", "sync", "--timeout", "60", "--log-level", "warning"],
            env=env,
            cwd=ROOT,
        )
        started.append(gunicorn)
        host = f"http://127.0.0.1:{port}"
        wait_for(f"{host}/account/login/")
        first = json.loads(Path(sessions).read_text())[0]
        warm(host, first["session"], first["claims"][0], rounds=3 * args.workers)
        print(
            f"gunicorn: {args.workers} sync workers at {host} (production settings, "
            f"DEBUG off); {args.users} users as {args.user}; load average "
            + " ".join(f"{x:.2f}" for x in os.getloadavg())
        )
        for phase in args.phases.split(","):
            think = phase == "think"
            cpu0, t0 = cpu_seconds(gunicorn.pid), time.monotonic()
            subprocess.run(
                [str(VENV_BIN / "locust"), "-f", str(Path(__file__).parent / "locustfile.py")]
                + ["--headless", "-u", str(args.users), "-r", str(args.users)]
                + ["--run-time", args.run_time, "--host", host, "--only-summary"]
                + ["--csv", str(out / phase), "--loglevel", "WARNING"],
                env={**os.environ, "LOAD_SESSIONS": sessions, "LOAD_THINK": "1" if think else "0"},
                check=True,
                stdout=subprocess.DEVNULL,
            )
            cpu, took = cpu_seconds(gunicorn.pid) - cpu0, time.monotonic() - t0
            print()
            print(
                f"{phase}: {args.users} users, "
                + ("think time 1.5-2.5 s" if think else "no think time")
                + f", {args.run_time}; load average "
                + " ".join(f"{x:.2f}" for x in os.getloadavg())
            )
            rows = report(out / f"{phase}_stats.csv")
            total = next((r for r in rows if r["Name"] == "Aggregated"), None)
            if total and int(total["Request Count"]):
                count = int(total["Request Count"])
                print(
                    f"  gunicorn CPU {cpu:.1f} s over {took:.0f} s: "
                    f"{cpu * 1000 / count:.1f} ms a request"
                )
        subprocess.run([*me, *common, "--make-sessions", f"delete:{sessions}"], env=env)
    finally:
        for process in reversed(started):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        print(f"CSV files in {out}")


if __name__ == "__main__":
    main()
