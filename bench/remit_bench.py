"""835 remittance benchmark: a generated N-claim 835, parsed by our parser and by the
``edi-835-parser`` package side by side (parse only, same file, same run), then posted on
PostgreSQL to N submitted claims, then posted again (the same file: nothing new).

    python bench/remit_bench.py --claims 25000 [--database-url postgresql://...]
    python bench/remit_bench.py --claims 25000 --parse-only

Like ``import_bench.py`` it refuses to post without a postgresql:// URL (``--database-url``
or ``DATABASE_URL``), (re)creates a dedicated database (``billing_ops_remit_bench`` unless
``--db-name``) and migrates it. The dataset: one practice, one biller, one payer, N
submitted claims (bulk-inserted, each with its own patient and one or two lines); the 835
pays every claim: CO-45 and PR-2 on every line, so each claim is paid and balances
(``--no-patient-share``: CO-45 only). The posting goes through ``ar.services`` exactly as
the page, the API task and the command: plain payments in bulk (``ar.bulk_posting``), or
``--row-by-row`` one claim at a time as before.

Printed per step: seconds (and this process's CPU seconds), claims per second, queries,
and the peak RSS of the process. No assertions on time: a measuring tool, not a test. The
dataset is built by a child process and the parsers are compared last, so the peak RSS
printed for the posting is the posting's own.

Figures of 2026-12-01 (bench/README.md, "Issue 11, second pass"), 25,000 claims with PR-2
on every line, shared 2-core machine at load average 11-16 (wall times inflated; CPU is
this process): the rows written with COPY from tuples and the file streamed through
matching in chunks of 2,000: post 18-25 CPU s (was 54), peak RSS 191 MB (was 310), plus
21-31 s of PostgreSQL's deferred foreign key checks (``--split-commit``: they are what the
COMMIT waited for; the COMMIT itself 0.01-0.09 s); re-import 0.6-1.0 CPU s, 5 queries;
parse only: ours 0.46-0.77 CPU s, edi-835-parser 1.8.0 3.0-4.0 CPU s (5-6.5x). The 10 s
target is not met on this machine: the Python alone is 18-25 CPU s, PostgreSQL's own
statement time 34-51 s (``--pg-log``) besides the checks.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CODES = [("99213", Decimal("95.00")), ("85025", Decimal("32.50")), ("93000", Decimal("48.75"))]
PAYER_ID = "1417776310"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=25000)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--db-name", default="billing_ops_remit_bench")
    parser.add_argument("--parse-only", action="store_true", help="no database: parsers only")
    parser.add_argument("--out", type=Path, help="also write the generated 835 here")
    parser.add_argument("--profile", action="store_true", help="cProfile the posting (top 25)")
    parser.add_argument(
        "--profile-out", type=Path, help="with --profile: also dump the stats to this file"
    )
    parser.add_argument(
        "--chunk", type=int, help="claim payments posted per round (ar.bulk_posting.CHUNK)"
    )
    parser.add_argument(
        "--row-by-row", action="store_true", help="post one claim at a time (the old path)"
    )
    parser.add_argument(
        "--split-commit",
        action="store_true",
        help="post inside an outer transaction, then time SET CONSTRAINTS ALL IMMEDIATE "
        "(the deferred foreign key checks) and the COMMIT apart",
    )
    parser.add_argument(
        "--pg-log",
        action="store_true",
        help="log every statement's duration in the server's log (superuser; sum it there)",
    )
    parser.add_argument(
        "--pg-log-file",
        type=Path,
        help="with --pg-log: the server's log file (readable here); its lines of this "
        "backend are summed after the posting (statements by kind, biggest first)",
    )
    parser.add_argument(
        "--fk-detail",
        action="store_true",
        help="with --split-commit: run the deferred foreign key checks one constraint at a "
        "time (SET CONSTRAINTS <name> IMMEDIATE), each timed",
    )
    parser.add_argument(
        "--dataset-only", action="store_true", help=argparse.SUPPRESS
    )  # the child process that builds the dataset (its memory is not the posting's)
    parser.add_argument(
        "--no-patient-share",
        action="store_true",
        help="no PR adjustments (CO-45 takes the rest): no patient-account charge per claim",
    )
    return parser.parse_args()


def lines_of(n: int) -> list[tuple[str, Decimal]]:
    return CODES[: 1 + n % 2]


def generate(claims: int, patient_share: bool = True) -> str:
    """An 835 paying claims B0000001..: per line, charge = paid + CO-45 + PR-2 (without a
    patient share: charge = paid + CO-45)."""
    segments = [
        "ISA*00*          *00*          *30*BENCHPAYER     *30*BENCHPROV      *260101*1200*^*"
        "00501*000000001*0*T*:",
        "GS*HP*BENCHPAYER*BENCHPROV*20260101*1200*1*X*005010X221A1",
        "ST*835*0001",
        "BPR*I*{total}*C*ACH************20260115",
        f"TRN*1*BENCH-{claims}*{PAYER_ID}",
        "N1*PR*BENCH HEALTH PLAN",
        "N1*PE*BENCH CLINIC*XX*1234567893",
        "LX*1",
    ]
    total = Decimal("0.00")
    for n in range(1, claims + 1):
        lines = lines_of(n)
        charge = sum((c for _, c in lines), Decimal("0.00"))
        paid = sum(((c * 7 / 10).quantize(Decimal("0.01")) for _, c in lines), Decimal("0.00"))
        total += paid
        patient = sum(((c / 10).quantize(Decimal("0.01")) for _, c in lines), Decimal("0.00"))
        if not patient_share:
            patient = Decimal("0.00")
        segments.append(f"CLP*B{n:07d}*1*{charge}*{paid}*{patient}*12*PCN{n:09d}")
        segments.append(f"NM1*QC*1*PATIENT{n}*ALEX****MI*M{n:08d}")
        for code, line_charge in lines:
            line_paid = (line_charge * 7 / 10).quantize(Decimal("0.01"))
            line_patient = (line_charge / 10).quantize(Decimal("0.01"))
            if not patient_share:
                line_patient = Decimal("0.00")
            segments.append(f"SVC*HC:{code}*{line_charge}*{line_paid}**1")
            segments.append("DTM*472*20260105")
            segments.append(f"CAS*CO*45*{line_charge - line_paid - line_patient}")
            if line_patient:
                segments.append(f"CAS*PR*2*{line_patient}")
    segments[3] = segments[3].format(total=total)
    count = len(segments) - 2 + 1
    segments += [f"SE*{count}*0001", "GE*1*1", "IEA*1*000000001"]
    return "~\n".join(segments) + "~\n"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def timed(label: str, claims: int, fn: Any, count_queries: bool = True) -> Any:
    queries = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    if count_queries:
        from django.db import connection

        wrapper: Any = connection.execute_wrapper(count)
    else:
        from contextlib import nullcontext

        wrapper = nullcontext()
    # Python's cyclic garbage collector: CPU in its collections during the step.
    import gc

    collecting = {"began": 0.0, "seconds": 0.0, "runs": 0}

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collecting["began"] = time.process_time()
            return
        collecting["seconds"] += time.process_time() - collecting["began"]
        collecting["runs"] += 1

    server = server_cpu() if count_queries else None
    gc.callbacks.append(on_gc)
    with wrapper:
        started, cpu = time.perf_counter(), time.process_time()
        result = fn()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    gc.callbacks.remove(on_gc)
    after = server_cpu() if count_queries else None
    pg = f", PG CPU {after - server:5.2f} s" if server is not None and after is not None else ""
    rate = claims / seconds if seconds else float("inf")
    print(
        f"{label:<36} {seconds:8.2f} s (CPU {cpu:6.2f} s{pg}, gc {collecting['seconds']:.2f} s "
        f"in {collecting['runs']} runs) {rate:9.1f} claims/s "
        f"{queries:9,} queries  peak RSS {peak_rss_mb():6.0f} MB"
    )
    return result


def server_cpu() -> float | None:
    """CPU seconds the PostgreSQL backend of Django's connection has used so far, read
    from /proc when the server runs on this machine (None elsewhere, or before Django)."""
    if "django.db" not in sys.modules:
        return None
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def compare_parsers(text: str, claims: int) -> None:
    import edi_835_parser

    from ar.x12_835_fast import parse_835

    ours = timed("parse: ours (ar.x12_835_fast.parse_835)", claims, lambda: parse_835(text), False)
    assert len(ours.claims) == claims
    with tempfile.NamedTemporaryFile("w", suffix=".835", delete=False) as handle:
        handle.write(text)
    try:
        theirs = timed(
            "parse: edi-835-parser 1.8.0", claims, lambda: edi_835_parser.parse(handle.name), False
        )
        assert len(theirs.to_dataframe()) > 0
    finally:
        os.unlink(handle.name)


def prepare_database(url: str, name: str) -> str:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def dataset(claims: int) -> tuple[Any, Any]:
    """One practice, a biller, a payer and N submitted claims, bulk-inserted."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from claims.models import Claim, ClaimLine
    from practices import services
    from practices.choices import ClaimFormat, PracticeKind, Role
    from practices.models import Coverage, Patient, Payer, Practice, Provider

    call_command("migrate", verbosity=0)
    practice = Practice.objects.create(name="Bench", slug="bench", kind=PracticeKind.MEDICAL)
    biller = get_user_model().objects.create_user(username="bench.biller", password=None)
    services.membership_set(actor=None, user=biller, practice=practice, role=Role.BILLER)
    payer = Payer.objects.create(
        practice=practice, name="Bench Health", payer_id=PAYER_ID, claim_format="837P"
    )
    provider = Provider.objects.create(
        practice=practice, first_name="Pat", last_name="Bench", npi="1234567893"
    )
    patients = Patient.objects.bulk_create(
        Patient(
            practice=practice,
            account_number=f"A{n:07d}",
            first_name="Alex",
            last_name=f"Patient{n}",
            date_of_birth=dt.date(1980, 1, 1),
        )
        for n in range(1, claims + 1)
    )
    coverages = Coverage.objects.bulk_create(
        Coverage(practice=practice, patient=p, payer=payer, subscriber_name="x", cob_order=1)
        for p in patients
    )
    day, today = dt.date(2026, 1, 5), timezone.localdate()
    rows = Claim.objects.bulk_create(
        Claim(
            practice=practice,
            patient=p,
            coverage=c,
            payer=payer,
            provider=provider,
            pms_claim_number=f"B{n:07d}",
            claim_format=ClaimFormat.PROFESSIONAL,
            service_date_from=day,
            service_date_to=day,
            status="submitted",
            next_action="wait",
            wait_reason="payer answer",
            next_action_due=today,
            owner=biller,
            timely_filing_deadline=day + dt.timedelta(days=365),
            total_billed=sum((charge for _, charge in lines_of(n)), Decimal("0.00")),
            version=1,
        )
        for n, (p, c) in enumerate(zip(patients, coverages, strict=True), start=1)
    )
    ClaimLine.objects.bulk_create(
        ClaimLine(claim=claim, line_number=i, procedure_code=code, charge=charge, service_date=day)
        for n, claim in enumerate(rows, start=1)
        for i, (code, charge) in enumerate(lines_of(n), start=1)
    )
    # Statistics, as a database in use has them: without, the planner guesses for the
    # tables just filled and (until autovacuum's ANALYZE comes by, mid-posting or not)
    # took 0.3-0.7 s per chunk for the coverages of 2,000 claims instead of 0.02 s.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return practice, biller


def post(practice: Any, biller: Any, text: str, bulk: bool = True) -> Any:
    from ar import services

    batch = services.remittance_upload(
        actor=biller,
        practice=practice,
        content=text.encode(),
        filename="bench.835",
        enqueue=False,
    )
    return services.remittance_run(batch.pk, bulk=bulk)


def fk_checks_one_by_one(claims: int) -> None:
    """The deferred foreign key checks queued so far, one constraint at a time (the
    constraints of the tables a posting writes), each timed: which foreign keys cost."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, conrelid::regclass::text FROM pg_constraint WHERE contype = 'f' "
            "AND condeferred AND connamespace = 'public'::regnamespace ORDER BY 2, 1"
        )
        constraints = cursor.fetchall()
        for name, table in constraints:
            started = time.perf_counter()
            cursor.execute(f'SET CONSTRAINTS "{name}" IMMEDIATE')
            seconds = time.perf_counter() - started
            if seconds >= 0.05:
                print(f"    {table:<32} {name[:60]:<60} {seconds:6.2f} s")


def pg_log_summary(path: Path, pid: int, offset: int) -> None:
    """This backend's statement durations from the server's log (from ``offset``), summed
    by kind (the statement's first words), biggest first."""
    import re

    pattern = re.compile(rf"\[{pid}\] LOG:  duration: ([0-9.]+) ms  statement: (.*)")
    totals: dict[str, list[float]] = {}
    with path.open("rb") as handle:
        handle.seek(offset)
        for raw in handle:
            found = pattern.search(raw.decode("utf-8", "replace"))
            if not found:
                continue
            words = re.sub(r"\s+", " ", found.group(2)).strip()
            kind = " ".join(words.split(" ")[:6])[:90]
            entry = totals.setdefault(kind, [0.0, 0])
            entry[0] += float(found.group(1)) / 1000
            entry[1] += 1
    print(
        f"  PostgreSQL's statement time (backend {pid}): {sum(t for t, _ in totals.values()):.2f} s"
    )
    for kind, (seconds, count) in sorted(totals.items(), key=lambda kv: -kv[1][0])[:15]:
        print(f"    {seconds:7.2f} s {count:6,} x  {kind}")


def post_split_commit(
    practice: Any, biller: Any, text: str, bulk: bool, claims: int, fk_detail: bool = False
) -> Any:
    """The posting inside an outer transaction: the deferred foreign key checks (Django
    creates every foreign key DEFERRABLE INITIALLY DEFERRED, so each inserted row queues
    one check for the COMMIT) are run by ``SET CONSTRAINTS ALL IMMEDIATE`` and timed apart
    from the COMMIT itself."""
    from django.db import connection, transaction

    atomic = transaction.atomic()
    atomic.__enter__()
    try:
        first = timed(
            "post (835 -> claims), no commit", claims, lambda: post(practice, biller, text, bulk)
        )

        def immediate() -> None:
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

        if fk_detail:
            fk_checks_one_by_one(claims)
        timed("  deferred FK checks (IMMEDIATE)", claims, immediate)
    except BaseException:
        atomic.__exit__(*sys.exc_info())
        raise
    timed("  COMMIT", claims, lambda: atomic.__exit__(None, None, None))
    return first


def main() -> None:
    args = parse_args()
    text = generate(args.claims, patient_share=not args.no_patient_share)
    bulk = not args.row_by_row
    if args.out:
        args.out.write_text(text)
    print(f"835 with {args.claims:,} claims: {len(text) / 1e6:.1f} MB")
    url = args.database_url
    if args.parse_only:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_ops.settings.test")
        import django

        django.setup()
        compare_parsers(text, args.claims)
        return
    if not url or not url.startswith(("postgres://", "postgresql://")):
        sys.exit("remit_bench posts on PostgreSQL: pass --database-url postgresql://...")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_ops.settings.test")
    if args.dataset_only:  # the child: migrate and bulk-insert, then exit
        os.environ["DATABASE_URL"] = url
        import django

        django.setup()
        dataset(args.claims)
        return
    os.environ["DATABASE_URL"] = prepare_database(url, args.db_name)
    # The dataset is built by a child process, so that the peak RSS printed below is the
    # posting's (and the parsers', measured last), not the bulk insert's.
    import subprocess

    subprocess.run(
        [
            sys.executable,
            __file__,
            "--claims",
            str(args.claims),
            "--dataset-only",
            "--database-url",
            os.environ["DATABASE_URL"],
        ],
        check=True,
    )
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from practices.models import Practice

    if args.chunk:
        from ar import bulk_posting

        bulk_posting.CHUNK = args.chunk
    practice = Practice.objects.get(slug="bench")
    biller = get_user_model().objects.get(username="bench.biller")
    print(f"dataset ready (child process), this process's peak RSS {peak_rss_mb():.0f} MB")
    pid, log_offset = 0, 0
    if args.pg_log:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SET log_min_duration_statement = 0")
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        if args.pg_log_file:
            log_offset = args.pg_log_file.stat().st_size
    print(f"load average before posting: {os.getloadavg()}")
    if args.split_commit:
        first = post_split_commit(practice, biller, text, bulk, args.claims, args.fk_detail)
    elif args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        first = profiler.runcall(post, practice, biller, text, bulk)
        if args.profile_out:
            profiler.dump_stats(args.profile_out)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
    else:
        label = "post (835 -> claims, bulk)" if bulk else "post (835 -> claims, row by row)"
        first = timed(label, args.claims, lambda: post(practice, biller, text, bulk))
    print(
        f"  status {first.status}, posted {first.posted_count}, unmatched {first.unmatched_count}"
    )
    print(f"load average after posting: {os.getloadavg()}")
    if args.pg_log and args.pg_log_file:
        pg_log_summary(args.pg_log_file, pid, log_offset)
    again = timed("re-import (same file)", args.claims, lambda: post(practice, biller, text, bulk))
    print(f"  status {again.status}, posted {again.posted_count}, skipped {again.skipped_count}")
    compare_parsers(text, args.claims)  # last: edi-835-parser's memory is not the posting's


if __name__ == "__main__":
    main()
