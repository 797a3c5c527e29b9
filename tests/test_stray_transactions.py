"""The teardown guard (tests/stray_transactions.py): a session another thread left in a
transaction is reported with what it was doing, and ended so the flush can run."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections, transaction

from tests import stray_transactions


def _hold_a_transaction(ready: threading.Event, release: threading.Event, pid: list[int]) -> None:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid(), count(*) FROM practices_practice")
            pid.append(cursor.fetchone()[0])
            ready.set()
            release.wait(timeout=60)
    except Exception:  # ended from outside: the COMMIT has no connection left
        pass
    finally:
        ready.set()
        connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_a_session_left_in_a_transaction_is_reported_and_ended(
    request: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the flush only waits on other sessions' locks on PostgreSQL")
    monkeypatch.setattr(stray_transactions, "GRACE_SECONDS", 0.5)
    ready, release, pid = threading.Event(), threading.Event(), []
    thread = threading.Thread(target=_hold_a_transaction, args=(ready, release, pid))
    thread.start()
    try:
        assert ready.wait(timeout=30) and pid
        report = stray_transactions.end_stray_transactions(request.node)
        assert report is not None
        assert f"pid {pid[0]} (client backend" in report
        assert "idle in transaction" in report
        assert "FROM practices_practice" in report
        assert "_hold_a_transaction" in report  # the holding thread's stack
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid[0]])
            assert cursor.fetchone()[0] == 0
    finally:
        release.set()
        thread.join(timeout=30)


def _run_a_slow_statement(started: threading.Event, pid: list[int]) -> None:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid.append(cursor.fetchone()[0])
            started.set()
            cursor.execute("SELECT pg_sleep(60), count(*) FROM practices_practice")
    except Exception:  # ended from outside
        pass
    finally:
        started.set()
        connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_a_statement_still_running_is_reported_with_its_plan(
    request: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the flush only waits on other sessions' locks on PostgreSQL")
    monkeypatch.setattr(stray_transactions, "GRACE_SECONDS", 0.5)
    started, pid = threading.Event(), []
    thread = threading.Thread(target=_run_a_slow_statement, args=(started, pid))
    thread.start()
    try:
        assert started.wait(timeout=30) and pid
        report = stray_transactions.end_stray_transactions(request.node)
        assert report is not None
        assert "active, in a transaction" in report
        assert "Plans of the running statements:" in report
        assert (
            "Seq Scan on practices_practice" in report
            or "practices_practice" in (report.split("Plans of the running statements:")[1])
        )
        # The sessions are listed last as well, where a cut log still shows them.
        assert report.rstrip().endswith(report.split("\n")[1].rstrip())
    finally:
        thread.join(timeout=30)
    assert not thread.is_alive()


@pytest.mark.django_db(transaction=True)
def test_nothing_left_means_no_report(request: Any) -> None:
    assert stray_transactions.is_transactional(request.node)
    assert stray_transactions.end_stray_transactions(request.node) is None


@pytest.mark.django_db
def test_a_test_in_a_transaction_of_its_own_is_not_checked(request: Any) -> None:
    assert not stray_transactions.is_transactional(request.node)
    assert stray_transactions.end_stray_transactions(request.node) is None
