""" "Work next" through ``work.handoff`` (issue 10): the same items in the same order as the
plain ORM path, every row left as the plain path leaves it, a constant number of queries
whatever the number of registered types, and no item ever handed to two callers at once.

Chores (tests/workitems) are a second registered type beside claims, so the candidate
query really spans types.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing_ops.access import grants_cache, grants_for
from claims.models import Claim, ClaimActivity
from practices import services as practice_services
from practices.models import Membership
from tests.workitems.models import Chore
from work import handoff
from work import services as work_services
from work.registry import registry

DAY = dt.timedelta(days=1)
pytestmark = pytest.mark.urls("tests.workitems.urls")


def local_today() -> dt.date:
    return timezone.localdate()


def make_chore(world: Any, owner: Any, due: dt.date, practice: Any = None, **fields: Any) -> Chore:
    values = {"title": "chore", "next_action": "do_it", "next_action_due": due, **fields}
    chore = Chore(practice=practice or world.sunrise, owner=owner, version=0, **values)
    return work_services.save_checked(chore, actor=None)


def snapshot() -> dict[str, Any]:
    """Every row the hand-off may touch, and the history and timeline it must not write."""
    rows = {}
    for item_type in registry.types():
        for values in item_type.items().values(
            "pk", "locked_by_id", "locked_until", "version", "priority", "owner_id", "next_action"
        ):
            held = values.pop("locked_until") is not None
            rows[(item_type.key, values["pk"])] = {**values, "held": held}
    return {
        "rows": rows,
        "claim_history": Claim.history.count(),
        "activities": ClaimActivity.objects.count(),
    }


def drain(fn: Callable[..., Any], actor: Any, **options: Any) -> tuple[list[Any], dict[str, Any]]:
    """Everything ``fn`` hands ``actor`` until nothing is left, and the rows after; undone."""
    savepoint = transaction.savepoint_create()
    try:
        handed = []
        while (item := fn(actor=actor, **options)) is not None:
            handed.append((registry.type_of(item).key, item.pk, item.priority))
            assert len(handed) < 200
        return handed, snapshot()
    finally:
        transaction.savepoint_rollback(savepoint)


@pytest.fixture
def busy(world, make_claim):
    """Claims and chores for several people at both practices, due, overdue and not yet,
    some held by somebody else (one hold timed out), one closed chore."""
    today = local_today()
    for days, charge in [(0, "90.00"), (3, "1240.00"), (9, "480.00"), (9, "480.00"), (30, "75")]:
        make_claim(owner=world.bill, due=today - days * DAY, charge=charge)
        make_claim(owner=world.sam, due=today - days * DAY, charge=charge)
    make_claim(owner=world.bill, due=today + 2 * DAY)
    make_claim(owner=world.vera, due=today - DAY)
    make_claim(owner=world.val, due=today - DAY)
    make_claim(practice=world.maple, owner=world.val, due=today - 2 * DAY)
    make_claim(practice=world.maple, owner=world.mia, due=today)
    for days in (0, 1, 4, 4, 12, 40):
        make_chore(world, world.sam, today - days * DAY)
    make_chore(world, world.sam, today + DAY)
    make_chore(world, world.sam, today - 50 * DAY, done=True, next_action="", next_action_due=None)
    make_chore(world, world.mia, today - DAY, practice=world.maple)
    # Held by somebody else: one until later, one whose hold has timed out.
    later = timezone.now() + dt.timedelta(minutes=20)
    bills = Claim.objects.filter(owner=world.bill, next_action_due__lte=today).order_by(
        "-priority", "-pk"
    )
    Claim.objects.filter(pk=bills[0].pk).update(locked_by=world.sam, locked_until=later)
    Claim.objects.filter(pk=bills[1].pk).update(
        locked_by=world.sam, locked_until=timezone.now() - dt.timedelta(minutes=1)
    )
    sams = Chore.objects.filter(owner=world.sam, done=False).order_by("-priority", "-pk")
    Chore.objects.filter(pk=sams[0].pk).update(locked_by=world.bill, locked_until=later)
    return world


CASES = [
    ("bill", {}),
    ("bill", {"types": ["claim"]}),
    ("sam", {}),
    ("sam", {"practice_id": "sunrise"}),
    ("sam", {"types": ["chore"]}),
    ("sam", {"types": ["claim", "chore"], "practice_id": "maple"}),
    ("val", {}),
    ("val", {"practice_id": "maple"}),
    ("vera", {}),
    ("fran", {}),
    ("mia", {}),
]


def test_fast_path_hands_out_what_the_plain_path_does(busy):
    before = snapshot()
    for who, options in CASES:
        _compare(busy, before, who, options)


def _compare(busy: Any, before: dict[str, Any], who: str, options: dict[str, Any]) -> None:
    if "practice_id" in options:
        options = {**options, "practice_id": getattr(busy, options["practice_id"]).pk}
    actor = busy.users[who]
    plain, plain_rows = drain(work_services.work_next_plain, actor, **options)
    fast, fast_rows = drain(work_services.work_next, actor, **options)
    assert fast == plain, (who, options)
    assert fast_rows == plain_rows, (who, options)
    # The rows handed out are held by the actor now and nothing else changed: no version,
    # history row or timeline entry for a hold.
    for key, pk, _priority in fast:
        assert fast_rows["rows"][(key, pk)]["locked_by_id"] == actor.pk
        assert fast_rows["rows"][(key, pk)]["version"] == before["rows"][(key, pk)]["version"]
    assert fast_rows["claim_history"] == before["claim_history"]
    assert fast_rows["activities"] == before["activities"]
    untouched = set(before["rows"]) - {(key, pk) for key, pk, _ in fast}
    assert all(fast_rows["rows"][ref] == before["rows"][ref] for ref in untouched)


def test_the_cases_hand_out_something(busy):
    """The comparison above is not between two empty lists."""
    handed = {who: drain(work_services.work_next, busy.users[who])[0] for who in ("bill", "sam")}
    assert {key for key, _pk, _p in handed["sam"]} == {"claim", "chore"}
    assert len(handed["bill"]) == 4  # 6 claims: one not due yet, one held by sam
    priorities = [p for _key, _pk, p in handed["sam"]]
    assert priorities == sorted(priorities, reverse=True)


def test_the_item_handed_out_is_the_row_as_stored(busy):
    item = work_services.work_next(actor=busy.sam)
    fresh = type(item).objects.get(pk=item.pk)
    for field in type(item)._meta.concrete_fields:
        assert getattr(item, field.attname) == getattr(fresh, field.attname), field.name
    assert fresh.locked_by_id == busy.sam.pk and fresh.locked_until > timezone.now()
    assert item._state.adding is False and item._state.db == "default"


def test_two_queries_a_hand_off_whatever_the_number_of_types(busy):
    assert len(list(registry.types())) > 10
    # The first calls compile the statements and prepare them on the connection.
    work_services.work_next(actor=busy.sam)
    work_services.work_next(actor=busy.sam, types=["claim"])
    with grants_cache():
        grants_for(busy.sam)  # as a request has read them already
        with CaptureQueriesContext(connection) as ctx:
            assert work_services.work_next(actor=busy.sam) is not None
        assert len(ctx) == 2  # the best of each type, then the UPDATE taking one
        with CaptureQueriesContext(connection) as ctx:
            assert work_services.work_next(actor=busy.sam, types=["claim"]) is not None
        assert len(ctx) == 1  # one type: the UPDATE alone
        if connection.vendor == "postgresql":  # a prepared statement
            assert ctx[0]["sql"].startswith("EXECUTE work_next_")


def test_a_connection_keeps_at_most_max_prepared_statements(busy, monkeypatch):
    """Past ``MAX_PREPARED`` the oldest of ours is deallocated; hand-offs go on as before."""
    monkeypatch.setattr(handoff, "MAX_PREPARED", 2)
    handoff.clear_cache()
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    handoff._prepared.pop(connection.connection, None)
    handed = [
        work_services.work_next(actor=busy.sam, **options)
        for options in ({}, {"types": ["claim"]}, {"types": ["chore"]}, {})
    ]
    assert all(item is not None for item in handed)
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'work_next_%%'")
        names = {row[0] for row in cursor.fetchall()}
    assert len(names) == 2 and names == set(handoff._prepared[connection.connection])


def test_a_changed_grant_is_seen_at_once(busy):
    """The compiled statements are keyed by the caller's practices: an ended access hands
    out nothing from the next call on, with no stale statement."""
    assert work_services.work_next(actor=busy.bill) is not None
    membership = Membership.objects.get(user=busy.bill, practice=busy.sunrise)
    practice_services.membership_revoke(actor=busy.sam, membership=membership)
    assert work_services.work_next(actor=busy.bill) is None
    assert work_services.work_next_plain(actor=busy.bill) is None


# --- concurrency --------------------------------------------------------------------------


@pytest.fixture
def many(world, make_claim):
    today = local_today()
    for i in range(8):
        make_claim(owner=world.sam, due=today - i * DAY, charge=f"{100 + 37 * i}.00")
    for i in range(240):
        make_chore(world, world.sam, today - (i % 60) * DAY)
    handoff.clear_cache()
    return world


def _run_threads(count: int, target: Callable[[int], None]) -> None:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            target(n)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_drain_the_day_each_item_once_in_rank_order(many):
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED concurrency needs PostgreSQL")
    due = {
        (key, pk)
        for key, model in (("claim", Claim), ("chore", Chore))
        for pk in model.objects.filter(owner=many.sam, next_action_due__lte=local_today())
        .exclude(next_action="")
        .values_list("pk", flat=True)
    }
    assert len(due) == 248
    taken: dict[int, list[tuple[str, int, int]]] = defaultdict(list)

    def worker(n: int) -> None:
        while (item := work_services.work_next(actor=many.sam)) is not None:
            taken[n].append((registry.type_of(item).key, item.pk, item.priority))

    _run_threads(8, worker)
    handed = [(key, pk) for items in taken.values() for key, pk, _p in items]
    assert len(handed) == len(set(handed))  # nobody got an item twice
    assert set(handed) == due  # and every due item was handed out
    assert sum(1 for items in taken.values() if items) > 1  # the workers did share the work
    for items in taken.values():  # each worker went down the ranking
        priorities = [p for _key, _pk, p in items]
        assert priorities == sorted(priorities, reverse=True)
    held = Claim.objects.filter(locked_by=many.sam).count()
    assert held + Chore.objects.filter(locked_by=many.sam).count() == 248


@pytest.mark.django_db(transaction=True)
def test_concurrent_take_and_release_never_overlaps(many):
    """Workers take and give back (as people finish items): no item is handed to a worker
    while another holds it. Each worker logs its take after the call and its release
    before it, under one lock, so an overlap in the log is an overlap in the database."""
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED concurrency needs PostgreSQL")
    log: list[tuple[str, tuple[str, int], int]] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        for _ in range(40):
            item = work_services.work_next(actor=many.sam)
            assert item is not None
            ref = (registry.type_of(item).key, item.pk)
            with lock:
                log.append(("take", ref, n))
            with lock:
                log.append(("release", ref, n))
            work_services.release(item, many.sam)

    _run_threads(6, worker)
    holder: dict[tuple[str, int], int] = {}
    for event, ref, n in log:
        if event == "take":
            assert ref not in holder, f"{ref} handed to {n} while {holder.get(ref)} held it"
            holder[ref] = n
        else:
            assert holder.pop(ref) == n
    assert len(log) == 6 * 40 * 2 and not holder
    assert not Claim.objects.filter(locked_by__isnull=False).exists()
