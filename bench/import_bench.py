"""837 import benchmark on PostgreSQL: a generated N-claim 837P, then timings of parsing,
the dry run, the import (new claims, each with a new patient) and a re-import.

    python bench/import_bench.py --claims 5000 [--lines 3] [--database-url postgresql://...]

Like ``queue_bench.py`` it refuses to run without a postgresql:// URL (``--database-url`` or
``DATABASE_URL``), (re)creates a dedicated database (``billing_ops_import_bench`` unless
``--db-name``) and migrates it. The dataset: one medical practice with a manager who may
add patients, and an 837P whose claims each name a new patient (new payer and provider
the first time they appear: 5 payers, 3 rendering NPIs). Every write goes through
``claims.imports.services`` exactly as the upload page and the command do.

Printed per step: seconds (and the CPU seconds of this process), claims per second,
queries, and the peak RSS of the process.
There are no assertions on time: this is a measuring tool, not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAYERS = [("ACME HEALTH", "60054"), ("BLUE PLAN", "00431"), ("MEDICARE", "10234")]
PAYERS += [("UNITED", "87726"), ("AETNA", "60055")]
NPIS = ["1987654325", "1245319599", "1234567893"]
CODES = [("99213", "95.00"), ("85025", "32.50"), ("36415", "12.00"), ("93000", "48.75")]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=5000, help="claims in the 837P")
    parser.add_argument("--lines", type=int, default=3, help="service lines per claim")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="postgresql:// URL of a server (default: $DATABASE_URL); its database is only "
        "used to create the bench database",
    )
    parser.add_argument("--db-name", default="billing_ops_import_bench")
    parser.add_argument(
        "--keep-template",
        action="store_true",
        help="keep the migrated empty database as <db-name>_template and start from it "
        "next time (migrate then only applies what is new); drop it when done",
    )
    parser.add_argument("--out", type=Path, help="also write the generated 837P here")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile every step (top 25 cumulative, top 15 own time)",
    )
    parser.add_argument(
        "--profile-top", type=int, default=25, help="lines of each --profile listing"
    )
    parser.add_argument(
        "--queries", action="store_true", help="list each step's queries by kind (top 30)"
    )
    parser.add_argument(
        "--one-by-one",
        action="store_true",
        help="import without the bulk path (each new claim through claim_create), to compare",
    )
    return parser.parse_args()


# --- dataset ------------------------------------------------------------------------


def generate_837(claims: int, lines: int) -> str:
    """An 837P (005010X222A1) with ``claims`` claims of ``lines`` lines, one new patient each."""
    body = [
        "ST*837*0001*005010X222A1~",
        "BHT*0019*00*BENCH*20260115*0930*CH~",
        "NM1*41*2*BENCH MEDICAL*****46*BENCH01~",
        "PER*IC*BILLING*TE*5555550100~",
        "NM1*40*2*CLEARINGHOUSE*****46*CH0001~",
        "HL*1**20*1~",
        "NM1*85*2*BENCH MEDICAL*****XX*1234567893~",
        "N3*100 MAIN ST~",
        "N4*SPRINGFIELD*IL*62701~",
        "REF*EI*371234567~",
    ]
    start = dt.date(2026, 1, 5)
    for n in range(1, claims + 1):
        payer = PAYERS[n % len(PAYERS)]
        day = (start + dt.timedelta(days=n % 200)).strftime("%Y%m%d")
        dob = (dt.date(1940, 1, 1) + dt.timedelta(days=(n * 37) % 29000)).strftime("%Y%m%d")
        picked = [CODES[(n + k) % len(CODES)] for k in range(lines)]
        total = sum((float(charge) for _, charge in picked), 0.0)
        body += [
            f"HL*{n + 1}*1*22*0~",
            "SBR*P*18*GRP100******CI~",
            f"NM1*IL*1*PATIENT{n:06d}*BENCH****MI*M{n:09d}~",
            "N3*1 ELM ST~",
            "N4*SPRINGFIELD*IL*62704~",
            f"DMG*D8*{dob}*F~",
            f"NM1*PR*2*{payer[0]}*****PI*{payer[1]}~",
            f"CLM*B{n:07d}*{total:.2f}***11:B:1*Y*A*Y*Y~",
            "HI*ABK:J069~",
            f"NM1*82*1*DOC*TOR****XX*{NPIS[n % len(NPIS)]}~",
        ]
        for k, (code, charge) in enumerate(picked, start=1):
            body += [f"LX*{k}~", f"SV1*HC:{code}*{charge}*UN*1***1~", f"DTP*472*D8*{day}~"]
    body.append(f"SE*{len(body) + 1}*0001~")
    isa = (
        "ISA*00*          *00*          *ZZ*BENCH          *ZZ*CLEARINGHOUSE  *260115*0930*^"
        "*00501*000000001*0*T*:~"
    )
    gs = "GS*HC*BENCH*CLEARINGHOUSE*20260115*0930*1*X*005010X222A1~"
    return "\n".join([isa, gs, *body, "GE*1*1~", "IEA*1*000000001~"]) + "\n"


# --- database -----------------------------------------------------------------------


def bench_url(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def prepare_database(url: str, name: str, template: str | None = None) -> bool:
    """(Re)create the bench database; from ``template`` when that database exists (a
    migrated copy kept by ``--keep-template``). Returns whether it was copied."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        copied = template is not None and bool(
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template]).fetchone()
        )
        create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None and copied:
            create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        conn.execute(create)
    return copied


def keep_template(url: str, name: str, template: str) -> None:
    """Keep the freshly migrated (empty) bench database as ``template`` for the next run."""
    import psycopg
    from django.db import connections
    from psycopg import sql

    connections.close_all()
    with psycopg.connect(url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template]).fetchone():
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(template), sql.Identifier(name)
                )
            )


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_ops.settings.test")
    import django

    django.setup()


def practice_and_manager(url: str, name: str, template: str | None) -> tuple[Any, Any]:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from practices import services
    from practices.choices import PracticeKind, Role
    from practices.models import Practice

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrated in {time.perf_counter() - started:.1f} s")
    if template:
        keep_template(url, name, template)
    practice = Practice.objects.create(
        name="Bench Medical", slug="bench-medical", kind=PracticeKind.MEDICAL
    )
    user = get_user_model().objects.create_user(username="bench.manager", password=None)
    services.membership_set(actor=None, user=user, practice=practice, role=Role.PRACTICE_MANAGER)
    return practice, user


# --- measuring ----------------------------------------------------------------------


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def server_cpu() -> float | None:
    """CPU seconds the PostgreSQL backend of Django's connection has used so far, read
    from /proc when the server runs on this machine (None elsewhere)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


KINDS: Counter[str] = Counter()
KIND_SECONDS: dict[str, float] = defaultdict(float)  # wall time in cursor.execute, per kind


def run_step(label: str, claims: int, fn: Any, profile: bool = False, top: int = 25) -> Any:
    from django.db import connection

    queries, waited = 0, 0.0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal queries, waited
        queries += 1
        kind = " ".join(sql.split()[:4])[:110]
        KINDS[kind] += 1
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = time.perf_counter() - began
            waited += spent
            KIND_SECONDS[kind] += spent

    # COPY (practices.copy_rows) goes round Django's execute wrappers: counted here.
    import psycopg

    copies, plain_copy = 0, psycopg.Cursor.copy

    def counted_copy(self: Any, statement: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal copies
        copies += 1
        KINDS[str(statement).split("(")[0][:110]] += 1
        return plain_copy(self, statement, *args, **kwargs)

    psycopg.Cursor.copy = counted_copy  # type: ignore[method-assign]
    # COMMIT runs the deferred foreign-key checks (Django's FKs are DEFERRABLE INITIALLY
    # DEFERRED: one check per row and key): timed apart.
    committing, plain_commit = 0.0, psycopg.Connection.commit

    def timed_commit(self: Any) -> None:
        nonlocal committing
        began = time.perf_counter()
        try:
            plain_commit(self)
        finally:
            committing += time.perf_counter() - began

    psycopg.Connection.commit = timed_commit  # type: ignore[method-assign]
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    # Python's cyclic garbage collector: time in its collections during the step.
    import gc

    collecting = {"began": 0.0, "seconds": 0.0, "runs": 0, "full": 0}

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collecting["began"] = time.process_time()
            return
        collecting["seconds"] += time.process_time() - collecting["began"]
        collecting["runs"] += 1
        collecting["full"] += info["generation"] == 2

    gc.callbacks.append(on_gc)
    load = os.getloadavg()[0]
    server = server_cpu()
    with connection.execute_wrapper(count):
        started, cpu = time.perf_counter(), time.process_time()
        result = profiler.runcall(fn) if profiler else fn()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    psycopg.Cursor.copy = plain_copy  # type: ignore[method-assign]
    psycopg.Connection.commit = plain_commit  # type: ignore[method-assign]
    gc.callbacks.remove(on_gc)
    after = server_cpu()
    pg = f", PG CPU {after - server:5.2f} s" if server is not None and after is not None else ""
    queries += copies
    rate = claims / seconds if seconds else float("inf")
    cpu_rate = claims / cpu if cpu else float("inf")
    # CPU: this process only (the server's work is not in it); on a shared machine it
    # varies less than the wall time. "db": the wall time spent waiting on the server
    # (inside cursor.execute: the server's work, the round trips, and the CPU queue).
    print(
        f"{label:<34} {seconds:8.2f} s (CPU {cpu:6.2f} s, db {waited:6.2f} s, "
        f"commit {committing:5.2f} s{pg}) "
        f"{rate:8.1f} claims/s ({cpu_rate:7.1f}/CPU s) "
        f"{queries:7,} queries ({queries / max(claims, 1):.2f}/claim) "
        f"peak RSS {peak_rss_mb():5.0f} MB, load {load:.1f}, "
        f"gc CPU {collecting['seconds']:.2f} s ({collecting['runs']} runs, "
        f"{collecting['full']} full)"
    )
    if profiler is not None:
        import pstats

        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(top)
        stats.sort_stats("tottime").print_stats(max(15, top * 3 // 5))  # where the time itself goes
    return result


def main() -> None:
    args = parse_args()
    url = args.database_url
    if not url or not url.startswith(("postgres://", "postgresql://")):
        sys.exit(
            "import_bench measures PostgreSQL: pass --database-url postgresql://... "
            "or set DATABASE_URL (see bench/README.md)."
        )
    template = f"{args.db_name}_template" if args.keep_template else None
    prepare_database(url, args.db_name, template)
    setup_django(bench_url(url, args.db_name))
    from claims.imports import services
    from claims.models import Claim
    from claims.x12 import parse_837

    practice, user = practice_and_manager(url, args.db_name, template)
    if args.one_by_one:
        from claims.imports import x12_bulk

        x12_bulk.apply = lambda importer: importer.apply()  # the path before the bulk one
    started = time.perf_counter()
    text = generate_837(args.claims, args.lines)
    content = text.encode()
    print(
        f"generated {args.claims:,} claims x {args.lines} lines: {len(content) / 1e6:.1f} MB "
        f"in {time.perf_counter() - started:.2f} s"
    )
    if args.out:
        args.out.write_bytes(content)
    n = args.claims
    run_step("parse only", n, lambda: parse_837(text), args.profile, args.profile_top)

    def job(dry_run: bool) -> Any:
        created = services.import_file(
            actor=user,
            practice=practice,
            content=content,
            filename="bench.837",
            dry_run=dry_run,
            enqueue=False,
        )
        done = services.run_import_job(created.pk)
        assert done is not None
        return done

    for label, dry_run in (
        ("dry run (new claims, new patients)", True),
        ("import (new claims, new patients)", False),
        ("re-import of the same file", False),
    ):
        KINDS.clear()
        KIND_SECONDS.clear()
        done = run_step(
            label, n, lambda dry_run=dry_run: job(dry_run), args.profile, args.profile_top
        )
        if args.queries:
            for kind, times in KINDS.most_common(30):
                print(f"{times:9,}  {KIND_SECONDS[kind]:8.2f} s  {kind}")
        print(
            f"{'':<34} {done.status}: created {done.created_count:,}, "
            f"updated {done.updated_count:,}, skipped {done.skipped_count:,}, "
            f"rejected {done.rejected_count:,}, conflicts {done.conflict_count:,}"
        )
    print(f"claims on file: {Claim.objects.filter(practice=practice).count():,}")


if __name__ == "__main__":
    main()
