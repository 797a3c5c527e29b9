"""Smoke test of `make run`'s embedded defaults: SQLite and the filesystem broker.

Starts the same processes scripts/run.sh does (web and a Celery worker with beat), each
on its own SQLite database and broker folder in a temporary directory, never on the
test suite's PostgreSQL or Redis.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CELERY = str(Path(sys.executable).parent / "celery")


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return condition()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str) -> tuple[int, str]:
    """Status and body of a GET, or (0, error) when nothing answers yet."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    except OSError as exc:
        return 0, str(exc)
    finally:
        conn.close()


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a process started here, and its children (it leads its own session)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def test_web_and_worker_run_on_the_embedded_defaults(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"}
        and not k.startswith(("COV_CORE_", "PYTEST_"))
    }
    env |= {
        "BILLING_OPS_VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "billing_ops.settings.local",
        "PYTHONUNBUFFERED": "1",
    }

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            # migrate: ~70 CPU s (180 s was too little once, on a loaded machine)
            timeout=600,
        )

    migrated = manage("migrate", "--noinput", "-v0")
    assert migrated.returncode == 0, migrated.stderr
    assert (var_dir / "billing_ops.sqlite3").is_file()

    # The KPI dashboard and the vendor console read on SQLite (PostgreSQL sums in SQL; here
    # the plain per-day read runs), for a month, 90 days and a year (monthly sparklines).
    dashboard = manage(
        "shell",
        "-c",
        "import datetime as dt; from django.utils import timezone; "
        "from practices.models import Practice; from reports import dashboard; "
        "from reports.selectors import period; "
        "p = Practice.objects.create(name='Embedded', slug='embedded', kind='dental'); "
        "today = timezone.localdate(); "
        "chosen = [period('this_month', today), period('last_90', today), "
        "period('custom', today, today - dt.timedelta(days=364), today)]; "
        "built = [dashboard.build([p.pk], c, practice_id=p.pk) for c in chosen]; "
        "console = [dashboard.console([p.pk], c) for c in chosen]; "
        "print('built', len(built), all(len(b['tiles']) > 5 for b in built), "
        "len(console[-1]['figures']))",
    )
    assert dashboard.returncode == 0, dashboard.stderr
    assert dashboard.stdout.strip().splitlines()[-1] == "built 3 True 2", dashboard.stdout

    worker_log = tmp_path / "worker.log"
    web_log = tmp_path / "web.log"
    port = free_port()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with worker_log.open("wb") as out:
            processes.append(
                subprocess.Popen(
                    [
                        CELERY,
                        "-A",
                        "billing_ops",
                        "worker",
                        "-B",
                        "--loglevel=INFO",
                        "--concurrency=1",
                        "--without-gossip",
                        "--without-mingle",
                        "--without-heartbeat",
                    ],
                    cwd=BASE_DIR,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        with web_log.open("wb") as out:
            processes.append(
                subprocess.Popen(
                    [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                    cwd=BASE_DIR,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

        def alive() -> None:
            for process in processes:
                assert process.poll() is None, (worker_log.read_text(), web_log.read_text())

        page: list[tuple[int, str]] = []

        def login_page_served() -> bool:
            alive()
            page[:] = [get(port, "/account/login/")]
            return page[0][0] == 200

        assert wait_until(login_page_served, 60), (page, web_log.read_text())
        assert "Sign in" in page[0][1]

        def worker_says(pattern: str) -> Callable[[], bool]:
            def check() -> bool:
                alive()
                return re.search(pattern, worker_log.read_text()) is not None

            return check

        assert wait_until(worker_says(r"celery@\S+ ready\."), 60), worker_log.read_text()
        assert "beat: Starting" in worker_log.read_text()

        enqueued = manage(
            "shell",
            "-c",
            "from practices.tasks import sync_user_access_task; "
            "print(sync_user_access_task.delay(999999).id)",
        )
        assert enqueued.returncode == 0, enqueued.stderr
        task_id = enqueued.stdout.strip().splitlines()[-1]
        assert re.fullmatch(r"[0-9a-f-]{36}", task_id), enqueued.stdout

        done = rf"Task practices\.tasks\.sync_user_access_task\[{task_id}\] succeeded"
        assert wait_until(worker_says(done), 60), worker_log.read_text()
        assert re.search(done + r" in [0-9.]+s: \(0, 0\)", worker_log.read_text())
    finally:
        for process in processes:
            stop(process)
