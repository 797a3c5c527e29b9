"""My day ranked in one query from SQL compiled once per user, practice, grants and day
(``work.day_rank``, issue 10): the same rows, order, cursors and counts as the plain path
(one ORM query per item type), fewer queries, and a grant revoked is seen by the next read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing_ops.access import grants_cache
from claims.models import Claim
from practices import services as practice_services
from practices.models import Assignment
from tests.workitems.models import Chore
from work import day_rank, selectors
from work import services as work_services

DAY = dt.timedelta(days=1)
pytestmark = pytest.mark.urls("tests.workitems.urls")


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    day_rank.clear_cache()
    yield
    day_rank.clear_cache()


def _chore(world: Any, title: str, owner: Any, due: dt.date, priority: int = 0) -> Chore:
    chore = work_services.save_checked(
        Chore(
            practice=world.sunrise,
            title=title,
            owner=owner,
            next_action="do_it",
            next_action_due=due,
            version=0,
        ),
        actor=None,
    )
    if priority:
        Chore.objects.filter(pk=chore.pk).update(priority=priority)
    return chore


def _rows(page: selectors.Page) -> list[tuple[str, int, int]]:
    return [(row.item_type.key, row.item.pk, row.item.priority) for row in page.rows]


def _rows_in_full(page: selectors.Page) -> list[tuple[Any, ...]]:
    """``_rows`` with every field each item was read with (the fast path builds the
    instances from its compiled statement) and its owner."""
    return [
        (
            *key,
            {k: v for k, v in vars(row.item).items() if not k.startswith("_")},
            row.item.owner.username if row.item.owner_id else None,
        )
        for key, row in zip(_rows(page), page.rows, strict=True)
    ]


def _walk(fn: Any, user: Any, practice_id: int | None, size: int, rows: Any = _rows) -> list[Any]:
    """Every page of My day through ``fn``: each page's rows and its cursor."""
    pages: list[Any] = []
    cursor = None
    for _ in range(50):
        page = fn(user, practice_id, cursor, size, timezone.localdate())
        pages.append((rows(page), page.next_cursor))
        cursor = page.next_cursor
        if cursor is None:
            break
    return pages


@pytest.fixture
def day(world: Any, make_claim: Any) -> dict[str, Any]:
    today = timezone.localdate()
    made: dict[str, Any] = {"claims": [], "chores": []}
    # Claims of two owners at two practices, overdue, due today and later (not in the day);
    # equal priorities across types and within a type, so the ties decide the order.
    for n in range(7):
        made["claims"].append(make_claim(owner=world.sam, due=today - n % 3 * DAY))
    made["claims"].append(make_claim(owner=world.sam, due=today + 4 * DAY))
    made["claims"].append(make_claim(owner=world.val, due=today - DAY))
    made["claims"].append(
        make_claim(practice=world.maple, owner=world.val, due=today, actor=world.mia)
    )
    tie = Claim.objects.get(pk=made["claims"][0].pk).priority
    Claim.objects.filter(pk=made["claims"][1].pk).update(priority=tie)
    made["chores"] = [
        _chore(world, "tie", world.sam, today - 2 * DAY, priority=tie),
        _chore(world, "top", world.sam, today - DAY, priority=tie + 500),
        _chore(world, "low", world.sam, today),
        _chore(world, "later", world.sam, today + 3 * DAY),
        _chore(world, "vals", world.val, today),
    ]
    return made


@pytest.mark.parametrize("size", [1, 2, 3, 50])
def test_the_ranked_day_is_the_plain_day_page_for_page(world, day, size):
    for user in (world.sam, world.val, world.bill, world.fran):
        for practice_id in (world.sunrise.pk, world.maple.pk, None):
            with grants_cache():
                fast = _walk(selectors.my_day_page, user, practice_id, size, _rows_in_full)
                plain = _walk(selectors.my_day_page_plain, user, practice_id, size, _rows_in_full)
                assert fast == plain, (user, practice_id, size)
                assert selectors.my_day_counts(user, practice_id) == (
                    selectors.my_day_counts_plain(user, practice_id)
                )
    # The fixture's day is there: both types, the later items left out.
    with grants_cache():
        rows = _walk(selectors.my_day_page, world.sam, world.sunrise.pk, 50)[0][0]
    keys = {(key, pk) for key, pk, _p in rows}
    assert ("chore", day["chores"][1].pk) in keys and ("claim", day["claims"][0].pk) in keys
    assert ("chore", day["chores"][3].pk) not in keys
    assert ("claim", day["claims"][7].pk) not in keys
    assert rows[0][:2] == ("chore", day["chores"][1].pk)  # the highest priority first


def test_a_bad_or_foreign_cursor_starts_at_the_top_as_the_plain_path(world, day):
    for cursor in ("", "not-a-cursor", "WyIxIl0", selectors._encode(["9", "zzz", "1"])):
        with grants_cache():
            fast = selectors.my_day_page(world.sam, world.sunrise.pk, cursor, 3)
            plain = selectors.my_day_page_plain(world.sam, world.sunrise.pk, cursor, 3)
        assert _rows_in_full(fast) == _rows_in_full(plain)
        assert fast.next_cursor == plain.next_cursor


def test_one_ranking_query_whatever_the_registered_types(world, day):
    with grants_cache(), CaptureQueriesContext(connection) as plain:
        selectors.my_day_page_plain(world.sam, world.sunrise.pk, None, 50)
    with grants_cache():
        selectors.my_day_page(world.sam, world.sunrise.pk, None, 50)  # compiles
        with CaptureQueriesContext(connection) as fast:
            page = selectors.my_day_page(world.sam, world.sunrise.pk, None, 50)
    ranking = [q["sql"] for q in fast.captured_queries if "UNION ALL" in q["sql"]]
    assert len(ranking) == 1
    # The ranking, then the page's two types (and the claims' teeth) by id.
    assert len(fast.captured_queries) < len(plain.captured_queries)
    assert {row.item_type.key for row in page.rows} == {"chore", "claim"}


def test_a_revoked_grant_is_seen_by_the_next_read(world, make_claim):
    today = timezone.localdate()
    maple = make_claim(practice=world.maple, owner=world.val, due=today, actor=world.mia)
    sunrise = make_claim(owner=world.val, due=today)
    with grants_cache():
        before = {pk for _k, pk, _p in _rows(selectors.my_day_page(world.val, None, None, 50))}
        counts = selectors.my_day_counts(world.val, None)
    assert {maple.pk, sunrise.pk} <= before and counts["total"] == 2
    assignment = Assignment.objects.get(staff__user=world.val, engagement__practice=world.maple)
    practice_services.assignment_revoke(actor=world.mia, assignment=assignment)
    with grants_cache():  # the next request: grants read afresh, the cached SQL not reused
        after = {pk for _k, pk, _p in _rows(selectors.my_day_page(world.val, None, None, 50))}
        counts = selectors.my_day_counts(world.val, None)
        plain = selectors.my_day_page_plain(world.val, None, None, 50)
    assert maple.pk not in after and sunrise.pk in after
    assert after == {pk for _k, pk, _p in _rows(plain)}
    assert counts["total"] == 1


def test_an_item_closed_between_ranking_and_reading_is_not_shown(world, day):
    """The page's items are read through the type's open, due, owned condition again."""
    chore = day["chores"][1]
    with grants_cache():
        ranked = day_rank.ranked(
            world.sam,
            world.sunrise.pk,
            timezone.localdate(),
            [t for t in selectors.registry.types()],
            None,
            51,
        )
    assert ("chore", chore.pk) in {(k, pk) for _p, k, pk in ranked}
    Chore.objects.filter(pk=chore.pk).update(done=True)
    with grants_cache():
        page = selectors.my_day_page(world.sam, world.sunrise.pk, None, 50)
    assert ("chore", chore.pk) not in {(r.item_type.key, r.item.pk) for r in page.rows}


def test_the_page_items_are_read_by_a_statement_compiled_once(world, day):
    """``day_rank.items``: the plain path's queryset with ``pk__in``, compiled once per key
    and run afresh: an item closed, or another user's, since it was compiled is left out."""
    today = timezone.localdate()
    claim_type = selectors.registry.type("claim")
    ids = [c.pk for c in day["claims"]]
    with grants_cache():
        fast = day_rank.items(world.sam, world.sunrise.pk, today, claim_type, ids)
        plain = selectors.my_day_of_type(claim_type, world.sam, today).filter(
            pk__in=ids, practice_id=world.sunrise.pk
        )
        assert {c.pk for c in fast} == {c.pk for c in plain} != set()
        reads = list(day_rank._items.values())
        assert reads and all(s.ok for read in reads for s in read._statements.values())
        shown = next(iter(fast))
        Claim.objects.filter(pk=shown.pk).update(owner=world.bill)
        again = day_rank.items(world.sam, world.sunrise.pk, today, claim_type, ids)
    assert shown.pk not in {c.pk for c in again}
    assert len(day_rank._items) == 1  # the same key: the same statement, run afresh
