"""Unassigned (issue 10): the holders of each practice read once and checked as a list,
the same rows as the per-row holder condition it replaced, for every kind of owner and
viewer, on the page, the API and the queue's query, at a constant number of queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing_ops.access import holder_condition
from claims import queues, unassigned
from claims.models import Claim
from practices import permissions as perms
from practices import services as practice_services
from practices.choices import Role
from practices.models import PracticeUserPermission
from tests import claim_factory, factories
from work import selectors
from work.registry import registry

UNASSIGNED = "/api/v1/claims/"


def old_unassigned(user: Any) -> list[int]:
    """What the queue answered before: the per-row holder condition."""
    rows = queues.CLAIM.visible(user).filter(
        Q(owner__isnull=True) | ~holder_condition(perms.WORK_CLAIMS, "owner", "practice")
    )
    return list(rows.order_by("-priority", "-pk").values_list("pk", flat=True))


def new_unassigned(user: Any) -> list[int]:
    queue = registry.queue("unassigned")
    rows = selectors.queue_queryset(queue, user)
    return list(rows.order_by("-priority", "-pk").values_list("pk", flat=True))


@pytest.fixture
def owners(world, make_claim):
    """Sunrise and Maple claims owned by every kind of person: holders (biller, vendor
    staff, lead, a superuser), and people who cannot work them (front desk, a deactivated
    biller, a biller whose access ended yesterday, Maple's manager, nobody)."""
    today = timezone.localdate()
    made: dict[str, Claim] = {}
    for name in ("bill", "vera", "val"):
        made[name] = make_claim(owner=world.users[name])
    admin = factories.UserFactory(username="root", is_superuser=True)
    gone = factories.UserFactory(username="gone")
    ended = factories.UserFactory(username="ended")
    for user in (gone, ended):
        practice_services.membership_set(
            actor=None, user=user, practice=world.sunrise, role=Role.BILLER
        )
    for name, user in (("admin", admin), ("gone", gone), ("ended", ended), ("fran", world.fran)):
        made[name] = make_claim()
        Claim.objects.filter(pk=made[name].pk).update(owner=user)
    made["mia"] = make_claim()
    made["nobody"] = make_claim()
    Claim.objects.filter(pk=made["mia"].pk).update(owner=world.mia)
    Claim.objects.filter(pk=made["nobody"].pk).update(owner=None)
    practice_services.user_set_active(actor=None, user=gone, is_active=False)
    PracticeUserPermission.objects.filter(user=ended).update(
        valid_until=today - dt.timedelta(days=1)
    )
    # Maple: the lead (a holder there) and Sunrise's biller (not).
    payer = factories.PayerFactory(practice=world.maple, timely_filing_days=365)
    for name, owner in (("maple-val", world.val), ("maple-bill", world.bill)):
        patient = factories.PatientFactory(practice=world.maple)
        made[name] = claim_factory.make(
            actor=world.mia,
            patient=patient,
            coverage=factories.CoverageFactory(patient=patient, payer=payer),
            provider=factories.ProviderFactory(practice=world.maple),
            number=f"M-{name}",
            owner=world.mia,
        )
        Claim.objects.filter(pk=made[name].pk).update(owner=owner)
    world.users["admin"] = admin
    return made


def test_unassigned_answers_what_the_per_row_condition_did(world, owners):
    for who in ("bill", "sam", "val", "vera", "vic", "mia", "fran", "admin"):
        user = world.users[who]
        assert new_unassigned(user) == old_unassigned(user), who
    unassigned = set(new_unassigned(world.sam))
    cannot = {"gone", "ended", "fran", "mia", "nobody"}
    assert unassigned == {owners[name].pk for name in cannot}
    assert set(new_unassigned(world.val)) == unassigned | {owners["maple-bill"].pk}
    assert set(new_unassigned(world.mia)) == {owners["maple-bill"].pk}
    assert set(new_unassigned(world.admin)) == set(new_unassigned(world.val))


def test_unassigned_page_and_api_list_the_same_rows(world, owners, client_for):
    expected = set(old_unassigned(world.val))
    client = client_for(world.val)
    body = client.get(UNASSIGNED, {"queue": "unassigned", "page_size": 200}).json()
    assert {row["id"] for row in body["results"]} == expected
    # The page lists the current practice's: Sunrise.
    session = client.session
    session["practice_id"] = world.sunrise.pk
    session.save()
    page = client.get("/queues/unassigned/")
    assert page.status_code == 200
    html = page.content.decode()
    for name, claim in owners.items():
        listed = claim.pk in expected and claim.practice_id == world.sunrise.pk
        assert (claim.pms_claim_number in html) == listed, name


def test_unassigned_has_no_per_row_join_and_constant_queries(world, owners, make_claim):
    queue = registry.queue("unassigned")
    with CaptureQueriesContext(connection) as few:
        assert len(list(selectors.queue_queryset(queue, world.sam))) == 5
    for _ in range(4):
        claim = make_claim()
        Claim.objects.filter(pk=claim.pk).update(owner=world.fran)
    with CaptureQueriesContext(connection) as many:
        rows = selectors.queue_queryset(queue, world.sam)
        assert len(list(rows)) == 9
    assert len(many) == len(few)
    # The listing checks each row against lists: no permission table, no owner's flags
    # (the other statement on claims is the walk of their owners, claims.unassigned).
    listing = [
        q["sql"]
        for q in many.captured_queries
        if 'FROM "claims_claim"' in q["sql"] and "WITH RECURSIVE" not in q["sql"]
    ]
    assert len(listing) == 1
    where = listing[0].split(" WHERE ", 1)[1]
    assert "practices_practiceuserpermission" not in where
    assert '"is_active"' not in where and '"is_superuser"' not in where


def test_the_owner_walk_finds_the_owners_of_open_claims_only(world, owners, make_claim):
    """The walk of ``claim_open_owner`` names the same owners per practice as a DISTINCT
    over the open claims: a closed or void claim's owner is not one (the person who
    closed it may have left since), the missing owner is not one, and a practice without
    open claims has none."""
    closed = make_claim()
    Claim.objects.filter(pk=closed.pk).update(owner=world.mia, status="closed")
    practices = [world.sunrise.pk, world.maple.pk, 10**6]
    fast = unassigned.owners_of_open_claims(practices)
    assert fast == unassigned.owners_of_open_claims(practices, plain=True)
    assert fast[world.maple.pk] == {world.val.pk, world.bill.pk}
    assert world.mia.pk in fast[world.sunrise.pk]  # her open claim
    Claim.objects.filter(pk=owners["mia"].pk).update(status="void")
    fast = unassigned.owners_of_open_claims(practices)
    assert world.mia.pk not in fast[world.sunrise.pk]
    assert fast == unassigned.owners_of_open_claims(practices, plain=True)
    assert unassigned.owners_of_open_claims([]) == {}
    for practice_id in practices:
        one = unassigned.owners_of_open_claims([practice_id])
        assert one == unassigned.owners_of_open_claims([practice_id], plain=True)


def test_the_condition_names_only_the_non_holders(world, owners):
    """One clause for the missing owner, one per practice with owners who may not work it
    there: a holder's id appears in no clause."""
    practices = [world.sunrise.pk, world.maple.pk]
    condition = unassigned.unassigned_condition(practices)
    assert condition == unassigned.unassigned_condition(practices, plain=True)
    named = {
        (dict(child.children)["practice_id"], owner)
        for child in condition.children[1:]
        for owner in dict(child.children)["owner_id__in"]
    }
    strays = {"admin": False, "gone": True, "ended": True, "fran": True, "mia": True}
    for name, stray in strays.items():
        pair = Claim.objects.values_list("practice_id", "owner_id").get(pk=owners[name].pk)
        assert (pair in named) == stray, name
    assert (world.maple.pk, world.bill.pk) in named
    assert (world.maple.pk, world.val.pk) not in named
    assert ("owner__isnull", True) in condition.children


def test_the_planner_knows_practice_and_owner_together(db):
    """Migration 0020: the extended statistics that keep the planner from expecting a
    handful of rows for an owner with thousands of open claims at one practice."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT stxkind FROM pg_statistic_ext WHERE stxname = 'claims_claim_practice_owner'"
        )
        kinds = cursor.fetchone()
    assert kinds is not None
    assert set(kinds[0]) == {"m", "f"}  # mcv and functional dependencies
