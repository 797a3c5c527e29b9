"""Work-queue benchmark on PostgreSQL: N claims, then page timings, query counts,
"work next" timings and EXPLAIN ANALYZE of the queue queries.

    python bench/queue_bench.py --claims 100000 [--database-url postgresql://...]

The numbers are for PostgreSQL, so the script refuses to run without a postgresql:// URL
(``--database-url`` or the ``DATABASE_URL`` environment variable). It connects to that
server, (re)creates a dedicated database (``billing_ops_bench`` unless ``--db-name``),
migrates it, loads the demo (``seed_demo``), adds two more practices and tops the claims
up to N with ``demo.claims.seed_claims`` (bulk_create in batches of 5,000). ``--reuse``
keeps an existing bench database that already holds N claims. See bench/README.md.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Share of the claims per practice: one big practice for the biller under test.
SHARES = {
    "sunrise-dental": 0.50,
    "maple-family-medicine": 0.20,
    "lakeside-dental": 0.15,
    "riverbend-medical": 0.15,
}
EXTRA_PRACTICES = {
    # slug: (name, template slug in seed_demo.PRACTICES, biller username)
    "lakeside-dental": ("Lakeside Dental", "sunrise-dental", "lena.biller"),
    "riverbend-medical": ("Riverbend Medical", "maple-family-medicine", "rory.biller"),
}
BATCH = 5000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=100_000, help="claims in the dataset")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="postgresql:// URL of a server (default: $DATABASE_URL); its database is only "
        "used to create the bench database",
    )
    parser.add_argument("--db-name", default="billing_ops_bench")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the bench database if it has N claims"
    )
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page")
    parser.add_argument("--work-next", type=int, default=50, help="timed work_next calls")
    parser.add_argument("--user", default="bill.biller", help="who opens the queues")
    parser.add_argument("--practice", default="sunrise-dental", help="the practice they work")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile one request of each profiled page (top functions by own and total time)",
    )
    parser.add_argument(
        "--pages-only",
        action="store_true",
        help="measure the pages and the API only (no work_next, no EXPLAIN of the queues)",
    )
    parser.add_argument(
        "--unsettled",
        action="store_true",
        help="measure without billing_ops.startup.settle() (the gc.freeze every web "
        "process does when billing_ops.wsgi loads; the default measures as it runs)",
    )
    parser.add_argument(
        "--held", type=int, default=250, help="claims held by the user for the work_next EXPLAIN"
    )
    return parser.parse_args()


def bench_url(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def prepare_database(url: str, name: str, reuse: bool) -> bool:
    """(Re)create the bench database; True when an existing one is kept."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and reuse:
            return True
        if exists:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return False


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_ops.settings.test")
    os.environ.setdefault("BILLING_OPS_ZEAL", "0")  # no N+1 detector in the measured requests
    import django

    django.setup()
    logging.getLogger("axes").setLevel(logging.WARNING)
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


# --- dataset ------------------------------------------------------------------------


def generate(total: int) -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction

    from claims.models import Claim, ClaimActivity, ClaimLine
    from demo.claims import seed_claims
    from demo.management.commands import seed_demo
    from practices import services
    from practices.choices import Role
    from practices.models import Practice

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrated in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    print(f"seed_demo in {time.perf_counter() - started:.1f} s")

    User = get_user_model()
    command = seed_demo.Command()
    templates = {spec["slug"]: spec for spec in seed_demo.PRACTICES}
    with transaction.atomic():
        for slug, (name, template, biller) in EXTRA_PRACTICES.items():
            practice = command._practice({**templates[template], "slug": slug, "name": name})
            user, _ = User.objects.get_or_create(
                username=biller, defaults={"first_name": biller.split(".")[0].title()}
            )
            services.membership_set(actor=None, user=user, practice=practice, role=Role.BILLER)
    users = {u.username: u for u in User.objects.all()}

    generated, started = 0, time.perf_counter()
    remaining = total
    slugs = list(SHARES)
    for i, slug in enumerate(slugs):
        practice = Practice.objects.get(slug=slug)
        target = remaining if i == len(slugs) - 1 else round(total * SHARES[slug])
        remaining -= target
        t0 = time.perf_counter()
        with transaction.atomic():
            made = seed_claims(
                practice,
                users,
                random.Random(f"bench-{slug}"),
                count=target,
                batch_size=BATCH,
            )
        took = time.perf_counter() - t0
        generated += made
        print(
            f"  {practice.name}: {made:,} new claims in {took:.1f} s "
            f"({made / took if took else 0:,.0f} claims/s)"
        )
    took = time.perf_counter() - started
    rows = {
        "claims": Claim.objects.count(),
        "lines": ClaimLine.objects.count(),
        "activities": ClaimActivity.objects.count(),
        "history": Claim.history.count() + ClaimLine.history.count(),
    }
    print(
        f"generated {generated:,} claims in {took:.1f} s ({generated / took:,.0f} claims/s); "
        "in the database: " + ", ".join(f"{n:,} {name}" for name, n in rows.items())
    )
    with connection.cursor() as cursor:
        t0 = time.perf_counter()
        cursor.execute("VACUUM ANALYZE")
        print(f"VACUUM ANALYZE in {time.perf_counter() - t0:.1f} s")


# --- measurements -------------------------------------------------------------------


def percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(math.ceil(pct / 100 * len(ordered)) - 1, 0)]


def timed(fn: Callable[[], Any], n: int, warmup: int = 2) -> list[float]:
    return timed_cpu(fn, n, warmup)[0]


def timed_cpu(fn: Callable[[], Any], n: int, warmup: int = 2) -> tuple[list[float], list[float]]:
    """Wall and CPU (this process's ``time.process_time``) milliseconds of each call."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(n):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - t0) * 1000)
    return wall, cpu


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def row(label: str, samples: list[float], extra: str = "") -> str:
    return (
        f"{label:34} p50 {percentile(samples, 50):7.1f} ms   "
        f"p95 {percentile(samples, 95):7.1f} ms   max {max(samples):7.1f} ms{extra}"
    )


def profile_request(client: Any, url: str, label: str = "") -> None:
    """cProfile of one request: top 15 by own time, top 25 by cumulative time."""
    import cProfile
    import io
    import pstats

    client.get(url)  # warm
    profiler = cProfile.Profile()
    profiler.enable()
    client.get(url)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(15)
    stats.sort_stats("cumulative").print_stats(25)
    print()
    print(f"cProfile of one request to {url} ({label}):")
    print(out.getvalue())


def measure(args: argparse.Namespace) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.db.models import BooleanField, Q
    from django.db.models.expressions import RawSQL
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from claims import queues
    from claims.choices import OPEN_STATUSES
    from claims.models import Claim
    from practices.models import Practice
    from work import selectors
    from work import services as work
    from work.registry import registry

    user = get_user_model().objects.get(username=args.user)
    practice = Practice.objects.get(slug=args.practice)
    claims = Claim.objects.filter(practice=practice)
    payer_ar = selectors.queue_queryset(registry.queue("payer-ar"), user).filter(practice=practice)
    my_day = selectors.my_day_of_type(queues.CLAIM, user, timezone.localdate()).filter(
        practice=practice
    )
    ar_total, day_total = payer_ar.count(), my_day.count()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    print()
    print(f"PostgreSQL {version}; {Claim.objects.count():,} claims in all")
    print(
        f"{args.user} works {practice.name}: {claims.count():,} claims, "
        f"{claims.filter(status__in=OPEN_STATUSES).count():,} open, "
        f"payer AR {ar_total:,}, my day {day_total:,}"
    )

    # A deep keyset page: the cursor of the row at 90% of the payer AR queue.
    depth = int(ar_total * 0.9)
    anchor = payer_ar.order_by("-priority", "-pk").values_list("priority", "pk")[depth]
    cursor_token = selectors._encode(list(anchor))  # noqa: SLF001 - same format as the page

    client = Client()
    client.force_login(user)
    session = client.session
    session["practice_id"] = practice.pk
    session.save()
    # The claim page of the first claim of payer AR, as a person opens it from the queue.
    top_claim = payer_ar.order_by("-priority", "-pk").values_list("pk", flat=True).first()
    claim_url = f"/claims/{top_claim}/?from=payer-ar"
    filtered_url = "/queues/payer-ar/?sort=due&status=denied"
    deep_url = f"/queues/payer-ar/?after={cursor_token}"
    pages = {
        "/queues/payer-ar/": "payer AR, first page",
        "/queues/my-day/": "my day, first page",
        deep_url: f"payer AR, deep page (row {depth:,})",
        filtered_url: "payer AR, denied by due date",
        "/queues/rejections/": "rejections, first page",
        "/queues/unassigned/": "unassigned, first page",
        "/queues/all-open/": "all open, first page",
        claim_url: "claim page",
    }
    print()
    print(
        f"Pages ({args.requests} requests each after 2 warm-up, django.test.Client; "
        f"load average {load_average()}):"
    )
    print(
        f"{'page':34} {'p50':>7} {'p95':>7} {'max':>7}   {'CPU p50':>7} {'CPU p95':>7}"
        f"   {'queries':>7} {'SQL':>7} {'page/SQL':>8}"
    )
    captured: dict[str, list[dict[str, str]]] = {}

    def measure_url(url: str, label: str) -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        queries = list(ctx.captured_queries)  # the next request resets connection.queries
        # The SQL column: the median over the timed requests of the time spent in the
        # database calls of each (what Django's debug cursor times, but to the microsecond:
        # its "time" is rounded to the millisecond, a 0.4 ms query counts 0).
        spent: list[float] = []

        def timed_execute(execute: Any, sql: Any, params: Any, many: Any, context: Any) -> Any:
            start = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                spent[-1] += (time.perf_counter() - start) * 1000

        def one(url: str = url) -> None:
            spent.append(0.0)
            client.get(url)

        with connection.execute_wrapper(timed_execute):
            wall, cpu = timed_cpu(one, args.requests)
        sql_ms = percentile(spent[-args.requests :], 50)
        p50 = percentile(wall, 50)
        ratio = p50 / sql_ms if sql_ms else 0.0
        print(
            f"{label:34} {p50:7.1f} {percentile(wall, 95):7.1f} {max(wall):7.1f}   "
            f"{percentile(cpu, 50):7.1f} {percentile(cpu, 95):7.1f}   {len(queries):7d} "
            f"{sql_ms:7.1f} {ratio:7.1f}x"
        )
        captured[label] = queries

    for url, label in pages.items():
        measure_url(url, label)
    print()
    print(f"API GET /api/v1/claims/?queue= (load average {load_average()}):")
    for slug in queues.API_QUEUES:
        measure_url(f"/api/v1/claims/?queue={slug}", f"api ?queue={slug}")
    print()
    print("Queries of one request (time, first 150 characters):")
    for label, queries in captured.items():
        print(f"  {label}:")
        for query in queries:
            sql = " ".join(query["sql"].split())
            print(f"    {float(query['time']) * 1000:6.1f} ms  {sql[:150]}")

    if args.profile:
        for url, label in [
            ("/queues/payer-ar/", "payer AR, first page"),
            ("/queues/my-day/", "my day"),
            (claim_url, "claim page"),
            (deep_url, "deep page"),
            (filtered_url, "filtered page"),
            ("/api/v1/claims/?queue=payer-ar", "API ?queue=payer-ar"),
        ]:
            profile_request(client, url, label)
    if args.pages_only:
        return

    print()
    print(f"work_next ({args.work_next} calls, each released after):")
    for _ in range(2):  # warm-up
        work.release(work.work_next(actor=user, practice_id=practice.pk), user)
    samples = []
    for _ in range(args.work_next):
        t0 = time.perf_counter()
        claim = work.work_next(actor=user, practice_id=practice.pk)
        samples.append((time.perf_counter() - t0) * 1000)
        assert claim is not None
        work.release(claim, user)
    with CaptureQueriesContext(connection) as ctx:
        claim = work.work_next(actor=user, practice_id=practice.pk)
    queries = list(ctx.captured_queries)
    work.release(claim, user)
    print(row("work_next", samples, f"   {len(queries):2d} queries"))
    # Hold some of the user's claims (as a busy biller does), then time work_next again:
    # the candidate query must not walk past the held rows of everybody.
    held = []
    for _ in range(args.held):
        item = work.work_next(actor=user, practice_id=practice.pk)
        if item is None:
            # A small dataset: the whole day is held. One goes back, to be handed out.
            if held:
                work.release(held.pop(), user)
            break
        held.append(item)

    def next_and_release() -> None:
        item = work.work_next(actor=user, practice_id=practice.pk)
        if item is not None:
            work.release(item, user)

    samples = timed(next_and_release, args.work_next)
    print(row(f"work_next + release, {len(held)} held", samples))

    # The queries behind the pages, as keyset_page and the view run them.
    order = ("-priority", "-pk")
    deep = payer_ar.filter(Q(priority__lt=anchor[0]) | Q(priority=anchor[0], pk__lt=anchor[1]))
    # The same page with a row-value cursor, which PostgreSQL can start the index scan at
    # (the OR form is only a filter: the scan walks the index from the top to the cursor).
    row_value = payer_ar.filter(
        RawSQL(
            '("claims_claim"."priority", "claims_claim"."id") < (%s, %s)',
            anchor,
            output_field=BooleanField(),
        )
    )
    denied = queues.ClaimQueueFilter({"status": ["denied"]}, queryset=payer_ar, user=user).qs
    candidates = (
        selectors.my_day_of_type(queues.CLAIM, user, timezone.localdate())
        .filter(work.unheld(timezone.now()), practice_id=practice.pk)
        .order_by("-priority", "-pk")  # as work.services.work_next asks
        .select_for_update(skip_locked=True, of=("self",))
        .values_list("pk", flat=True)
    )
    shown = queues.CLAIM.page_fields()  # the columns a page reads (ItemType.page_fields)
    plans: dict[str, Any] = {
        "payer AR first page": payer_ar.only(*shown).order_by(*order)[:51],
        "payer AR count": ("count", payer_ar),
        "payer AR count, capped at 1,001 rows (the page's)": ("capped", payer_ar),
        "my day first page": my_day.only(*shown).order_by(*order)[:51],
        f"payer AR deep page (row {depth:,})": deep.only(*shown).order_by(*order)[:51],
        f"payer AR deep page (row {depth:,}), row-value cursor": row_value.only(*shown).order_by(
            *order
        )[:51],
        "payer AR, denied by due date (status filter)": denied.only(*shown).order_by(
            "next_action_due", "pk"
        )[:51],
        "payer AR, denied: count": ("count", denied),
        f"work_next candidate, {len(held)} held (FOR UPDATE SKIP LOCKED)": candidates[:1],
    }
    # The API's ?queue=payer-ar before issue 10 (pk IN the queue's rows) and now.
    scoped = Claim.objects.visible_to(user, queues.CLAIM.permission).filter(practice=practice)
    api_order = ("-priority", "-id")
    plans["API ?queue=payer-ar, old: pk IN (queue subquery)"] = scoped.filter(
        pk__in=selectors.queue_queryset(registry.queue("payer-ar"), user).values("pk")
    ).order_by(*api_order)[:51]
    plans["API ?queue=payer-ar, now: the queue's filter on the scoped claims"] = (
        queues.claims_in_queue("payer-ar", user, scoped).order_by(*api_order)[:51]
    )
    for label, plan in plans.items():
        print()
        print(f"EXPLAIN ANALYZE: {label}")
        with transaction.atomic():  # FOR UPDATE needs one; nothing is written
            if isinstance(plan, tuple):  # what QuerySet.count() / selectors.capped_count run
                rows = plan[1].order_by().values("pk")
                if plan[0] == "capped":
                    rows = rows[:1001]
                sql, params = rows.query.sql_with_params()
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"EXPLAIN (ANALYZE, BUFFERS) SELECT COUNT(*) FROM ({sql}) AS q", params
                    )
                    print("\n".join(r[0] for r in cursor.fetchall()))
            else:
                print(plan.explain(analyze=True, buffers=True))
    for item in held:
        work.release(item, user)


def main() -> None:
    args = parse_args()
    url = args.database_url
    if not url or not url.startswith(("postgres://", "postgresql://")):
        sys.exit(
            "queue_bench measures PostgreSQL: pass --database-url postgresql://... "
            "or set DATABASE_URL (see bench/README.md)."
        )
    kept = prepare_database(url, args.db_name, args.reuse)
    setup_django(bench_url(url, args.db_name))
    if kept:
        from django.core.management import call_command

        from claims.models import Claim

        call_command("migrate", verbosity=0)
        have = Claim.objects.count()
        if have < args.claims:
            sys.exit(f"{args.db_name} has {have:,} claims; run without --reuse to regenerate.")
        print(f"reusing {args.db_name} ({have:,} claims)")
    else:
        generate(args.claims)
    if not args.unsettled:
        # A web process as billing_ops.wsgi leaves it before its first request: without
        # it the cyclic collector walks every module, URL pattern and template of the
        # process again and again (~0.7 ms of a queue page, one request in 50-100 paying
        # ~50 ms at once).
        from billing_ops.startup import settle

        print(f"settled as billing_ops.wsgi does: {settle():,} objects frozen")
    measure(args)


if __name__ == "__main__":
    main()
