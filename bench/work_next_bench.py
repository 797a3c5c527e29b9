""""Work next" under concurrency (issue 10): N worker processes hand items out at once.

    python bench/work_next_bench.py --database-url postgresql://.../billing_ops_bench \\
        --workers 1,5,20 --seconds 10 [--path fast|plain] [--mode service|api|page] [--drain]

The database must hold bench data already (``bench/queue_bench.py`` or ``bench/dataset.py``
made it); nothing is generated here and only holds are written (every one released at the
end). Each worker is its own process with its own connection, acting as one of the people
who own the most due claims (several workers per person when there are more workers than
people: the service hands two tabs of one person two items). Each call runs in its own
grants cache, as a request does (``--grants worker``: one per worker); since the second
pass ``work.handoff`` keeps the caller's grants itself and its statements check them in
SQL, so neither reads them per call.

The 20-worker service figure of issue 10's target (about a minute at dataset L):
``.venv/bin/python bench/work_next_bench.py --database-url postgresql://.../d_work
--workers 20 --seconds 20``.

Per run it prints hand-offs/s overall, p50/p95/max per call, queries per call (one call
captured in the parent), CPU of the workers and of their PostgreSQL backends per hand-off
(``getrusage`` and ``/proc/<backend pid>/stat``; the backends' is only readable when the
server runs on this machine) and the load average, then checks that no item was handed to
two workers while held: with ``--drain`` nobody releases and every item must be handed out
once at most; otherwise each worker releases what it took right away (as a person finishing
it) and the hold intervals of one item, logged after the take returned and before the
release started, must not overlap (a logged overlap is a real one).

``--mode api`` posts to ``/api/v1/claims/work-next/`` and ``--mode page`` to
``/queues/work-next/`` through ``django.test.Client`` (the whole middleware stack in the
worker's process; releases through the service). ``--path plain`` measures the ORM path
(``work.services.work_next_plain``, one query per registered type). ``--profile``: cProfile
of 200 calls in one process. ``--explain``: EXPLAIN ANALYZE of the hand-off's statements
and of the Unassigned queue's first page with the old per-row holder condition and the
set-based one. No assertion on time: a measuring tool, not a test.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from queue_bench import percentile, setup_django  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="postgresql:// URL of the bench database (default: $DATABASE_URL)",
    )
    parser.add_argument("--workers", default="20", help="worker counts, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each run")
    parser.add_argument("--path", choices=["fast", "plain"], default="fast")
    parser.add_argument("--mode", choices=["service", "api", "page"], default="service")
    parser.add_argument("--drain", action="store_true", help="take without releasing")
    parser.add_argument("--users", type=int, default=20, help="at most this many people")
    parser.add_argument(
        "--grants",
        choices=["call", "worker"],
        default="call",
        help="read the caller's grants once per call (as a request does) or once per worker",
    )
    parser.add_argument(
        "--no-prepare", action="store_true", help="fast path without prepared statements"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile 200 calls")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the SQL")
    return parser.parse_args()


# --- who works ------------------------------------------------------------------------


def pick_people(limit: int) -> list[tuple[int, int, int]]:
    """(user id, practice id, due claims) of the people owning the most due open claims
    at a practice where they may work claims, most first."""
    from django.db.models import Count
    from django.utils import timezone

    from billing_ops.access import has_perm
    from claims.choices import OPEN_STATUSES
    from claims.models import Claim
    from claims.queues import CLAIM

    rows = (
        Claim.objects.filter(
            status__in=OPEN_STATUSES,
            owner__isnull=False,
            owner__is_active=True,
            next_action_due__lte=timezone.localdate(),
        )
        .values("owner", "practice")
        .annotate(n=Count("pk"))
        .order_by("-n")
    )
    people: list[tuple[int, int, int]] = []
    seen: set[int] = set()
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.in_bulk([r["owner"] for r in rows])
    for r in rows:
        user = users[r["owner"]]
        if r["owner"] in seen or not has_perm(user, CLAIM.permission, r["practice"]):
            continue
        seen.add(r["owner"])
        people.append((r["owner"], r["practice"], r["n"]))
        if len(people) == limit:
            break
    return people


# --- one worker ---------------------------------------------------------------------


def backend_cpu(pid: int) -> float | None:
    """CPU seconds of a PostgreSQL backend (None when it is not on this machine)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def worker(
    n: int, user_id: int, practice_id: int, args: Any, start: Any, done: Any, out: Any
) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.urls import resolve

    from billing_ops.access import grants_cache
    from work import services
    from work.registry import registry

    user = get_user_model().objects.get(pk=user_id)
    by_url_name = {t.detail_url_name: t.key for t in registry.types()}
    take = services.work_next if args.path == "fast" else services.work_next_plain
    client = None
    if args.mode != "service":
        client = Client()
        client.force_login(user)
        session = client.session
        session["practice_id"] = practice_id
        session.save()

    def call() -> tuple[str, int] | None:
        if client is None:
            with grants_cache():  # inside the worker's own when --grants worker
                item = take(actor=user, practice_id=practice_id)
            return None if item is None else (registry.type_of(item).key, item.pk)
        if args.mode == "api":
            response = client.post("/api/v1/claims/work-next/", {"practice": practice_id})
            if response.status_code == 204:
                return None
            assert response.status_code == 200, response.status_code
            return ("claim", response.json()["id"])
        response = client.post("/queues/work-next/")
        assert response.status_code == 302, response.status_code
        match = resolve(response["Location"].split("?")[0])
        if match.url_name not in by_url_name:  # back to My day: nothing left
            return None
        return (by_url_name[match.url_name], int(match.kwargs["pk"]))

    def give_back(ref: tuple[str, int]) -> None:
        model = registry.type(ref[0]).model
        services.release(model(pk=ref[1]), user)

    if args.grants == "worker":
        grants_cache().__enter__()  # one for the worker's life: read on the first call
    for _ in range(3):  # warm up: the compiled statements, the session
        ref = call()
        if ref is not None:
            give_back(ref)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    start.wait()
    began = time.perf_counter()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    pg0 = backend_cpu(backend)
    latencies: list[float] = []
    events: list[tuple[str, int, int, float, float]] = []
    empty = 0
    while time.perf_counter() - began < args.seconds:
        t0 = time.perf_counter()
        ref = call()
        latencies.append((time.perf_counter() - t0) * 1000)
        if ref is None:
            empty += 1
            if args.drain:
                break
            continue
        taken_at = time.monotonic()
        if args.drain:
            events.append((ref[0], ref[1], n, taken_at, float("inf")))
        else:
            events.append((ref[0], ref[1], n, taken_at, time.monotonic()))
            give_back(ref)
    elapsed = time.perf_counter() - began
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    pg1 = backend_cpu(backend)
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    pg_cpu = pg1 - pg0 if pg0 is not None and pg1 is not None else None
    if args.drain:  # once every worker has stopped taking
        done.wait()
        for key, pk, _n, _t, _r in events:
            give_back((key, pk))
    out.put((n, latencies, events, empty, elapsed, cpu, pg_cpu))


# --- one run --------------------------------------------------------------------------


def overlaps(events: list[tuple[str, int, int, float, float]]) -> int:
    """Hand-offs of an item to a worker while another held it (per the log)."""
    by_item: dict[tuple[str, int], list[tuple[float, float, int]]] = {}
    for key, pk, n, taken, released in events:
        by_item.setdefault((key, pk), []).append((taken, released, n))
    bad = 0
    for holds in by_item.values():
        holds.sort()
        for (_t0, r0, _n0), (t1, _r1, _n1) in zip(holds, holds[1:], strict=False):
            if t1 < r0:
                bad += 1
    return bad


def served_over_http(args: argparse.Namespace, people: list[tuple[int, int, int]]) -> list[Any]:
    """The people a signed-in session may call the endpoint as (vendor staff are refused
    without a second factor, which a test client's session does not have)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from work import services

    served = []
    for user_id, practice_id, due in people:
        user = get_user_model().objects.get(pk=user_id)
        client = Client()
        client.force_login(user)
        session = client.session
        session["practice_id"] = practice_id
        session.save()
        if args.mode == "api":
            response = client.post("/api/v1/claims/work-next/", {"practice": practice_id})
            ok = response.status_code in (200, 204)
        else:
            response = client.post("/queues/work-next/")
            ok = response.status_code == 302
        if ok:
            served.append((user_id, practice_id, due))
        # Whatever it handed out goes back.
        for item_type in registry_types():
            for item in item_type.items().filter(locked_by=user):
                services.release(item, user)
    return served


def registry_types() -> list[Any]:
    from work.registry import registry

    return list(registry.types())


def run(args: argparse.Namespace, workers: int, people: list[tuple[int, int, int]]) -> None:
    from django.db import connections

    connections.close_all()  # each child opens its own
    ctx = mp.get_context("fork")
    start, done = ctx.Barrier(workers + 1), ctx.Barrier(workers)
    out = ctx.Queue()
    procs = []
    for n in range(workers):
        user_id, practice_id, _due = people[n % len(people)]
        proc = ctx.Process(target=worker, args=(n, user_id, practice_id, args, start, done, out))
        proc.start()
        procs.append(proc)
    start.wait()
    load_before = os.getloadavg()[0]
    results = [out.get(timeout=args.seconds + 600) for _ in procs]
    load_after = os.getloadavg()[0]
    for proc in procs:
        proc.join()
    latencies = [ms for r in results for ms in r[1]]
    events = [e for r in results for e in r[2]]
    empty = sum(r[3] for r in results)
    elapsed = max(r[4] for r in results)
    cpu = sum(r[5] for r in results)
    pg = [r[6] for r in results]
    pg_cpu = sum(pg) if all(p is not None for p in pg) else None
    handed = len(events)
    if args.drain:
        refs = [(key, pk) for key, pk, *_ in events]
        duplicates = len(refs) - len(set(refs))
    else:
        duplicates = overlaps(events)
    per = f"{1000 * cpu / handed:.2f} ms" if handed else "-"
    pg_per = f"{1000 * pg_cpu / handed:.2f} ms" if handed and pg_cpu is not None else "n/a"
    print(
        f"{workers:3d} workers ({len({p[0] for p in people[:workers]})} people), "
        f"{args.mode}/{args.path}{' drain' if args.drain else ''}"
        f"{', grants per worker' if args.grants == 'worker' else ''}"
        f"{', no PREPARE' if args.no_prepare and args.path == 'fast' else ''}: "
        f"{handed:,} hand-offs in {elapsed:.1f} s = {handed / elapsed:,.0f}/s; "
        f"p50 {percentile(latencies, 50):.1f} ms, p95 {percentile(latencies, 95):.1f} ms, "
        f"max {max(latencies):.1f} ms; {empty} empty calls; duplicates {duplicates}; "
        f"CPU per hand-off: workers {per}, PostgreSQL {pg_per}; "
        f"load {load_before:.1f} -> {load_after:.1f}"
    )


def queries_per_call(args: argparse.Namespace, people: list[tuple[int, int, int]]) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from billing_ops.access import grants_cache
    from work import services

    user = get_user_model().objects.get(pk=people[0][0])
    take = services.work_next if args.path == "fast" else services.work_next_plain
    for _ in range(2):
        with grants_cache():
            item = take(actor=user, practice_id=people[0][1])
        if item is not None:
            services.release(item, user)
    with grants_cache(), CaptureQueriesContext(connection) as ctx:
        item = take(actor=user, practice_id=people[0][1])
    if item is not None:
        services.release(item, user)
    print(f"{args.path}: {len(ctx)} queries per call (the caller's grants included):")
    for query in ctx.captured_queries:
        print(f"    {float(query['time']) * 1000:5.1f} ms  {' '.join(query['sql'].split())[:140]}")


def profile(args: argparse.Namespace, people: list[tuple[int, int, int]]) -> None:
    import cProfile
    import io
    import pstats

    from django.contrib.auth import get_user_model

    from billing_ops.access import grants_cache
    from work import services

    user = get_user_model().objects.get(pk=people[0][0])
    take = services.work_next if args.path == "fast" else services.work_next_plain
    profiler = cProfile.Profile()
    cpu0 = time.process_time()
    profiler.enable()
    for _ in range(200):
        with grants_cache():
            item = take(actor=user, practice_id=people[0][1])
        if item is not None:
            services.release(item, user)
    profiler.disable()
    print(f"cProfile, 200 calls + release ({args.path}): {time.process_time() - cpu0:.2f} CPU s")
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(18)
    stats.sort_stats("tottime").print_stats(12)
    print(out.getvalue())


def explain(people: list[tuple[int, int, int]]) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.db.models import Q
    from django.utils import timezone

    from billing_ops.access import grants_cache, holder_condition
    from claims import queues
    from practices import permissions as perms
    from work import handoff, selectors
    from work.registry import registry

    user = get_user_model().objects.get(pk=people[0][0])
    practice_id = people[0][1]
    now, today = timezone.now(), timezone.localdate()
    with grants_cache():
        plan = handoff._get_plan(user, None, today, now, practice_id)  # noqa: SLF001
        statements = []
        best = plan.branches[0]
        if plan.tops is not None:
            statements.append(("best of each type (UNION ALL)", plan.tops, {"now": now}))
            with connection.cursor() as cursor:
                cursor.execute(plan.tops.sql, plan.tops.bind({"now": now}))
                first = cursor.fetchone()
            best = next(b for b in plan.branches if first is not None and b.index == first[0])
        take = handoff._take_statement(best, "")  # noqa: SLF001
        values = {"now": now, "actor": user.pk, "until": now}
        statements.append((f"take ({best.item_type.key}, no floor)", take, values))
        for label, statement, bound in statements:
            with transaction.atomic(), connection.cursor() as cursor:
                sql = f"EXPLAIN (ANALYZE, BUFFERS) {statement.sql}"
                cursor.execute(sql, statement.bind(bound))
                print(f"\nEXPLAIN ANALYZE: {label}")
                print("\n".join(r[0] for r in cursor.fetchall()))
                transaction.set_rollback(True)  # the take's UPDATE is undone
        unassigned = registry.queue("unassigned")
        assert unassigned is not None
        visible = queues.CLAIM.visible(user).filter(practice_id=practice_id)
        old = visible.filter(
            Q(owner__isnull=True) | ~holder_condition(perms.WORK_CLAIMS, "owner", "practice")
        )
        new = selectors.queue_queryset(unassigned, user).filter(practice_id=practice_id)
        for label, rows in (("old: per-row holder condition", old), ("now", new)):
            page = rows.order_by("-priority", "-pk")[:51]
            print(f"\nEXPLAIN ANALYZE: Unassigned first page, {label}")
            print(page.explain(analyze=True, buffers=True))
            print(f"rows: {len(list(page))}, capped count: {selectors.capped_count(rows)}")


def main() -> None:
    args = parse_args()
    url = args.database_url
    if not url or not url.startswith(("postgres://", "postgresql://")):
        sys.exit("work_next_bench measures PostgreSQL: pass --database-url postgresql://...")
    setup_django(url)
    from claims.models import Claim
    from work import handoff

    handoff.PREPARE = not args.no_prepare

    people = pick_people(args.users)
    if not people:
        sys.exit("Nobody owns due claims in this database.")
    print(
        f"{Claim.objects.count():,} claims; {len(people)} people with due claims "
        f"(most: {people[0][2]:,}, least: {people[-1][2]:,}); load {os.getloadavg()}"
    )
    if args.explain:
        explain(people)
    if args.mode == "service":
        queries_per_call(args, people)
    else:
        people = served_over_http(args, people)
        print(f"{len(people)} of them are served over HTTP with a password-only session")
    if args.profile:
        profile(args, people)
    for count in (int(w) for w in args.workers.split(",") if w):
        run(args, count, people)


if __name__ == "__main__":
    main()
