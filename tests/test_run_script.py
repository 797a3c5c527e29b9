"""`make run` as a new user meets it (issue 9): scripts/run.sh itself, in a temporary var/.

It says "running at" only once the port answers, the demo logins come last, the demo biller
signs in and reads My day and a claim on SQLite, a taken port is a clear error with a
non-zero exit, Ctrl-C stops everything with exit status 0, and a 404 is logged once.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import os
import queue
import re
import signal
import socket
import subprocess
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BASE_DIR = Path(__file__).resolve().parent.parent
# Seeding 3,000 demo claims into a fresh SQLite file, then starting web and worker.
START_TIMEOUT = 600


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_from_a_terminal() -> None:
    """In the script's process, before it starts: SIGINT handled by default, as from a
    terminal. A suite started in the background of a non-interactive shell inherits SIGINT
    ignored, and a shell cannot trap a signal ignored on entry: the script's Ctrl-C then
    did nothing (both failures of this test in this stop's clean-clone checks, 0a1fa8d)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_env(tmp_path: Path, port: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
        and not k.startswith(("COV_CORE_", "PYTEST_"))
    }
    return env | {
        "BILLING_OPS_VAR_DIR": str(tmp_path / "var"),
        "PORT": str(port),
        "PYTHONUNBUFFERED": "1",
    }


def start_run(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    """`make run`'s script in a session of its own, its output one pipe."""
    return subprocess.Popen(
        ["bash", "scripts/run.sh"],
        cwd=BASE_DIR,
        env=run_env(tmp_path, port),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=as_from_a_terminal,
    )


def lines_of(process: subprocess.Popen[str]) -> queue.Queue[str | None]:
    """The process's output, line by line, read on a thread (None at its end)."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        with process.stdout:
            for line in process.stdout:
                lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def until(lines: queue.Queue[str | None], text: str, seen: list[str]) -> bool:
    """Read lines (into ``seen``) until one contains ``text``; False at the end of output."""
    while True:
        line = lines.get(timeout=START_TIMEOUT)
        if line is None:
            return False
        seen.append(line)
        if text in line:
            return True


def status_of(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def signed_in_pages(port: int) -> tuple[str, str]:
    """Sign in as the demo biller over HTTP; My day's HTML and its first claim's page (the
    embedded database's own queries, which the suite on PostgreSQL never runs)."""
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    with opener.open(f"{base}/account/login/", timeout=60) as response:
        form = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert token, form
    fields = {
        "csrfmiddlewaretoken": token.group(1),
        "username": "bill.biller",
        "password": "demo-pass-123",
    }
    sign_in = urllib.request.Request(
        f"{base}/account/login/", data=urllib.parse.urlencode(fields).encode()
    )
    with opener.open(sign_in, timeout=60) as response:
        assert response.status == 200 and response.url.endswith("/queues/my-day/")
        day = response.read().decode()
    claim = re.search(r'href="(/claims/\d+/)', day)
    assert claim, day
    with opener.open(base + claim.group(1), timeout=60) as response:
        assert response.status == 200
        return day, response.read().decode()


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_a_taken_port_is_a_clear_error(tmp_path: Path, taken_port: int) -> None:
    done = subprocess.run(
        ["bash", "scripts/run.sh"],
        cwd=BASE_DIR,
        env=run_env(tmp_path, taken_port),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert f"Port {taken_port}" in done.stderr and "already in use" in done.stderr
    assert "PORT=" in done.stderr
    assert "running at" not in done.stdout


def test_running_at_means_it_answers_and_ctrl_c_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    process = start_run(tmp_path, port)
    lines = lines_of(process)
    drained = False
    try:
        seen: list[str] = []
        assert until(lines, "running at", seen), "\n".join(seen)
        # The port answers the moment it says so.
        assert status_of(port, "/account/login/") == 200
        # The logins come last, after the servers' banners; the worker's is in its log file.
        tail = "\n".join(seen[-12:])
        assert "bill.biller" in tail and "demo-pass-123" in tail
        assert "celery@" not in "\n".join(seen)
        assert (tmp_path / "var" / "worker.log").is_file()
        # A 404 is one line: the server's access line, not also Django's warning.
        assert status_of(port, "/no-such-page-9/") == 404
        after: list[str] = []
        assert until(lines, '"GET /no-such-page-9/ HTTP/1.1" 404', after)
        # Signed in, My day and a claim page with its higher layers' panels work on SQLite
        # (fast paths written for PostgreSQL fall back there; the suite on PostgreSQL never
        # runs them). Checked here rather than in a second start: each start migrates and
        # seeds a fresh SQLite file (~95 s of the suite).
        day, claim_page = signed_in_pages(port)
        assert 'id="queue-table"' in day and "sunrise" in day.lower()
        assert 'id="escalations-panel"' in claim_page and "Claim " in claim_page
        os.killpg(process.pid, signal.SIGINT)
        code = process.wait(timeout=60)
        while (line := lines.get(timeout=60)) is not None:
            after.append(line)
        drained = True
        # What the script said on its way out is the diagnosis when it did not stop cleanly
        # (seen once at the tail of a loaded two-worker run: exit status 1).
        assert code == 0, "\n".join(after)
        assert len([line for line in after if "/no-such-page-9/" in line]) == 1, after
        assert "Stopping" in "\n".join(after)
    finally:
        stop_everything(process, tmp_path)
        # the reader thread closes the pipe at its end
        while not drained and lines.get(timeout=60) is not None:
            pass


def stop_everything(process: subprocess.Popen[str], tmp_path: Path) -> None:
    """The script and the servers it started in sessions of their own (found by the var
    directory in their environment): a failed test leaves nothing running nor holding its
    output pipe open."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    marker = f"BILLING_OPS_VAR_DIR={tmp_path / 'var'}".encode()
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker in environ.read_bytes().split(b"\0"):
                os.kill(int(environ.parent.name), signal.SIGKILL)
        except (OSError, ValueError):  # gone meanwhile, or not ours to read
            continue
