"""The README's queue benchmark (`python bench/queue_bench.py --claims N`) runs to the end on
a small dataset: a database of its own on the test server, migrated, seeded and generated,
then the pages, the API, work next (with the whole small day held) and the plans, printed.
It is a subprocess, as the command is (its settings and ``gc.freeze`` are its own)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATABASE_URL = os.environ.get("DATABASE_URL", "")


@pytest.mark.skipif(
    not DATABASE_URL.startswith(("postgres://", "postgresql://")),
    reason="needs DATABASE_URL=postgresql://... (make test provides one)",
)
def test_the_queue_bench_runs_as_the_readme_shows_it() -> None:
    server = urlsplit(DATABASE_URL)._replace(path="/postgres").geturl()
    name = f"queue_bench_smoke_{os.getpid()}"
    command = [sys.executable, "bench/queue_bench.py", "--claims", "300", "--requests", "2"]
    command += ["--work-next", "5", "--database-url", server, "--db-name", name]
    try:
        result = subprocess.run(
            command, cwd=BASE_DIR, capture_output=True, text=True, timeout=600, check=False
        )
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "settled as billing_ops.wsgi does" in out
    for label in ("payer AR, first page", "unassigned, first page", "claim page"):
        line = next(line for line in out.splitlines() if line.startswith(label))
        assert line.split()[-1].endswith("x")  # its page÷SQL ratio
    assert "api ?queue=payer-ar" in out and "work_next + release" in out
    assert "EXPLAIN ANALYZE: payer AR first page" in out
