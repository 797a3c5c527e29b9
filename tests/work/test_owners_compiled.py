"""The work pages' owner lists (bulk bar, owner filter) read by one statement compiled
once per set of permissions (issue 10, speed): the same people in the same order as the
union of ``holders_among`` per permission (``_owners(plain=True)``), for every practice and
set of permissions, with grants ending yesterday, today and tomorrow, an inactive user, an
inactive practice and a superuser; a change between two pages is seen by the second."""

from __future__ import annotations

import datetime as dt
from itertools import combinations
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from billing_ops import access
from practices import permissions as perms
from practices import services
from practices.models import Membership, PracticeUserPermission
from tests.conftest import login
from work import views

pytestmark = pytest.mark.django_db


def _permission_sets() -> list[set[str]]:
    every = sorted(views._work_permissions() | {perms.VIEW_PRACTICE, perms.MANAGE_ACCESS})
    sets = [{code} for code in every] + [set(pair) for pair in combinations(every[:4], 2)]
    return [*sets, set(every)]


def _same_both_ways(world: Any) -> dict[tuple[int, frozenset[str]], list[str]]:
    seen = {}
    for practice in (world.sunrise, world.maple):
        for codes in _permission_sets():
            fast = [
                (u.pk, u.username, u.get_full_name()) for u in views._owners(practice.pk, codes)
            ]
            plain = views._owners(practice.pk, codes, plain=True)
            assert fast == [(u.pk, u.username, u.get_full_name()) for u in plain], codes
            seen[(practice.pk, frozenset(codes))] = [name for _, name, _ in fast]
    return seen


def test_the_compiled_owner_list_is_the_union_of_the_holders(world: Any) -> None:
    before = _same_both_ways(world)
    claims_at_sunrise = before[(world.sunrise.pk, frozenset({perms.WORK_CLAIMS}))]
    assert "bill" in claims_at_sunrise and "mia" not in claims_at_sunrise
    assert views._owner_reads and all(
        s.ok for read in views._owner_reads.values() for s in read._statements.values()
    )

    today = timezone.localdate()
    rows = PracticeUserPermission.objects
    rows.filter(user=world.vera).update(valid_until=today - dt.timedelta(days=1))
    rows.filter(user=world.vic).update(valid_until=today)
    rows.filter(user=world.val).update(valid_until=today + dt.timedelta(days=1))
    services.user_set_active(actor=None, user=world.fran, is_active=False)
    get_user_model().objects.create_superuser("root-oc", "root@example.com", "x-pass-123")
    after = _same_both_ways(world)
    everyone = after[(world.sunrise.pk, frozenset(_permission_sets()[-1]))]
    assert "vera" not in everyone and "vic" in everyone and "val" in everyone
    assert "fran" not in everyone and "root-oc" in everyone

    world.maple.is_active = False
    world.maple.save(update_fields=["is_active"])
    gone = _same_both_ways(world)
    assert gone[(world.maple.pk, frozenset(_permission_sets()[-1]))] == []


def test_a_revoked_membership_leaves_the_owner_list_of_the_next_page(world: Any) -> None:
    client = login(Client(), world.sam)
    page = client.get("/queues/payer-ar/")
    assert page.status_code == 200
    assert [u.username for u in page.context["bulk_owners"]] == [
        u.username for u in views._owners(world.sunrise.pk, {perms.WORK_CLAIMS}, plain=True)
    ]
    assert "bill" in [u.username for u in page.context["bulk_owners"]]
    membership = Membership.objects.get(user=world.bill, practice=world.sunrise)
    services.membership_revoke(actor=world.sam, membership=membership)
    page = client.get("/queues/payer-ar/")
    assert "bill" not in [u.username for u in page.context["bulk_owners"]]


def test_no_permissions_is_nobody_not_the_superusers(world: Any) -> None:
    """An empty ``IN`` drops out of the compiled OR: without a guard the superusers were
    the list (reviewer)."""
    get_user_model().objects.create_superuser("root-np", "root@example.com", "x-pass-123")
    assert views._owners(world.sunrise.pk, set()) == []
    assert views._owners(world.sunrise.pk, set(), plain=True) == []
    assert list(access.holders_of_any([], [world.sunrise.pk])) == []
