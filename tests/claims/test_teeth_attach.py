"""The queue pages' and My day's teeth read by one statement compiled once per process
(``claims.teeth.attach_teeth``, issue 10, speed) are the lines the prefetch reads
(``teeth_prefetch``, the reference path): the same labels for every claim (teeth lists,
lines saved with ``tooth`` alone, lines without a tooth, claims without such lines, text
needing escaping), and the same pages, byte for byte, for every user of the shared world
(both practices, each role, vendor staff of different scopes)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing_ops.compiled import INT_MARK, CompiledValues
from claims import teeth
from claims.choices import ClaimStatus
from claims.models import Claim, ClaimLine
from tests import claim_factory, factories
from work import selectors
from work.registry import registry

pytestmark = pytest.mark.django_db

USERS = ("sam", "fran", "bill", "mia", "vera", "vic", "val")
PAGES = (
    "/queues/all-open/",
    "/queues/payer-ar/",
    "/queues/rejections/",
    "/queues/my-day/",
    "/queues/my-day/?practices=all",
)


def _claims(world: Any, make_claim: Any) -> list[Claim]:
    """Claims with lines of every shape, at both practices, owned by several people."""
    today = timezone.localdate()
    bridge = [
        {"procedure_code": "D6240", "charge": Decimal("900.00"), "teeth": [{"tooth": "31"}]},
        {"procedure_code": "D1110", "charge": Decimal("95.00")},
        {"procedure_code": "D2391", "charge": Decimal("150.00"), "tooth": "3", "surfaces": "MOD"},
    ]
    claims = [
        make_claim(lines=bridge),
        make_claim(lines=bridge, status=ClaimStatus.SUBMITTED),
        make_claim(status=ClaimStatus.REJECTED, owner=world.vera),
        make_claim(owner=world.sam, next_action_due=today - dt.timedelta(days=2)),
        make_claim(),
    ]
    lines = ClaimLine.objects.filter(claim__in=claims).order_by("claim_id", "line_number")
    first = lines.filter(claim=claims[0]).first()
    assert first is not None
    # Several teeth with surfaces, and text that needs escaping.
    ClaimLine.objects.filter(pk=first.pk).update(
        teeth=[{"tooth": "31", "surfaces": "MO"}, {"tooth": "<30>", "surfaces": "&"}]
    )
    # A line saved before ``teeth`` existed: ``tooth`` alone.
    legacy = lines.filter(claim=claims[2]).first()
    assert legacy is not None
    ClaimLine.objects.filter(pk=legacy.pk).update(teeth=[], tooth="14", surfaces="O")
    maple_payer = factories.PayerFactory(practice=world.maple)
    coverage = factories.CoverageFactory(patient=world.maple_patient, payer=maple_payer)
    claims.append(
        claim_factory.make(
            actor=world.mia,
            patient=world.maple_patient,
            coverage=coverage,
            provider=factories.ProviderFactory(practice=world.maple),
            number="M-00001",
            owner=world.mia,
            lines=[{"procedure_code": "99213", "charge": Decimal("80.00"), "tooth": "2"}],
        )
    )
    return claims


def _labels(claims: list[Claim], *, plain: bool) -> dict[int, Any]:
    fresh = list(Claim.objects.filter(pk__in=[c.pk for c in claims]))
    teeth.attach_teeth(fresh, plain=plain)
    return {
        claim.pk: (
            teeth.row_teeth(claim),
            [(line.procedure_code, line.all_teeth) for line in getattr(claim, teeth.TEETH_ATTR)],
        )
        for claim in fresh
    }


def test_the_compiled_read_gives_the_prefetchs_lines(world, make_claim):
    claims = _claims(world, make_claim)
    fast = _labels(claims, plain=False)
    assert fast == _labels(claims, plain=True)
    assert fast[claims[0].pk][0] == ["D6240 #31 MO, <30> &", "D2391 #3 MOD"]
    assert fast[claims[2].pk][0] == ["D1110 #14 O"]
    assert fast[claims[4].pk] == ([], [])
    # Compiled once, then run with each page's ids (PostgreSQL: one array parameter).
    assert all(statement.ok for statement in teeth._teeth_read._statements.values())
    with CaptureQueriesContext(connection) as ctx:
        _labels(claims, plain=False)
    assert len(ctx.captured_queries) == 2  # the claims, then their teeth


def test_a_statement_without_its_mark_as_a_parameter_runs_through_the_orm(world, make_claim):
    """Off PostgreSQL ``any_of`` is an ``IN`` of one placeholder a value: the mark is not a
    parameter as given, so every call runs the ORM's queryset (SQLite for ``make run``)."""
    claims = _claims(world, make_claim)
    ids = [c.pk for c in claims]

    def build(claim_ids: list[int]) -> Any:
        return (
            ClaimLine.objects.filter(claim_id__in=claim_ids)
            .order_by("claim_id", "line_number")
            .values_list("claim_id", "procedure_code", "teeth")
        )

    read = CompiledValues(lambda: ClaimLine, build, ([INT_MARK],))
    rows = read(ids)
    assert rows == read(ids, plain=True) == [tuple(r) for r in build(ids)]
    assert len(rows) == ClaimLine.objects.filter(claim_id__in=ids).count()
    assert not any(statement.ok for statement in read._statements.values())


def _pages(client_for: Any, world: Any) -> dict[tuple[str, str], tuple[int, str]]:
    seen = {}
    for name in USERS:
        client = client_for(getattr(world, name))
        for url in PAGES:
            response = client.get(url)
            body = re.sub(r'value="[^"]{32,}"', "", response.content.decode())
            seen[(name, url)] = (response.status_code, body)
    return seen


def test_every_users_pages_are_the_same_both_ways(world, make_claim, client_for, monkeypatch):
    _claims(world, make_claim)
    fast = _pages(client_for, world)
    claim_type = registry.type("claim")
    plain_type = dataclasses.replace(claim_type, load_rows=partial(teeth.attach_teeth, plain=True))
    monkeypatch.setitem(registry._types, "claim", plain_type)
    plain = _pages(client_for, world)
    assert fast == plain
    shown = {key for key, (status, body) in fast.items() if "row-teeth" in body}
    assert ("bill", "/queues/all-open/") in shown
    assert ("bill", "/queues/my-day/") in shown
    assert "D6240 #31 MO, &lt;30&gt; &amp;" in fast[("bill", "/queues/all-open/")][1]
    assert ("mia", "/queues/all-open/") in shown  # the other practice's claim
    assert "M-00001" not in fast[("bill", "/queues/all-open/")][1]
    assert fast[("fran", "/queues/all-open/")][0] == 404


def test_the_pages_read_the_teeth_of_the_rows_they_show(world, make_claim):
    claims = _claims(world, make_claim)
    queue = registry.queue("all-open")
    page = selectors.keyset_page(
        queue, selectors.queue_queryset(queue, world.bill), "priority", None, 2
    )
    assert len(page.rows) == 2 and page.next_cursor
    for row in page.rows:
        assert hasattr(row.item, teeth.TEETH_ATTR)
    day = selectors.my_day_page(world.bill, None, None, 50, types=["claim"])
    assert {row.item.pk for row in day.rows} >= {claims[0].pk}
    for row in day.rows:
        assert getattr(row.item, teeth.TEETH_ATTR) is not None
