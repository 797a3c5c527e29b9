"""KPI benchmark on PostgreSQL: the nightly rollup of one day for P practices holding N
claims in all, and the dashboard page a manager lands on.

    python bench/kpi_bench.py --claims 1000000 --practices 50 [--database-url postgresql://...]

Reuses the queue bench's tooling (``bench/queue_bench.py``: database (re)creation, Django
set-up, percentiles). The dataset is generated in SQL, not through the services: the
rollup reads claims, denials and claim payments only, and a million claims through the
ORM take most of an hour here (``seed_claims`` runs at 100-400 claims/s). Per practice:
a payer, a provider, 20 patients with a coverage, an 835 batch, then ``INSERT ... SELECT
generate_series`` of its claims (statuses, dates of service over 400 days, amounts, first
submission a day or two after service, some of them today), a denial for every fifth
denied/appealed claim and a posted claim payment for every paid or partly paid claim.
Columns the generator does not set get the model's default, so the rows are what the
ORM would write. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from queue_bench import bench_url, percentile, prepare_database, setup_django  # noqa: E402

STATUSES = [
    # status, weight (per 100)
    ("draft", 4),
    ("ready", 3),
    ("submitted", 8),
    ("accepted", 6),
    ("rejected", 3),
    ("in_adjudication", 10),
    ("paid", 35),
    ("partially_paid", 8),
    ("denied", 8),
    ("appealed", 3),
    ("closed", 10),
    ("void", 2),
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=1_000_000, help="claims in all")
    parser.add_argument("--practices", type=int, default=50)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--db-name", default="billing_ops_kpi_bench")
    parser.add_argument("--reuse", action="store_true", help="keep an existing bench database")
    parser.add_argument("--rollups", type=int, default=3, help="timed rollups of today")
    parser.add_argument("--requests", type=int, default=20, help="timed dashboard requests")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile one request per period (top functions)"
    )
    parser.add_argument(
        "--page-only", action="store_true", help="skip the timed rollups (one untimed rollup)"
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="EXPLAIN ANALYZE the queries of one more cold request per page (PostgreSQL's time)",
    )
    parser.add_argument(
        "--console-practices",
        type=int,
        default=5,
        help="practices of the manager who opens the vendor console",
    )
    return parser.parse_args()


def _literal(field: Any) -> str:
    """The SQL literal of a field's Django default (the database has no defaults)."""
    if field.null:
        return "NULL"
    value = field.get_default()
    if value is None:
        raise SystemExit(f"kpi_bench: no value for {field.model.__name__}.{field.name}")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)) or type(value).__name__ == "Decimal":
        return str(value)
    if isinstance(value, (list, dict)):
        return "'" + ("[]" if isinstance(value, list) else "{}") + "'::jsonb"
    return "'" + str(value).replace("'", "''") + "'"


def insert_select(model: Any, given: dict[str, str], source: str, params: list[Any]) -> int:
    """``INSERT INTO <model> (...) SELECT <given or default> FROM <source>``."""
    from django.db import connection

    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        # The values take no parameters: a % in them is SQL's modulo.
        values.append((given.get(field.column) or _literal(field)).replace("%", "%%"))
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM {source}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _status_case() -> str:
    """g -> a status by the weights above (deterministic in g)."""
    parts, upper = [], 0
    for status, weight in STATUSES:
        upper += weight
        parts.append(f"WHEN (g * 37) % 100 < {upper} THEN '{status}'")
    return "CASE " + " ".join(parts) + " END"


def generate(total: int, practices: int) -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from ar.models import ClaimPayment, Remittance
    from claims.models import Claim
    from denials.models import Denial
    from practices import services
    from practices.choices import Role
    from practices.models import Coverage, Patient
    from tests import factories

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrated in {time.perf_counter() - started:.1f} s")
    now = timezone.now()
    today = timezone.localdate()
    per = total // practices
    status = _status_case()
    started = time.perf_counter()
    User = get_user_model()
    for p in range(1, practices + 1):
        t0 = time.perf_counter()
        with transaction.atomic():
            practice = factories.PracticeFactory(
                name=f"Bench practice {p:02d}", slug=f"bench-{p:02d}"
            )
            payer = factories.PayerFactory(practice=practice, timely_filing_days=365)
            provider = factories.ProviderFactory(practice=practice)
            manager = User.objects.create(username=f"manager{p:02d}", first_name="Manager")
            biller = User.objects.create(username=f"biller{p:02d}", first_name="Biller")
            services.membership_set(
                actor=None, user=manager, practice=practice, role=Role.PRACTICE_MANAGER
            )
            services.membership_set(actor=None, user=biller, practice=practice, role=Role.BILLER)
            patients = [factories.PatientFactory(practice=practice) for _ in range(20)]
            coverages = [factories.CoverageFactory(patient=x, payer=payer) for x in patients]
            pairs = list(zip(patients, coverages, strict=True))
            patient_ids = "ARRAY[" + ",".join(str(x.pk) for x, _ in pairs) + "]"
            coverage_ids = "ARRAY[" + ",".join(str(c.pk) for _, c in pairs) + "]"
            count = per if p < practices else total - per * (practices - 1)
            made = _claims(
                practice, biller, payer, provider, patient_ids, coverage_ids, status, count,
                today, now,
            )  # fmt: skip
            remittance = Remittance.objects.create(
                practice=practice, source="835", status="posted", trace=f"BENCH-{p}"
            )
            denials = insert_select(
                Denial,
                {
                    "practice_id": "c.practice_id",
                    "owner_id": "c.owner_id",
                    "next_action": "'appeal'",
                    "next_action_due": "c.next_action_due",
                    "claim_id": "c.id",
                    "group_code": "'CO'",
                    "carc": "CASE WHEN c.id % 3 = 0 THEN '16' WHEN c.id % 3 = 1 THEN '29' "
                    "ELSE '50' END",
                    "amount": "c.total_billed",
                    "received_on": "(c.first_submitted_at::date + 20)",
                    "category": "CASE WHEN c.id % 3 = 0 THEN 'missing_info' "
                    "WHEN c.id % 3 = 1 THEN 'timely_filing' ELSE 'medical_necessity' END",
                    "route": "'billing'",
                    "appeal_deadline": "(c.first_submitted_at::date + 200)",
                    "status": "'open'",
                    "created_at": "c.first_submitted_at + interval '20 days'",
                },
                f"{Claim._meta.db_table} c WHERE c.practice_id = %s "
                "AND c.status IN ('denied', 'appealed') AND c.id %% 5 = 0",
                [practice.pk],
            )
            payments = insert_select(
                ClaimPayment,
                {
                    "remittance_id": str(remittance.pk),
                    "practice_id": "c.practice_id",
                    "patient_control_number": "c.pms_claim_number",
                    "status_code": "'1'",
                    "charge": "c.total_billed",
                    "paid": "c.total_paid",
                    "patient_responsibility": "0",
                    "allowed": "c.total_paid",
                    "adjusted": "c.total_adjusted",
                    "claim_id": "c.id",
                    "state": "'posted'",
                    "posted_at": f"CASE WHEN c.id % 40 = 0 THEN '{now.isoformat()}'::timestamptz "
                    "ELSE c.first_submitted_at + interval '25 days' END",
                    "posted_by_id": str(biller.pk),
                },
                f"{Claim._meta.db_table} c WHERE c.practice_id = %s "
                "AND c.status IN ('paid', 'partially_paid', 'closed')",
                [practice.pk],
            )
        if p == 1 or p % 10 == 0 or p == practices:
            took = time.perf_counter() - t0
            print(
                f"  practice {p}: {made:,} claims, {denials:,} denials, {payments:,} payments "
                f"in {took:.1f} s"
            )
    print(f"generated {total:,} claims in {time.perf_counter() - started:.1f} s")
    print(f"  ({Patient.objects.count():,} patients, {Coverage.objects.count():,} coverages)")
    with connection.cursor() as cursor:
        t0 = time.perf_counter()
        cursor.execute("VACUUM ANALYZE")
        print(f"VACUUM ANALYZE in {time.perf_counter() - t0:.1f} s")


def _claims(
    practice: Any,
    biller: Any,
    payer: Any,
    provider: Any,
    patient_ids: str,
    coverage_ids: str,
    status: str,
    count: int,
    today: dt.date,
    now: dt.datetime,
) -> int:
    """One practice's claims in one INSERT ... SELECT (dates relative to ``today``)."""
    from claims.models import Claim

    day = f"'{today.isoformat()}'::date"
    stamp = f"'{now.isoformat()}'::timestamptz"
    service = f"({day} - ((g * 7919) % 400))"
    submitted = (
        f"CASE WHEN g % 50 = 0 THEN {stamp} "
        f"ELSE ({service} + 1 + g % 2)::timestamp AT TIME ZONE 'UTC' + interval '10 hours' END"
    )
    billed = "(50 + (g * 131) % 950)::numeric(12,2)"
    return insert_select(
        Claim,
        {
            "practice_id": str(practice.pk),
            "owner_id": str(biller.pk),
            "next_action": f"CASE WHEN {status} IN ('closed', 'void') THEN '' "
            "ELSE 'call_payer' END",
            "next_action_due": f"CASE WHEN {status} IN ('closed', 'void') THEN NULL "
            f"ELSE {day} + (g % 30) - 10 END",
            "patient_id": f"({patient_ids})[1 + g % 20]",
            "coverage_id": f"({coverage_ids})[1 + g % 20]",
            "payer_id": str(payer.pk),
            "provider_id": str(provider.pk),
            "pms_claim_number": "'B-' || g",
            "claim_format": "'837D'",
            "service_date_from": service,
            "service_date_to": service,
            "status": status,
            "total_billed": billed,
            "total_paid": f"CASE WHEN {status} IN ('paid', 'closed') THEN {billed} * 0.6 "
            f"WHEN {status} = 'partially_paid' THEN {billed} * 0.3 ELSE 0 END",
            "total_adjusted": f"CASE WHEN {status} IN ('paid', 'closed') THEN {billed} * 0.4 "
            "ELSE 0 END",
            "first_submitted_at": f"CASE WHEN {status} IN ('draft', 'ready') THEN NULL "
            f"ELSE {submitted} END",
            "submission_count": f"CASE WHEN {status} IN ('draft', 'ready') THEN 0 ELSE 1 END",
            "clean_at_first_submission": "(g % 10 <> 0)",
            "accepted_on_first_submission": f"CASE WHEN {status} IN ('draft', 'ready') THEN NULL "
            f"ELSE {status} <> 'rejected' END",
            "timely_filing_deadline": f"({service} + 365)",
            "created_at": stamp,
            "updated_at": stamp,
        },
        "generate_series(1, %s) AS g",
        [count],
    )


def measure(args: argparse.Namespace) -> None:
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from claims.models import Claim
    from practices.models import Practice
    from reports import rollups
    from reports.models import PracticeDay
    from reports.months import write_range
    from tests.conftest import login

    today = timezone.localdate()
    ids = list(Practice.objects.filter(is_active=True).values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    print()
    print(f"PostgreSQL {version}; {Claim.objects.count():,} claims in {len(ids)} practices")
    samples = []
    for _ in range(1 if args.page_only else args.rollups):
        with CaptureQueriesContext(connection) as queries:
            t0 = time.perf_counter()
            written = rollups.rollup_day(day=today, practice_ids=ids)
            samples.append(time.perf_counter() - t0)
    print(
        f"rollup of one day, {written} practices: "
        + ", ".join(f"{s:.1f} s" for s in samples)
        + f" ({len(queries.captured_queries)} queries each)"
    )
    slow = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:5]
    for query in slow:
        print(f"   {float(query['time']) * 1000:8.1f} ms  {query['sql'][:110]}")
    # A year of stored days for the dashboard's trends (copies of today's row: the page's
    # read cost is what is measured, not the figures).
    row = PracticeDay.objects.filter(day=today).order_by("practice_id")
    first = row.first()
    assert first is not None
    copies = [
        PracticeDay(practice_id=r.practice_id, day=today - dt.timedelta(days=d), figures=r.figures,
                    computed_at=r.computed_at)
        for r in row for d in range(1, 366)
    ]  # fmt: skip
    PracticeDay.objects.bulk_create(copies, ignore_conflicts=True, batch_size=5000)
    # Their month rows, as the rollup writes them (``reports.months``).
    c0, t0 = time.process_time(), time.perf_counter()
    month_rows = write_range(ids, today - dt.timedelta(days=365), today)
    print(
        f"month rows of a year, {len(ids)} practices: {month_rows} rows in "
        f"{time.perf_counter() - t0:.1f} s ({time.process_time() - c0:.2f} s CPU)"
    )
    manager = Practice.objects.get(pk=first.practice_id)
    user = manager.memberships.get(
        role="practice_manager", user__username__startswith="manager"
    ).user
    client = login(Client(), user)
    # The console: a manager of several practices (the first N, by id).
    lead = _console_user(ids[: args.console_practices])
    console = login(Client(), lead)
    year_ago = (today - dt.timedelta(days=364)).isoformat()
    pages = [
        ("dashboard, this month", client, "/kpis/"),
        ("dashboard, last month", client, "/kpis/?period=last_month"),
        ("dashboard, last 90 days", client, "/kpis/?period=last_90"),
        ("dashboard, custom 12 mo", client,
         f"/kpis/?period=custom&from={year_ago}&to={today.isoformat()}"),
        (f"console, {args.console_practices} pr., month", console, "/kpis/vendor/"),
        (f"console, {args.console_practices} pr., 90 d", console, "/kpis/vendor/?period=last_90"),
    ]  # fmt: skip
    print(f"load average before the page runs: {_load()}")
    for label, who, url in pages:
        # "cold": the cache emptied before each request, so every request sums the stored
        # days (the page as it was before the cache; the first request after a rollup);
        # "cached": what every other request of the practice and period reads.
        for mode in ("cold", "cached"):
            times, cpu = [], []
            for i in range(args.requests + 2):
                if mode == "cold":
                    cache.clear()
                with CaptureQueriesContext(connection) as queries:
                    c0 = time.process_time()
                    t0 = time.perf_counter()
                    response = who.get(url)
                    took = (time.perf_counter() - t0) * 1000
                    spent = (time.process_time() - c0) * 1000
                assert response.status_code == 200, response.status_code
                if i >= 2:
                    times.append(took)
                    cpu.append(spent)
            print(
                f"{label:30} {mode:6} p50 {percentile(times, 50):6.1f} ms  "
                f"p95 {percentile(times, 95):6.1f} ms  max {max(times):6.1f} ms  "
                f"CPU p50 {percentile(cpu, 50):6.1f} / p95 {percentile(cpu, 95):6.1f} ms  "
                f"{len(queries.captured_queries)} q"
            )
            if args.profile:
                if mode == "cold":
                    cache.clear()
                profile(who, url)
            if args.explain and mode == "cold":
                cache.clear()
                explain(who, url)
    print(f"load average after the page runs: {_load()}")


def explain(client: Any, url: str) -> None:
    """One more request of ``url``; then EXPLAIN ANALYZE each of its queries: PostgreSQL's
    own execution time, in total and the three longest."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    timed = []
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
            plan = cursor.fetchone()[0]
            plan = plan[0] if isinstance(plan, list) else plan
            timed.append((plan["Execution Time"] + plan["Planning Time"], " ".join(sql.split())))
    total = sum(ms for ms, _ in timed)
    print(
        f"   PostgreSQL: {total:.1f} ms over {len(timed)} queries (EXPLAIN ANALYZE, planning incl.)"
    )
    for ms, sql in sorted(timed, reverse=True)[:3]:
        print(f"   {ms:8.1f} ms  {sql[:110]}")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _console_user(practice_ids: list[int]) -> Any:
    """A practice manager at each of these practices (the console shows them side by side)."""
    from django.contrib.auth import get_user_model

    from practices import services
    from practices.choices import Role
    from practices.models import Practice

    user, _ = get_user_model().objects.get_or_create(
        username="console-lead", defaults={"first_name": "Console"}
    )
    for practice in Practice.objects.filter(pk__in=practice_ids):
        services.membership_set(
            actor=None, user=user, practice=practice, role=Role.PRACTICE_MANAGER
        )
    return user


def profile(client: Any, url: str, top: int = 12) -> None:
    """One more request of ``url`` under cProfile: the top functions by own time."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    client.get(url)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    print("   " + lines[0].strip())
    for line in lines[start : start + top + 1]:
        print("   " + line[:150])


def main() -> None:
    args = parse_args()
    url = args.database_url
    if not url or not url.startswith(("postgres://", "postgresql://")):
        sys.exit("kpi_bench measures PostgreSQL: pass --database-url postgresql://...")
    kept = prepare_database(url, args.db_name, args.reuse)
    setup_django(bench_url(url, args.db_name))
    if kept:
        from django.core.management import call_command

        from claims.models import Claim

        call_command("migrate", verbosity=0)
        kept = Claim.objects.exists()
    if not kept:
        generate(args.claims, args.practices)
    measure(args)


if __name__ == "__main__":
    main()
