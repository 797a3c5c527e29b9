""" "Work next" keeps each caller's grants beyond a request (issue 10, speed): no query
reads them per hand-off, yet every change of access is seen by the next hand-off, because
each statement checks in SQL that the caller's grants are still the ones it was built
with (``billing_ops.access.grants_unchanged_sql``). After every change below the fast path
hands out exactly what the plain ORM path (grants read afresh) does. Prepared statements
bind only the values of the call.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing_ops.access import grants_cache, grants_fingerprint, grants_for
from practices import services as practice_services
from practices.models import Assignment, Membership, Practice, Role
from tests import factories
from tests.work.test_work_next_fast import (  # noqa: F401  (busy: a fixture)
    busy,
    drain,
    make_chore,
)
from work import handoff
from work import services as work_services
from work.registry import registry

pytestmark = pytest.mark.urls("tests.workitems.urls")


@pytest.fixture(autouse=True)
def postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("grants are kept beyond a request on PostgreSQL only")


def same_as_plain(actor: Any, **options: Any) -> list[Any]:
    """What the fast path hands ``actor`` (undone), checked against the plain path."""
    plain, plain_rows = drain(work_services.work_next_plain, actor, **options)
    fast, fast_rows = drain(work_services.work_next, actor, **options)
    assert fast == plain
    assert fast_rows == plain_rows
    return fast


def practices_of(handed: list[Any]) -> set[int]:
    return {registry.type(key).items().get(pk=pk).practice_id for key, pk, _p in handed}


def test_kept_grants_are_not_read_again(busy):  # noqa: F811
    work_services.work_next(actor=busy.sam)  # compiles, prepares, keeps the grants
    with grants_cache(), CaptureQueriesContext(connection) as ctx:  # a new request's
        assert work_services.work_next(actor=busy.sam) is not None
    assert len(ctx) == 2
    assert not any("practiceuserpermission" in q["sql"] for q in ctx.captured_queries[:1])
    # The guard is inside the prepared statements, not a query of its own.
    kept = handoff._grants[busy.sam.pk]
    assert grants_fingerprint(kept) == grants_fingerprint(grants_for(busy.sam))


def test_a_new_practice_is_seen_at_once(busy, make_claim):  # noqa: F811
    today = timezone.localdate()
    before = same_as_plain(busy.sam)
    assert practices_of(before) == {busy.sunrise.pk}
    practice_services.membership_set(
        actor=None, user=busy.sam, practice=busy.maple, role=Role.BILLER
    )
    make_claim(practice=busy.maple, owner=busy.sam, due=today - dt.timedelta(days=3))
    after = same_as_plain(busy.sam)
    assert practices_of(after) == {busy.sunrise.pk, busy.maple.pk}
    assert len(after) == len(before) + 1


def test_an_ended_assignment_at_one_practice_is_seen_at_once(busy):  # noqa: F811
    before = same_as_plain(busy.val)
    assert practices_of(before) == {busy.sunrise.pk, busy.maple.pk}
    assignment = Assignment.objects.get(staff__user=busy.val, engagement__practice=busy.maple)
    practice_services.assignment_revoke(actor=None, assignment=assignment)
    after = same_as_plain(busy.val)
    assert practices_of(after) == {busy.sunrise.pk}
    assert work_services.work_next(actor=busy.val).practice_id == busy.sunrise.pk


def test_a_revoked_membership_inside_one_grants_cache_is_seen(busy):  # noqa: F811
    """As a worker that opens one grants cache for its life: the kept grants and the
    cache's are both stale after the revocation; the statement's check still sees it."""
    with grants_cache():
        assert work_services.work_next(actor=busy.bill) is not None
        membership = Membership.objects.get(user=busy.bill, practice=busy.sunrise)
        practice_services.membership_revoke(actor=busy.sam, membership=membership)
        assert work_services.work_next(actor=busy.bill, types=["claim"]) is None
        assert work_services.work_next(actor=busy.bill) is None


def test_a_deactivated_caller_gets_nothing(busy):  # noqa: F811
    """The worker's user object still says active; the database does not."""
    assert work_services.work_next(actor=busy.bill) is not None
    stale = type(busy.bill).objects.get(pk=busy.bill.pk)
    practice_services.user_set_active(actor=None, user=busy.bill, is_active=False)
    assert stale.is_active
    assert work_services.work_next(actor=stale) is None
    assert work_services.work_next(actor=stale, types=["claim"]) is None


def test_a_superuser_sees_a_deactivated_practice_at_once(busy, make_claim):  # noqa: F811
    boss = factories.UserFactory(username="boss", is_superuser=True)
    today = timezone.localdate()
    make_claim(owner=boss, due=today - dt.timedelta(days=1))
    make_claim(practice=busy.maple, owner=boss, due=today - dt.timedelta(days=2))
    assert practices_of(same_as_plain(boss)) == {busy.sunrise.pk, busy.maple.pk}
    Practice.objects.filter(pk=busy.maple.pk).update(is_active=False)
    assert practices_of(same_as_plain(boss)) == {busy.sunrise.pk}


def test_prepared_statements_bind_only_the_calls_values(busy):  # noqa: F811
    handoff.clear_cache()
    item = work_services.work_next(actor=busy.sam)
    assert item is not None
    plan = next(iter(handoff._cache.values()))
    assert plan.tops is not None and plan.tops.prepared_as is not None
    assert plan.tops.prepared_as.slot_names == ["now"]
    for branch in plan.branches:
        for take in branch.takes.values():
            assert take.prepared_as is not None
            assert set(take.prepared_as.slot_names) <= {
                "actor",
                "until",
                "now",
                "floor_priority",
                "floor_pk",
            }
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE name = %s",
            [plan.tops.prepared_as.name],
        )
        assert cursor.fetchone()[0] == 1


@pytest.mark.parametrize("new_key", ["new day", "other practice"])
def test_grants_given_then_taken_back_hand_out_what_they_allow(busy, new_key):  # noqa: F811
    """A -> B -> A in one process (code review of issue 10): bill (biller: claims, no
    chores) kept A from an earlier hand-off; he is made manager (B: chores too), and his
    next hand-off misses the cache (a new day, or another practice) while the kept grants
    still say A; then the manager role is taken back (A again). After that no chore may be
    handed to him: a plan is cached under the key and guard of the grants its SQL was
    built with, never under the kept grants' while its SQL says the request's."""
    handoff.clear_cache()
    handoff._grants.pop(busy.bill.pk, None)
    today = timezone.localdate()
    make_chore(busy, busy.bill, today - dt.timedelta(days=60))
    make_chore(busy, busy.bill, today)
    if new_key == "new day":
        # Yesterday: bill worked with A; the process keeps A.
        def yesterday(**options: Any) -> Any:
            now = timezone.now() - dt.timedelta(days=1)
            return handoff.hand_off(
                today=today - dt.timedelta(days=1),
                now=now,
                until=now + dt.timedelta(minutes=20),
                types=None,
                **options,
            )

        drain(yesterday, busy.bill, practice_id=None)
        options: dict[str, Any] = {}
    else:
        # Bill worked all his practices with A; now he picks Sunrise (a new key).
        same_as_plain(busy.bill)
        options = {"practice_id": busy.sunrise.pk}
    assert grants_fingerprint(handoff._grants[busy.bill.pk]) == grants_fingerprint(
        grants_for(busy.bill)
    )
    # What A allows today (the plain path: nothing of today's key is cached yet).
    a_items = drain(work_services.work_next_plain, busy.bill, **options)[0]
    assert a_items and {key for key, _pk, _p in a_items} == {"claim"}

    practice_services.membership_set(
        actor=None, user=busy.bill, practice=busy.sunrise, role=Role.PRACTICE_MANAGER
    )
    b_items = same_as_plain(busy.bill, **options)  # the first hand-off of today's key
    assert {key for key, _pk, _p in b_items} == {"claim", "chore"}

    practice_services.membership_set(
        actor=None, user=busy.bill, practice=busy.sunrise, role=Role.BILLER
    )
    after = same_as_plain(busy.bill, **options)
    assert after == a_items
    item = work_services.work_next(actor=busy.bill, **options)
    assert item is not None and registry.type_of(item).key == "claim"


def test_a_plan_built_in_a_request_reads_no_grants_again(busy):  # noqa: F811
    """A cache miss takes the request's grants (already read by the middleware): the key,
    the guard and the SQL all come from them, with no query for grants of its own."""
    work_services.work_next(actor=busy.sam)  # keeps the grants, prepares
    handoff.clear_cache()
    with grants_cache():
        request_grants = grants_for(busy.sam)  # as AccessMiddleware has read them
        with CaptureQueriesContext(connection) as ctx:
            assert work_services.work_next(actor=busy.sam) is not None
    reads = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SELECT")]
    assert not any("practiceuserpermission" in sql for sql in reads)  # the guard is PREPAREd
    assert handoff._grants[busy.sam.pk] is request_grants
    (key, plan), *_ = handoff._cache.items()
    assert key[3] == plan.fingerprint == grants_fingerprint(request_grants)


def test_clear_cache_forgets_the_kept_grants_too(busy):  # noqa: F811
    assert work_services.work_next(actor=busy.sam) is not None
    assert busy.sam.pk in handoff._grants and handoff._cache
    handoff.clear_cache()
    assert busy.sam.pk not in handoff._grants and not handoff._cache
