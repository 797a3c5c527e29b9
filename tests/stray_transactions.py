"""Before a transactional test's flush, no other session of the test database may still be
in a transaction.

The flush is a ``TRUNCATE`` of every table: it waits for each lock another session holds,
and the test settings' ``lock_timeout`` (15 s) ends that wait with an error. A session left
in a transaction by one test (a live server request that never answered, a thread that did
not close its connection) then broke the flush of that test and of every later
transactional test on the same pytest worker (seen once: a browser test's search request
that did not answer within 40 s, then three teardown errors on one worker).

So before the flush: wait a little longer than ``lock_timeout`` for such sessions to end,
and if one is still there, end it (``pg_terminate_backend``) so later tests start clean,
and fail the test that left it, with what the session was doing and where every thread of
this process stood (the stack of a hung request shows where it hangs).
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
import warnings
from typing import Any

import pytest

GRACE_SECONDS = 20.0

STRAY_SQL = """
SELECT pid, state, backend_type, application_name, wait_event_type, wait_event,
       round(extract(epoch FROM now() - xact_start)::numeric, 1) AS seconds,
       round(extract(epoch FROM now() - query_start)::numeric, 1) AS query_seconds,
       query
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL
ORDER BY xact_start
"""


def is_transactional(item: pytest.Item) -> bool:
    """Whether pytest-django flushes the database after ``item`` (its own rule)."""
    names = getattr(item, "fixturenames", ())
    if {"transactional_db", "live_server", "django_db_reset_sequences"} & set(names):
        return True
    marker = item.get_closest_marker("django_db")
    if marker is None:
        return False
    return bool(
        marker.kwargs.get("transaction")
        or marker.kwargs.get("reset_sequences")
        or (marker.args and marker.args[0])
    )


def _strays(cursor: Any) -> list[tuple[Any, ...]]:
    cursor.execute(STRAY_SQL)
    return list(cursor.fetchall())


# Threads whose stacks say nothing about a hang: pytest-xdist's channel, idle servers.
QUIET_THREADS = ("execnet", "serve_forever", "_perform_spawn")


def _thread_stacks() -> str:
    """The stacks of this process's threads but the current one and idle helpers."""
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    parts = []
    for ident, frame in sys._current_frames().items():
        if ident == threading.get_ident():
            continue
        stack = "".join(traceback.format_stack(frame))
        if any(quiet in stack for quiet in QUIET_THREADS):
            continue
        parts.append(f"--- thread {names.get(ident, ident)}\n{stack}")
    return "\n".join(parts) or "(no thread of this process but idle helpers)"


def _plan(cursor: Any, state: str, query: str) -> str:
    """The plan of a statement still running: a slow plan is one cause of a hung request.
    Django binds parameters client-side, so the text is a complete statement."""
    if state != "active" or not query.lstrip().upper().startswith("SELECT"):
        return ""
    try:
        cursor.execute(f"EXPLAIN {query}")
    except Exception as exc:  # a statement that cannot be explained as it stands
        return f"    (no plan: {exc!r})"
    return "\n".join(f"    {line}" for (line,) in cursor.fetchall())


def _describe(rows: list[tuple[Any, ...]]) -> str:
    return "\n".join(
        f"pid {pid} ({backend}, {app or 'no application name'}): {state}, in a transaction "
        f"for {seconds} s, its statement for {query_seconds} s, waiting on "
        f"{wait_type or '-'}/{wait or '-'}; last query: {query[:300]}"
        for pid, state, backend, app, wait_type, wait, seconds, query_seconds, query in rows
    )


def end_stray_transactions(item: pytest.Item) -> str | None:
    """End the sessions still in a transaction after ``item``; a report of them, or None."""
    from django.db import connection
    from pytest_django.plugin import blocking_manager_key

    if connection.vendor != "postgresql" or not is_transactional(item):
        return None
    with item.config.stash[blocking_manager_key].unblock():
        try:
            with connection.cursor() as cursor:
                deadline = time.monotonic() + GRACE_SECONDS
                rows = _strays(cursor)
                while rows and time.monotonic() < deadline:
                    time.sleep(0.2)  # a bounded wait for a request or a task to finish
                    rows = _strays(cursor)
                if not rows:
                    return None
                stacks = _thread_stacks()
                plans = [_plan(cursor, row[1], row[8]) for row in rows]
                # With a timeout, PostgreSQL (14+) waits until each session is gone.
                cursor.execute(
                    "SELECT pg_terminate_backend(pid, 10000) FROM unnest(%s::int[]) AS pid",
                    [[row[0] for row in rows]],
                )
        except Exception as exc:  # the check must not hide the test's own outcome
            warnings.warn(
                f"could not check for sessions left in a transaction: {exc!r}", stacklevel=1
            )
            return None
    listed = _describe(rows)
    plans_text = "\n".join(plan for plan in plans if plan)
    running = f"Plans of the running statements:\n{plans_text}\n" if plans_text else ""
    # The sessions come first and again last: a log cut in the middle keeps one of them.
    return (
        f"This test left {len(rows)} database session(s) in a transaction for more than "
        f"{GRACE_SECONDS:.0f} s after it ended; they were ended so that the flush (and the "
        f"next tests) can run.\n{listed}\n\nThreads of this process:\n{stacks}\n"
        f"{running}The sessions ended (again):\n{listed}"
    )
