"""Queue pages read by statements kept per page shape (``work.queue_reads``, issue 10): the
same rows, field by field, and the same cursors and totals as the ORM path for every queue
that keeps them, every sort and every cursor branch of the test world; what changes the
SQL (the user's grants, a filter, a queue that reads the database) changes the key or
takes the ORM; a row changed after the statement was kept is read as it is now."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from contextlib import nullcontext
from decimal import Decimal
from typing import Any
from unittest.mock import patch

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from billing_ops.access import grants_cache, grants_for
from claims.choices import ClaimStatus
from claims.models import Claim
from practices import services as practice_services
from practices.models import Assignment
from tests import factories
from work import queue_reads, selectors, views
from work.registry import registry

KEPT = [q for q in registry.queues() if q.compiled_pages]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    queue_reads.clear_cache()
    yield
    queue_reads.clear_cache()


@pytest.fixture
def claims(world: Any, make_claim: Any) -> list[Claim]:
    """Claims with ties on every sort column, amounts, undated claims (an empty sort value
    for "age" and "due") and an owner, in every claim queue."""
    today = timezone.localdate()
    made = []
    for i in range(14):
        status = [ClaimStatus.SUBMITTED, ClaimStatus.REJECTED, ClaimStatus.DENIED, None][i % 4]
        made.append(make_claim(status=status, owner=[world.bill, world.vera][i % 2]))
    for i, claim in enumerate(made):
        Claim.objects.filter(pk=claim.pk).update(
            owner=None if i % 3 == 2 else claim.owner,
            priority=[5, 5, 7, 0][i % 4],
            total_billed=[Decimal("120.00"), Decimal("1234.50"), Decimal("0.00")][i % 3],
            service_date_from=None if i % 5 == 0 else today - dt.timedelta(days=i % 6),
            next_action_due=None if i % 7 == 0 else today - dt.timedelta(days=i % 4),
        )
    return made


def _in_full(page: selectors.Page) -> list[Any]:
    """Every field each row's claim was read with, and its patient's, payer's and owner's."""

    def fields(obj: Any) -> Any:
        if obj is None:
            return None
        return {k: v for k, v in vars(obj).items() if not k.startswith("_")}

    return [
        (
            row.item_type.key,
            fields(row.item),
            fields(row.item.patient),
            fields(row.item.payer),
            fields(row.item.owner),
            row.item.teeth_lines is not None,
        )
        for row in page.rows
    ]


def _walk(queue: Any, user: Any, practice_id: int, sort: str, size: int, fast: bool) -> list[Any]:
    """Every page of the queue in ``sort``: each page's rows in full and its cursor."""
    today = timezone.localdate()
    shape = queue_reads.shape(queue, user, practice_id, today, is_filtered=False)
    if fast:
        assert shape is not None
    pages = []
    cursor = None
    # The reference: Django's own iterator for the page's instances (the ORM path builds
    # them by billing_ops.compiled.read_once).
    reference = nullcontext() if fast else patch.object(selectors, "read_once", list)
    for _ in range(40):
        items = selectors.queue_queryset(queue, user, today).filter(practice_id=practice_id)
        with reference:
            page = selectors.keyset_page(
                queue, items, sort, cursor, size, shape=shape if fast else None
            )
        pages.append((_in_full(page), page.next_cursor))
        cursor = page.next_cursor
        if cursor is None:
            return pages
    raise AssertionError("more pages than rows")


@pytest.mark.parametrize("who", ["bill", "vera", "val"])
@pytest.mark.parametrize("size", [1, 3, 50])
def test_kept_pages_are_the_orm_pages(world: Any, claims: Any, who: str, size: int) -> None:
    user = getattr(world, who)
    walked = 0
    for queue in KEPT:
        for sort in [*queue.sorts, "bogus"]:
            plain = _walk(queue, user, world.sunrise.pk, sort, size, fast=False)
            fast = _walk(queue, user, world.sunrise.pk, sort, size, fast=True)
            assert fast == plain, (queue.slug, sort)
            walked += sum(len(rows) for rows, _cursor in plain)
    assert walked > 20
    # Each shape compiled once, as a statement run with the marks' values (not the ORM's
    # fallback): top, after a value, among the empty values.
    statements = [s for read in queue_reads._pages.values() for s in read._statements.values()]
    assert statements and all(statement.ok for statement in statements)
    branches = {key[-2] for key in queue_reads._pages}
    assert branches == ({"top"} if size == 50 else {"top", "after", "empty"})
    # A kept read keeps no build: the page's closes over its request (reviewer).
    assert all(read.build is None for read in queue_reads._pages.values())


@pytest.mark.parametrize(
    "cursor",
    [
        "not-base64!",
        selectors._encode(["x", "1"]),
        selectors._encode(["9" * 30, "1"]),
        selectors._encode(["", "1"]),
        selectors._encode(["", "99999999999999999999"]),
        selectors._encode(["1e999999", "1"]),
        selectors._encode(["2026-02-30", "1"]),
        selectors._encode(["3", "1", "2"]),
    ],
)
def test_odd_cursors_read_what_the_orm_reads(world: Any, claims: Any, cursor: str) -> None:
    today = timezone.localdate()
    for queue in KEPT:
        shape = queue_reads.shape(queue, world.bill, world.sunrise.pk, today, is_filtered=False)
        for sort in queue.sorts:
            items = selectors.queue_queryset(queue, world.bill, today).filter(
                practice_id=world.sunrise.pk
            )
            plain = selectors.keyset_page(queue, items, sort, cursor, 3)
            fast = selectors.keyset_page(queue, items, sort, cursor, 3, shape=shape)
            assert (_in_full(fast), fast.next_cursor) == (_in_full(plain), plain.next_cursor)


def test_a_kept_statement_reads_rows_as_they_are_now(world: Any, claims: Any) -> None:
    queue = registry.queue("all-open")
    today = timezone.localdate()
    shape = queue_reads.shape(queue, world.bill, world.sunrise.pk, today, is_filtered=False)
    items = selectors.queue_queryset(queue, world.bill, today).filter(practice_id=world.sunrise.pk)
    first = selectors.keyset_page(queue, items, "priority", None, 50, shape=shape)
    top = first.rows[0].item
    Claim.objects.filter(pk=top.pk).update(priority=-5, follow_up_count=9)
    Claim.objects.filter(pk=first.rows[1].item.pk).update(status=ClaimStatus.VOID)
    again = selectors.keyset_page(queue, items, "priority", None, 50, shape=shape)
    assert len(queue_reads._pages) == 1  # the same statement, run again
    moved = next(row.item for row in again.rows if row.item.pk == top.pk)
    assert again.rows[-1].item.pk == top.pk and moved.follow_up_count == 9
    assert first.rows[1].item.pk not in {row.item.pk for row in again.rows}
    plain = selectors.keyset_page(queue, items, "priority", None, 50)
    assert _in_full(again) == _in_full(plain)


def test_the_key_follows_grants_user_practice_and_day(world: Any, claims: Any) -> None:
    queue = registry.queue("payer-ar")
    today = timezone.localdate()
    vera = queue_reads.shape(queue, world.vera, world.sunrise.pk, today, is_filtered=False)
    assert vera is not None
    assert vera != queue_reads.shape(queue, world.bill, world.sunrise.pk, today, is_filtered=False)
    assert vera != queue_reads.shape(queue, world.val, world.sunrise.pk, today, is_filtered=False)
    tomorrow = today + dt.timedelta(days=1)
    assert vera != queue_reads.shape(
        queue, world.vera, world.sunrise.pk, tomorrow, is_filtered=False
    )
    # Vera's assignment revoked: she holds the permission nowhere, so no kept read.
    assignment = Assignment.objects.get(staff__user=world.vera)
    practice_services.assignment_revoke(actor=None, assignment=assignment)
    with grants_cache():
        assert (
            queue_reads.shape(queue, world.vera, world.sunrise.pk, today, is_filtered=False) is None
        )


def test_filtered_pages_and_unkept_queues_take_the_orm(world: Any) -> None:
    queue = registry.queue("payer-ar")
    today = timezone.localdate()
    assert queue_reads.shape(queue, world.bill, world.sunrise.pk, today, is_filtered=True) is None
    unassigned = registry.queue("unassigned")
    assert not unassigned.compiled_pages
    assert (
        queue_reads.shape(unassigned, world.bill, world.sunrise.pk, today, is_filtered=False)
        is None
    )
    items = Claim.objects.none()

    def filters(query: str) -> Any:
        return queue.filterset(QueryDict(query) or None, queryset=items, user=world.bill)

    assert not queue_reads.filtered(None)
    assert not queue_reads.filtered(filters(""))
    assert not queue_reads.filtered(filters("sort=due&after=abc&trail=x&status=&payer="))
    assert not queue_reads.filtered(filters("amount_min=zzz"))  # invalid: not applied
    assert queue_reads.filtered(filters("status=denied"))
    assert queue_reads.filtered(filters("age=0-30"))
    assert queue_reads.filtered(filters("amount_min=0"))
    # A bound filterset without a value filters nothing: its rows are the page's own,
    # so the unfiltered key may stand for it.
    items = selectors.queue_queryset(queue, world.bill, today).filter(practice_id=world.sunrise.pk)
    for query in ("sort=due", "after=abc&trail=x", "status=&payer=&age=", "amount_min=zzz"):
        bound = queue.filterset(QueryDict(query), queryset=items, user=world.bill)
        assert not queue_reads.filtered(bound)
        if bound.is_valid():
            assert str(bound.qs.query) == str(items.query), query


def test_kept_counts_are_the_orm_counts(world: Any, claims: Any) -> None:
    today = timezone.localdate()
    for queue in KEPT:
        for user in (world.bill, world.val):
            shape = queue_reads.shape(queue, user, world.sunrise.pk, today, is_filtered=False)
            items = selectors.queue_queryset(queue, user, today).filter(
                practice_id=world.sunrise.pk
            )
            for cap in (2, 1000):
                assert selectors.capped_count(items, cap, shape=shape) == selectors.capped_count(
                    items, cap
                )
    Claim.objects.filter(practice=world.sunrise).update(status=ClaimStatus.VOID)
    queue = registry.queue("all-open")
    shape = queue_reads.shape(queue, world.bill, world.sunrise.pk, today, is_filtered=False)
    items = selectors.queue_queryset(queue, world.bill, today).filter(practice_id=world.sunrise.pk)
    assert selectors.capped_count(items, shape=shape) == 0


def _shown(html: str) -> list[str]:
    return re.findall(r'name="items" value="([^"]+)"', html)


@pytest.mark.parametrize("slug", [q.slug for q in KEPT])
def test_the_page_shows_the_orm_rows_with_the_same_queries(
    world: Any, claims: Any, client_for: Any, monkeypatch: Any, slug: str
) -> None:
    client = client_for(world.bill)
    url = f"/queues/{slug}/"
    client.get(url)  # warm the session and content types

    def visit(query: dict[str, str]) -> tuple[list[str], int, str]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url, query)
        assert response.status_code == 200
        html = response.content.decode()
        total = re.search(r'id="total-count">([^<]+)<', html).group(1)
        return _shown(html), len(ctx), total

    for sort in ("priority", "age", "amount"):
        query = {"sort": sort}
        for _ in range(10):
            fast = visit(query)
            with monkeypatch.context() as plain_path:
                plain_path.setattr(queue_reads, "shape", lambda *a, **k: None)
                plain = visit(query)
            assert fast == plain, (slug, sort, query)
            found = re.search(
                r'href="\?([^"]+)" rel="next"', client.get(url, query).content.decode()
            )
            if found is None:
                break
            query = dict(QueryDict(found.group(1).replace("&amp;", "&")).items())


def _choices(filters: Any) -> dict[str, list[Any]]:
    return {
        name: list(field.widget.choices)
        for name, field in filters.form.fields.items()
        if name in ("practice", "payer", "owner")
    }


@pytest.mark.parametrize("who", ["bill", "vera", "val", "sam"])
def test_kept_choices_are_the_orm_choices(world: Any, claims: Any, who: str) -> None:
    user = getattr(world, who)
    queue = registry.queue("payer-ar")
    today = timezone.localdate()
    factories.PayerFactory(practice=world.maple, name="Maple Mutual")

    def panel(kept: bool, query: str = "") -> dict[str, list[Any]]:
        filters = queue.filterset(
            QueryDict(query) or None, queryset=Claim.objects.none(), user=user
        )
        if kept:
            views._listed_choices(filters, user, today)
        else:
            views._listed_choices(filters)
        return _choices(filters)

    for query in ("", "sort=due", "payer=1&status=denied"):
        assert panel(True, query) == panel(False, query)
    assert len(panel(True)["practice"]) == 1 + len(grants_for(user).practice_ids("work_claims"))
    statements = [s for read in queue_reads._choices.values() for s in read._statements.values()]
    assert len(queue_reads._choices) == 3 and all(statement.ok for statement in statements)
    # Rows are read afresh: a payer added since is offered by the same statement.
    factories.PayerFactory(practice=world.sunrise, name="Aardvark Dental Plan")
    assert "Aardvark Dental Plan" in [label for _v, label in panel(True)["payer"]]
    assert panel(True) == panel(False) and len(queue_reads._choices) == 3


def test_choices_are_kept_only_for_filtersets_that_say_so(world: Any) -> None:
    queue = registry.queue("payer-ar")
    today = timezone.localdate()
    filters = queue.filterset(None, queryset=Claim.objects.none(), user=world.bill)
    key = queue_reads.choices_key(filters, world.bill, today)
    assert key is not None and key[-1] == (world.sunrise.pk,)
    assert key != queue_reads.choices_key(filters, world.val, today)

    class Unsaid(queue.filterset):  # type: ignore[misc, name-defined]
        choices_permission = None

    unsaid = Unsaid(None, queryset=Claim.objects.none(), user=world.bill)
    assert queue_reads.choices_key(unsaid, world.bill, today) is None
    assert queue_reads.choices_key(None, world.bill, today) is None

    # A subclass says so itself, or its choices are the ORM's (it may narrow them).
    class Inherits(queue.filterset):  # type: ignore[misc, name-defined]
        pass

    inherits = Inherits(None, queryset=Claim.objects.none(), user=world.bill)
    assert queue_reads.choices_key(inherits, world.bill, today) is None
    # Someone who works claims nowhere: no key (an empty statement cannot be compiled).
    nowhere = queue.filterset(None, queryset=Claim.objects.none(), user=world.fran)
    assert queue_reads.choices_key(nowhere, world.fran, today) is None
    views._listed_choices(nowhere, world.fran, today)
    assert list(nowhere.form.fields["payer"].widget.choices) == [("", "---------")]


@pytest.mark.parametrize(
    "query",
    [{"status": "denied"}, {"payer": "PAYER"}, {"owner": "BILL"}],
)
def test_a_filtered_page_keeps_no_statement_and_shows_the_filtered_rows(
    world: Any, claims: Any, client_for: Any, query: dict[str, str]
) -> None:
    """A filter value takes the page through the ORM: no statement kept, and the rows are
    what the filterset answers (first reviewer). An invalid value filters nothing, on
    either path: its page is the unfiltered one, with the form's error."""
    values = {"PAYER": str(claims[0].payer_id), "BILL": str(world.bill.pk)}
    data = {key: values.get(value, value) for key, value in query.items()}
    response = client_for(world.bill).get("/queues/payer-ar/", data)
    assert response.status_code == 200
    assert len(queue_reads._pages) == 0 and len(queue_reads._counts) == 0
    filters = response.context["filters"]
    shown = [item.pk for item, _why in response.context["rows"]]
    expected = filters.qs.order_by("-priority", "-pk").values_list("pk", flat=True)[:50]
    assert shown == list(expected) and shown
    unfiltered = client_for(world.bill).get("/queues/payer-ar/")
    assert len(queue_reads._pages) == 1  # the unfiltered page is kept
    invalid = client_for(world.bill).get("/queues/payer-ar/", {"status": "not-a-status"})
    assert not invalid.context["filters"].is_valid()
    assert invalid.context["rows"] == unfiltered.context["rows"]


@pytest.mark.parametrize(
    "url",
    ["/queues/payer-ar/", "/queues/payer-ar/?status=denied", "/queues/my-day/"],
)
def test_pages_read_no_more_of_the_patient_and_owner_than_they_show(
    world: Any, claims: Any, client_for: Any, url: str
) -> None:
    """Minimum necessary: a page of claims names each patient, payer and owner, so it reads
    their names (kept or ORM page, My day, the bulk bar's owners), never a birth date, an
    address or a password hash (``ItemType.page_related_fields``, ``OWNER_FIELDS``); the
    rows still show the names."""
    client = client_for(world.bill)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    joins = [q["sql"] for q in ctx.captured_queries if 'JOIN "practices_patient"' in q["sql"]]
    assert joins
    for sql in joins:
        assert '"practices_patient"."first_name"' in sql and '"practices_payer"."name"' in sql
    # The signed-in user's own row (the session's user) is the one read with a password.
    session_user = 'WHERE "auth_user"."id" = '
    for query in ctx.captured_queries:
        sql = query["sql"]
        for column in ("date_of_birth", "address_line", "postal_code"):
            assert column not in sql
        if session_user not in sql:
            assert '"auth_user"."password"' not in sql, sql[:200]
    patient = response.context["page"].rows[0].item.patient
    assert escape(f"{patient.last_name}, {patient.first_name}") in response.content.decode()


@pytest.mark.parametrize("slug", [q.slug for q in registry.queues()])
def test_a_queue_page_runs_no_statement_twice(
    world: Any, claims: Any, client_for: Any, slug: str
) -> None:
    """The queue's rows are built once for the page and its count, kept or not (Unassigned
    reads the holders of the user's practices to build them: twice was three more queries)."""
    client = client_for(world.sam)
    client.get(f"/queues/{slug}/")  # warm the session and content types
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"/queues/{slug}/")
    assert response.status_code == 200
    statements = [(q["sql"]) for q in ctx.captured_queries]
    assert len(statements) == len(set(statements)), slug


def test_page_fields_keep_the_joins_of_nested_related_rows(world: Any) -> None:
    """An item type whose rows join through a related row ("sop_version__sop") may name
    page fields too: the join's foreign key stays loaded (reviewer: a FieldError, "cannot
    be both deferred and traversed", on every page of such a type)."""
    from sops.queues import SIGN_OFF

    item_type = dataclasses.replace(
        SIGN_OFF, page_related_fields=("owner__username", "sop_version__id")
    )
    queryset = item_type.visible(world.sam).only(*item_type.page_fields())
    assert "sop_version__sop" in item_type.page_fields()
    assert list(queryset) == list(SIGN_OFF.visible(world.sam))
