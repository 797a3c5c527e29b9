"""A real Celery worker for tests: a solo-pool worker thread consuming the project's Redis.

Tasks go through the broker and run against the committed test database (so tests using
it need ``transactional_db``). There is no result backend: effects are observed in the
database and through ``task_postrun``, which fires in this process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings
from django.db import connections

from billing_ops.celery import app

WAIT_SECONDS = 20.0


def wait_until(condition: Callable[[], bool], timeout: float = WAIT_SECONDS) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass; whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


class TaskRuns:
    """What the worker finished, keyed by task id: (state, return value)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, tuple[str, Any]] = {}

    def on_postrun(self, task_id: str = "", state: str = "", retval: Any = None, **_: Any) -> None:
        # Runs in the worker thread: close its connections so the test database can be
        # dropped at the end of the session.
        connections.close_all()
        with self._lock:
            self._runs[task_id] = (state, retval)

    def finished(self, task_id: str) -> tuple[str, Any]:
        """Wait (bounded) until the worker finished ``task_id`` for good; its state and value."""
        final = {"SUCCESS", "FAILURE", "REJECTED", "IGNORED"}
        held = wait_until(lambda: self._runs.get(task_id, ("", None))[0] in final)
        assert held, f"task {task_id} not finished within {WAIT_SECONDS}s: {self._runs}"
        return self._runs[task_id]


def run_worker() -> Iterator[TaskRuns]:
    """Body of the ``worker`` fixture (tests/conftest.py)."""
    if not str(settings.CELERY_BROKER_URL).startswith("redis://"):
        pytest.skip("needs CELERY_BROKER_URL=redis://... (make test provides one)")
    runs = TaskRuns()
    task_postrun.connect(runs.on_postrun, weak=False)
    try:
        app.control.purge()  # nothing left over from an earlier test
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            yield runs
    finally:
        task_postrun.disconnect(runs.on_postrun)
