"""A user's grants read by the statement compiled once per process (issue 10, speed): the
same grants as the ORM query (``_load(plain=True)``) for every user of the shared world,
with rows ending yesterday, today and tomorrow, an inactive practice and a superuser; a
change made between two requests is seen by the second."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing_ops import access
from practices import permissions as perms
from practices import services
from practices.models import Membership, Practice, PracticeUserPermission
from tests import factories
from tests.conftest import login

pytestmark = pytest.mark.django_db

USERS = ("sam", "fran", "bill", "mia", "vera", "vic", "val")


def _same_both_ways(w: Any) -> dict[str, access.Grants]:
    loaded = {}
    for name in USERS:
        user = get_user_model().objects.get(pk=getattr(w, name).pk)
        fast = access._load(user)
        assert fast == access._load(user, plain=True), name
        loaded[name] = fast
    return loaded


def test_the_compiled_read_gives_the_grants_the_orm_gives(world: Any) -> None:
    before = _same_both_ways(world)
    assert world.sunrise.pk in before["bill"].practice_ids(perms.WORK_CLAIMS)
    # The statement is compiled once and then run with each user's id: no ORM compile.
    assert access._compiled_rows, "compiled on first use"
    assert all(compiled is not None for compiled in access._compiled_rows.values())

    today = timezone.localdate()
    rows = PracticeUserPermission.objects
    rows.filter(user=world.vera).update(valid_until=today - dt.timedelta(days=1))
    rows.filter(user=world.vic).update(valid_until=today)
    rows.filter(user=world.val).update(valid_until=today + dt.timedelta(days=1))
    world.maple.is_active = False
    world.maple.save(update_fields=["is_active"])
    after = _same_both_ways(world)
    assert after["vera"].by_codename == {}
    assert after["vic"] == before["vic"] and after["vic"].by_codename
    assert world.maple.pk not in after["val"].practice_ids(perms.VIEW_PRACTICE)
    assert after["mia"].by_codename == {}

    boss = get_user_model().objects.create_superuser("root-c", "root@example.com", "x-pass-123")
    assert access._load(boss) == access._load(boss, plain=True)
    assert access._load(boss).practice_ids(perms.WORK_CLAIMS) == {world.sunrise.pk}


def test_a_revoked_membership_is_seen_by_the_next_request(world: Any) -> None:
    client = login(Client(), world.bill)
    assert client.get("/queues/payer-ar/").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get("/queues/payer-ar/")
    compiled = next(iter(access._compiled_rows.values()))
    assert compiled is not None
    head = compiled[0].split(" WHERE ")[0]
    assert [q for q in queries.captured_queries if q["sql"].startswith(head)], "the compiled read"
    membership = Membership.objects.get(user=world.bill, practice=world.sunrise)
    services.membership_revoke(actor=world.sam, membership=membership)
    assert client.get("/queues/payer-ar/").status_code == 404


def _fields(practices: list[Any]) -> list[dict[str, Any]]:
    return [{f.attname: getattr(p, f.attname) for f in p._meta.concrete_fields} for p in practices]


def test_the_switchers_practices_read_by_the_compiled_statement_are_the_orms(world: Any) -> None:
    third = factories.PracticeFactory(name="Aardvark Dental", slug="aardvark")
    everyone = [world.sunrise.pk, world.maple.pk, third.pk]
    for ids in ([world.sunrise.pk], everyone, list(reversed(everyone)), [world.maple.pk, 0]):
        fast = access._active_practices(ids)
        assert _fields(fast) == _fields(access._active_practices(ids, plain=True)), ids
        assert _fields(fast) == _fields(Practice.objects.filter(pk__in=ids, is_active=True))
    assert [p.name for p in access._active_practices(everyone)] == [
        "Aardvark Dental",
        "Maple Family Medicine",
        "Sunrise Dental",
    ]
    world.maple.is_active = False
    world.maple.save(update_fields=["is_active"])
    fast = access._active_practices(everyone)
    assert _fields(fast) == _fields(access._active_practices(everyone, plain=True))
    assert _fields(fast) == _fields(Practice.objects.filter(pk__in=everyone, is_active=True))
    assert world.maple.pk not in {p.pk for p in fast}
    statements = access._practices_read._statements.values()
    assert statements and all(statement.ok for statement in statements)


def test_holders_by_practice_compiled_are_the_orms(world: Any) -> None:
    """``holders_by_practice`` through its compiled reads (one array parameter each, marks
    apart) answers what the ORM answers: every permission, one practice or both or none,
    anyone or some people, with a superuser, an inactive user and an inactive practice."""
    root = get_user_model().objects.create_superuser("root-hp", "root@example.com", "x-pass-123")
    services.user_set_active(actor=None, user=world.fran, is_active=False)
    everyone = [u.pk for u in get_user_model().objects.all()]
    cases = []
    for practices in ([world.sunrise.pk], [world.sunrise.pk, world.maple.pk], []):
        for among in (None, everyone, [world.bill.pk, world.vera.pk], [root.pk], []):
            cases.append((practices, among))
    for codename in (perms.WORK_CLAIMS, perms.VIEW_PRACTICE, perms.MANAGE_ACCESS):
        for practices, among in cases:
            fast = access.holders_by_practice(codename, practices, among)
            assert fast == access.holders_by_practice(codename, practices, among, plain=True)
    sunrise = access.holders_by_practice(perms.WORK_CLAIMS, [world.sunrise.pk])[world.sunrise.pk]
    assert {world.bill.pk, world.vera.pk, root.pk} <= sunrise and world.fran.pk not in sunrise
    world.maple.is_active = False
    world.maple.save(update_fields=["is_active"])
    gone = access.holders_by_practice(perms.VIEW_PRACTICE, [world.maple.pk])
    assert gone == {world.maple.pk: set()}
    assert gone == access.holders_by_practice(perms.VIEW_PRACTICE, [world.maple.pk], plain=True)
    reads = access._holder_reads.values()
    assert all(s.ok for read in reads for s in read._statements.values())
