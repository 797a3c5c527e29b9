"""Dataset L (issue 10): P practices, N claims with ~2.5 lines each, written with COPY.

    python bench/dataset.py --claims 1000000 --practices 50 \
        --database-url postgresql://billing@127.0.0.1:54329/billing_ops_dataset_l

or, from Python (Django set up, or a URL to set it up with)::

    from bench.dataset import generate
    report = generate("postgresql://...", practices=50, claims=1_000_000, seed=10)

The few rows people make by hand go through the services (practices, users, memberships,
grants, a vendor engagement and its assignments, payers, providers, fee schedules). The
bulk rows (patients, coverages, claims, lines, timeline entries) are built in Python as
COPY text (no model objects) by a producer thread while the main thread streams the
previous chunk to PostgreSQL, with ids reserved from the tables' sequences; their history
rows ("+", naming the actor) are then copied by PostgreSQL from the rows just written
(``INSERT ... SELECT``, as ``billing_ops.bulk.copy_history`` does). Every rule the
services keep holds: the next-action invariant, the stored priority and its reasons from
``claims.priority.compute`` (the function ``save_checked`` stores), totals = sum of the
lines, owners who may work claims at the practice, dates that follow the status.
``bench/invariants.py`` checks them. With ``fast`` (default from 50,000 claims) the
secondary indexes, unique and foreign-key constraints of the bulk tables are dropped
first and recreated from their captured definitions afterwards (which validates them);
otherwise the deferred foreign keys are checked at the end (``SET CONSTRAINTS ALL
IMMEDIATE``). Deterministic for a seed and a day. See bench/README.md, "Dataset L".
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import queue
import random
import resource
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.dataset_reference import PASSWORD, plans_for, reference, users_for  # noqa: E402

if TYPE_CHECKING:
    pass

# Tables written in bulk; with ``fast`` their secondary indexes and constraints are dropped.
BULK_TABLES = [
    "practices_patient",
    "practices_historicalpatient",
    "practices_coverage",
    "practices_historicalcoverage",
    "claims_claim",
    "claims_historicalclaim",
    "claims_claimline",
    "claims_historicalclaimline",
    "claims_claimactivity",
]


@dataclass
class Step:
    name: str
    wall: float
    cpu: float
    pg_cpu: float | None
    load: float
    rows: int = 0


@dataclass
class Report:
    steps: list[Step] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    big_practice: str = ""
    big_biller: str = ""
    practice_ids: list[int] = field(default_factory=list)
    freeze: bool = False  # the bulk tables were empty: COPY WITH (FREEZE)

    @property
    def wall(self) -> float:
        return sum(s.wall for s in self.steps)

    @property
    def cpu(self) -> float:
        return sum(s.cpu for s in self.steps)

    def table(self) -> str:
        out = [f"{'step':34} {'wall s':>8} {'CPU s':>7} {'PG CPU s':>9} {'load':>5} {'rows':>12}"]
        for s in self.steps:
            pg = f"{s.pg_cpu:9.1f}" if s.pg_cpu is not None else f"{'-':>9}"
            out.append(f"{s.name:34} {s.wall:8.1f} {s.cpu:7.1f} {pg} {s.load:5.1f} {s.rows:12,}")
        out.append(f"{'total':34} {self.wall:8.1f} {self.cpu:7.1f}")
        out.append("rows: " + ", ".join(f"{t} {n:,}" for t, n in self.rows.items()))
        return "\n".join(out)


class _Clock:
    """Per step: wall time, this process's CPU (all threads), the server backend's CPU
    (from /proc when PostgreSQL runs on this machine) and the 1-minute load average."""

    def __init__(self, report: Report, backend_pid: int | None, say: Callable[[str], None]):
        self.report, self.pid, self.say = report, backend_pid, say

    def _pg(self) -> float | None:
        if self.pid is None:
            return None
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def step(self, name: str) -> _Timed:
        return _Timed(self, name)


class _Timed:
    def __init__(self, clock: _Clock, name: str):
        self.clock, self.name, self.rows = clock, name, 0

    def __enter__(self) -> _Timed:
        self.t0, self.c0, self.p0 = time.perf_counter(), _cpu(), self.clock._pg()
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            return
        p1 = self.clock._pg()
        pg = p1 - self.p0 if p1 is not None and self.p0 is not None else None
        step = Step(
            self.name,
            time.perf_counter() - self.t0,
            _cpu() - self.c0,
            pg,
            os.getloadavg()[0],
            self.rows,
        )
        self.clock.report.steps.append(step)
        pg_text = f", PG CPU {pg:.1f} s" if pg is not None else ""
        self.clock.say(
            f"  {self.name}: {step.wall:.1f} s (CPU {step.cpu:.1f} s{pg_text}, "
            f"load {step.load:.1f}){f', {self.rows:,} rows' if self.rows else ''}"
        )


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- Django and the database ----------------------------------------------------------


def setup_django(url: str) -> None:
    """Point Django at ``url`` (test settings: DEBUG off, fast hasher) and set it up."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_ops.settings.test")
    os.environ.setdefault("BILLING_OPS_ZEAL", "0")
    import django

    django.setup()


def _connection(database: Any) -> Any:
    """The Django connection to write with: ``database`` is a URL, a connection or None."""
    from django.apps import apps

    if isinstance(database, str):
        if not apps.ready:
            setup_django(database)
        from django.conf import settings

        db = settings.DATABASES["default"]
        wanted = urlsplit(database)
        if db["NAME"] != wanted.path.lstrip("/") or str(db.get("PORT") or 5432) != str(
            wanted.port or 5432
        ):
            raise ValueError(f"Django is set up with another database than {database}")
        database = None
    if database is None:
        from django.db import connection

        database = connection
    if database.vendor != "postgresql":
        raise ValueError("Dataset L is written with COPY: PostgreSQL only")
    return database


def create_database(url: str, recreate: bool) -> bool:
    """Create the database ``url`` names (drop it first with ``recreate``); True if new."""
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and not recreate:
            return False
        if exists:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return True


# --- bulk rows ------------------------------------------------------------------------


def reserve_ids(cursor: Any, table: str, count: int) -> int:
    """The first of ``count`` consecutive ids taken from ``table``'s id sequence."""
    if count <= 0:
        return 0
    cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [table])
    first = int(cursor.fetchone()[0])
    cursor.execute(
        "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, first + count - 1]
    )
    return first


def copy(cursor: Any, table: str, columns: str, data: str, freeze: bool = False) -> None:
    with cursor.copy(
        f"COPY {table} ({columns}) FROM STDIN{' WITH (FREEZE)' if freeze else ''}"
    ) as out:
        out.write(data)


def truncate_if_empty(cursor: Any) -> bool:
    """TRUNCATE the bulk tables (and every table referencing them) when all are empty, as
    in a fresh database: COPY into a table truncated in the same transaction may write
    its rows frozen and all-visible (``FREEZE``; VACUUM then has little to do), and with
    ``wal_level=minimal`` nothing written to them goes through the WAL. False: some
    table holds rows, nothing truncated."""
    tables, frontier = set(BULK_TABLES), set(BULK_TABLES)
    while frontier:
        cursor.execute(
            "SELECT DISTINCT conrelid::regclass::text FROM pg_constraint "
            "WHERE contype = 'f' AND confrelid::regclass::text = ANY(%s)",
            [sorted(frontier)],
        )
        frontier = {row[0] for row in cursor.fetchall()} - tables
        tables |= frontier
    for table in sorted(tables):
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")
        if cursor.fetchone()[0]:
            return False
    cursor.execute(f"TRUNCATE {', '.join(sorted(tables))}")
    return True


def _history(cursor: Any, model: Any, user_sql: str, date_sql: str, source: str, where: str) -> int:
    """INSERT ... SELECT the "+" history rows of ``model``'s rows ``where`` selects."""
    from simple_history.utils import get_history_manager_for_model

    history = get_history_manager_for_model(model).model
    tracked = list(history.tracked_fields)
    target = [history._meta.get_field(f.name).column for f in tracked]
    columns = ", ".join([*target, "history_date", "history_user_id", "history_type",
                         "history_change_reason"])  # fmt: skip
    selected = ", ".join(f"t.{f.column}" for f in tracked)
    cursor.execute(
        f"INSERT INTO {history._meta.db_table} ({columns}) "
        f"SELECT {selected}, {date_sql}, {user_sql}, '+', NULL FROM {source} WHERE {where} "
        "ORDER BY t.id"
    )
    return int(cursor.rowcount)


def _schema(cursor: Any) -> tuple[list[tuple[str, str, str]], list[str]]:
    """The unique and foreign-key constraints (table, name, definition) and the plain
    index definitions of the bulk tables (primary keys stay, and partial indexes: PostgreSQL
    writes their predicate back another way, ``claim_open_owner``'s status list, so a
    definition read back would not recreate it as it was)."""
    cursor.execute(
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
        "FROM pg_constraint c WHERE c.conrelid::regclass::text = ANY(%s) "
        "AND c.contype IN ('u', 'f') ORDER BY c.contype DESC, 1, 2",
        [BULK_TABLES],
    )
    constraints = [(t, n, d) for t, n, d in cursor.fetchall()]
    cursor.execute(
        "SELECT i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' "
        "AND i.tablename = ANY(%s) AND i.indexdef NOT LIKE '%% WHERE %%' "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))"
        "::regclass) ORDER BY i.tablename, i.indexname",
        [BULK_TABLES],
    )
    return constraints, [row[0] for row in cursor.fetchall()]


def drop_secondary(cursor: Any) -> tuple[list[tuple[str, str, str]], list[str]]:
    constraints, indexes = _schema(cursor)
    for table, name, _definition in reversed(constraints):  # foreign keys first
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for definition in indexes:
        name = definition.split(" INDEX ", 1)[1].split(" ON ", 1)[0]
        cursor.execute(f"DROP INDEX {name}")
    return constraints, indexes


def restore_secondary(cursor: Any, saved: tuple[list[tuple[str, str, str]], list[str]]) -> None:
    constraints, indexes = saved
    for definition in indexes:
        cursor.execute(definition)
    for table, name, definition in constraints:  # unique first, then the foreign keys
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def _produce(
    chunks: Iterator[tuple[str, ...]], out: queue.Queue[Any], stop: threading.Event
) -> None:
    try:
        for chunk in chunks:
            while not stop.is_set():
                try:
                    out.put(chunk, timeout=0.5)
                    break
                except queue.Full:
                    continue
            if stop.is_set():
                return
        out.put(None)
    except BaseException as exc:  # noqa: BLE001 - handed to the consumer
        out.put(exc)


def _threaded(chunks: Iterator[tuple[str, ...]]) -> Iterator[tuple[str, ...]]:
    """Build the next chunk in a thread while the caller streams this one (psycopg
    releases the GIL while PostgreSQL works)."""
    pending: queue.Queue[Any] = queue.Queue(maxsize=2)
    stop = threading.Event()
    worker = threading.Thread(target=_produce, args=(chunks, pending, stop), daemon=True)
    worker.start()
    try:
        while (item := pending.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def generate(
    database: Any = None,
    practices: int = 50,
    claims: int = 1_000_000,
    lines_per_claim: float = 2.5,
    seed: int = 10,
    *,
    fast: bool | None = None,
    vacuum: bool = True,
    now: dt.datetime | None = None,
    say: Callable[[str], None] = print,
) -> Report:
    """Write dataset L into ``database`` (a postgresql:// URL, a Django connection or None
    for Django's default). The database must be migrated and hold no dataset L practice.
    Returns the per-step figures and the rows per table."""
    connection = _connection(database)
    from django.db import transaction
    from django.utils import timezone

    from bench.dataset_rows import ClaimRows
    from claims.models import Claim, ClaimLine
    from practices.models import Coverage, Patient

    if not 1 <= lines_per_claim <= 6:
        raise ValueError("lines_per_claim must be between 1 and 6")
    fast = claims >= 50_000 if fast is None else fast
    report = Report()
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = int(cursor.fetchone()[0])
    clock = _Clock(report, pid, say)
    now = now or timezone.now()  # the dates and priorities are as of this moment
    today = timezone.localdate(now)
    plans = plans_for(practices, claims, lines_per_claim, seed)
    report.big_practice, report.big_biller = plans[0].slug, users_for(plans[0])["biller"][0]
    say(f"Dataset L: {practices} practices, {claims:,} claims, seed {seed}, today {today}")

    with clock.step("reference rows (services)"):
        reference(plans, random.Random(f"dataset-l-{seed}-reference"))
    report.practice_ids = [p.practice_id for p in plans]

    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        # A table with pending deferred checks (rows written earlier in this transaction)
        # cannot be altered or truncated: run those checks now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        with clock.step("truncate the empty bulk tables"):
            freeze = report.freeze = truncate_if_empty(cursor)
        say(f"  COPY {'WITH (FREEZE)' if freeze else 'without FREEZE: the tables hold rows'}")
        saved = None
        if fast:
            with clock.step("drop secondary indexes"):
                saved = drop_secondary(cursor)
        with clock.step("patients, coverages (COPY)") as step:
            for plan in plans:
                plan.people(today)
                plan.patient0 = reserve_ids(cursor, Patient._meta.db_table, len(plan.patients))
                plan.coverage0 = reserve_ids(cursor, Coverage._meta.db_table, len(plan.coverages))
                patients, coverages = "".join(plan.patient_text()), "".join(plan.coverage_text())
                copy(cursor, Patient._meta.db_table, PATIENT_COLUMNS, patients, freeze)
                copy(cursor, Coverage._meta.db_table, COVERAGE_COLUMNS, coverages, freeze)
                step.rows += len(plan.patients) + len(plan.coverages)
        rows = ClaimRows(plans, today, now, seed)
        with clock.step("claims, lines, timeline (COPY)") as step:
            for table, count in rows.reservations():
                rows.first_id[table] = reserve_ids(cursor, table, count)
            for claim_text, line_text, activity_text, n in _threaded(rows.chunks()):
                copy(cursor, "claims_claim", rows.CLAIM_COLUMNS, claim_text, freeze)
                copy(cursor, "claims_claimline", rows.LINE_COLUMNS, line_text, freeze)
                copy(cursor, "claims_claimactivity", rows.ACTIVITY_COLUMNS, activity_text, freeze)
                step.rows += n
        with clock.step("history rows (INSERT ... SELECT)") as step:
            ids = ", ".join(str(i) for i in report.practice_ids)
            importer = " ".join(f"WHEN {p.practice_id} THEN {p.importer_id}" for p in plans)
            for model in (Patient, Coverage):
                step.rows += _history(
                    cursor, model, f"CASE t.practice_id {importer} END",
                    f"'{now.isoformat()}'::timestamptz", f"{model._meta.db_table} t",
                    f"t.practice_id IN ({ids})",
                )  # fmt: skip
            step.rows += _history(
                cursor, Claim, "t.owner_id", "t.updated_at", "claims_claim t",
                f"t.practice_id IN ({ids})",
            )  # fmt: skip
            step.rows += _history(
                cursor, ClaimLine, "c.owner_id", "c.created_at",
                "claims_claimline t JOIN claims_claim c ON c.id = t.claim_id",
                f"c.practice_id IN ({ids})",
            )  # fmt: skip
        if saved is not None:
            with clock.step("recreate indexes, constraints"):
                restore_secondary(cursor, saved)
        else:
            with clock.step("check deferred constraints"):
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    if vacuum and not connection.in_atomic_block:
        with clock.step("VACUUM ANALYZE"), connection.cursor() as cursor:
            for table in BULK_TABLES:
                cursor.execute(f"VACUUM ANALYZE {table}")
    report.rows = _counts(connection, report.practice_ids)
    return report


PATIENT_COLUMNS = (
    "id, practice_id, account_number, first_name, last_name, date_of_birth, phone, email, "
    "address_line, city, state, postal_code"
)
COVERAGE_COLUMNS = (
    "id, practice_id, patient_id, payer_id, member_id, group_number, subscriber_name, "
    "subscriber_relationship, cob_order, effective_from, effective_to"
)


def _counts(connection: Any, practice_ids: list[int]) -> dict[str, int]:
    ids = ", ".join(str(i) for i in practice_ids) or "NULL"
    queries = {
        "claims": f"SELECT count(*) FROM claims_claim WHERE practice_id IN ({ids})",
        "lines": "SELECT count(*) FROM claims_claimline l JOIN claims_claim c "
        f"ON c.id = l.claim_id WHERE c.practice_id IN ({ids})",
        "timeline": "SELECT count(*) FROM claims_claimactivity a JOIN claims_claim c "
        f"ON c.id = a.claim_id WHERE c.practice_id IN ({ids})",
        "claim history": "SELECT count(*) FROM claims_historicalclaim "
        f"WHERE practice_id IN ({ids})",
        "line history": "SELECT count(*) FROM claims_historicalclaimline h JOIN claims_claim c "
        f"ON c.id = h.claim_id WHERE c.practice_id IN ({ids})",
        "patients": f"SELECT count(*) FROM practices_patient WHERE practice_id IN ({ids})",
        "coverages": f"SELECT count(*) FROM practices_coverage WHERE practice_id IN ({ids})",
    }
    with connection.cursor() as cursor:
        counts = {}
        for name, sql in queries.items():
            cursor.execute(sql)
            counts[name] = int(cursor.fetchone()[0])
    return counts


# --- command line -----------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--practices", type=int, default=50)
    parser.add_argument("--lines", type=float, default=2.5, help="lines per claim, on average")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="postgresql:// URL of the database to fill (created if missing)",
    )
    parser.add_argument(
        "--recreate",
        action="store_true",
        help="drop the database first (without it, a database that holds dataset L already "
        "is only checked)",
    )
    parser.add_argument("--no-check", action="store_true", help="skip bench/invariants.py")
    parser.add_argument("--slow", action="store_true", help="keep the indexes during COPY")
    args = parser.parse_args()
    if not (args.database_url or "").startswith("postgres"):
        parser.error("--database-url postgresql://... (or DATABASE_URL) is required")
    total = time.perf_counter()
    created = create_database(args.database_url, args.recreate)
    setup_django(args.database_url)
    from django.core.management import call_command

    t0, c0 = time.perf_counter(), _cpu()
    call_command("migrate", verbosity=0)
    print(
        f"migrate ({'new database' if created else 'existing'}, not part of the generation): "
        f"{time.perf_counter() - t0:.1f} s (CPU {_cpu() - c0:.1f} s)"
    )
    from django.db import connection

    from practices.models import Practice

    existing = Practice.objects.filter(slug__regex=r"^(sunrise-dental|l[0-9]{2}-)")
    if existing.exists():  # generated before: check it again (--recreate to start afresh)
        report = Report(
            practice_ids=sorted(existing.values_list("pk", flat=True)),
            big_practice="sunrise-dental",
            big_biller="bill.biller",
        )
        report.rows = _counts(connection, report.practice_ids)
        print(f"{args.database_url} already holds dataset L: " + ", ".join(
            f"{n:,} {name}" for name, n in report.rows.items()
        ))  # fmt: skip
    else:
        report = generate(
            args.database_url,
            args.practices,
            args.claims,
            args.lines,
            args.seed,
            fast=False if args.slow else None,
        )
        print(report.table())
        print(f"generation: {report.wall:.1f} s wall, {report.cpu:.1f} s CPU (this process)")
    if not args.no_check:
        from bench.invariants import check

        t0, c0 = time.perf_counter(), _cpu()
        problems = check(report.practice_ids, say=print)
        print(
            f"invariants: {'all hold' if not problems else f'{len(problems)} FAILED'} "
            f"in {time.perf_counter() - t0:.1f} s (CPU {_cpu() - c0:.1f} s)"
        )
        for problem in problems:
            print("  FAILED:", problem)
    print(f"big practice {report.big_practice}, biller {report.big_biller}; "
          f"password {PASSWORD}; total {time.perf_counter() - total:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
