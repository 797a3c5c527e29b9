"""``holders_of_any`` keeps the querysets it built, by everything their SQL depends on
(issue 10, speed), and hands out clones: the same people as a queryset built afresh
(``_holders_of_any``) for every practice set and permission set, with grants ending
yesterday, today and tomorrow, an inactive user and practice and a superuser; a change to
the grants made after a queryset was kept is seen by the next call (only the built query
is kept, never its rows); the queue filter's owner choices are the same for every user."""

from __future__ import annotations

import datetime as dt
from itertools import combinations
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from billing_ops import access
from claims.models import Claim
from claims.queues import ClaimQueueFilter
from practices import permissions as perms
from practices.models import PracticeUserPermission

pytestmark = pytest.mark.django_db

CODES = [perms.WORK_CLAIMS, perms.VIEW_PRACTICE, perms.MANAGE_ACCESS, perms.POST_PAYMENTS]
USERS = ("sam", "fran", "bill", "mia", "vera", "vic", "val")


@pytest.fixture(autouse=True)
def _nothing_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    # The kept querysets are per process: what earlier tests left would make the count
    # of keys below depend on the order tests ran in (cleared whole at HOLDERS_KEPT).
    monkeypatch.setattr(access, "_holders_kept", {})


def _people(queryset: Any) -> list[tuple[int, str]]:
    return [(u.pk, u.username) for u in queryset.order_by("username")]


def _same_both_ways(world: Any) -> dict[Any, list[tuple[int, str]]]:
    today = timezone.localdate()
    seen = {}
    code_sets = [[c] for c in CODES] + [list(pair) for pair in combinations(CODES, 2)] + [CODES]
    practice_sets = [[world.sunrise.pk], [world.maple.pk], [world.sunrise.pk, world.maple.pk]]
    for codes in code_sets:
        for ids in practice_sets:
            for day in (None, today + dt.timedelta(days=1)):
                kept = _people(access.holders_of_any(codes, ids, day))
                fresh = _people(access._holders_of_any(sorted(codes), sorted(ids), day or today))
                assert kept == fresh, (codes, ids, day)
                seen[(tuple(codes), tuple(ids), day)] = kept
    return seen


def test_kept_querysets_give_the_people_a_fresh_one_gives(world):
    before = _same_both_ways(world)
    assert (world.bill.pk, "bill") in before[((perms.WORK_CLAIMS,), (world.sunrise.pk,), None)]
    today = timezone.localdate()
    rows = PracticeUserPermission.objects
    rows.filter(user=world.vera).update(valid_until=today - dt.timedelta(days=1))
    rows.filter(user=world.vic).update(valid_until=today)
    rows.filter(user=world.val).update(valid_until=today + dt.timedelta(days=1))
    get_user_model().objects.filter(pk=world.bill.pk).update(is_active=False)
    world.maple.is_active = False
    world.maple.save(update_fields=["is_active"])
    get_user_model().objects.create_superuser("root-h", "root@example.com", "x-pass-123")
    kept = len(access._holders_kept)
    after = _same_both_ways(world)
    assert len(access._holders_kept) == kept  # the same keys: the changes came from the rows
    work = {n for _pk, n in after[((perms.WORK_CLAIMS,), (world.sunrise.pk,), None)]}
    assert "bill" not in work and "vera" not in work and {"val", "root-h"} <= work
    seen = after[((perms.VIEW_PRACTICE,), (world.sunrise.pk,), None)]
    assert "vic" in {name for _pk, name in seen}  # valid until today
    tomorrow = after[((perms.VIEW_PRACTICE,), (world.sunrise.pk,), today + dt.timedelta(days=1))]
    assert "vic" not in {name for _pk, name in tomorrow}
    assert "val" in {name for _pk, name in tomorrow}
    maple = after[((perms.WORK_CLAIMS,), (world.maple.pk,), None)]
    assert maple == []  # an inactive practice: nobody, not even a superuser


def test_a_caller_gets_a_clone_and_the_kept_ones_are_bounded(world, monkeypatch):
    people = access.holders_of_any([perms.WORK_CLAIMS], [world.sunrise.pk])
    list(people.order_by("username"))
    list(people)
    for kept in access._holders_kept.values():
        assert kept._result_cache is None  # never run itself
        assert not kept.query.order_by
    monkeypatch.setattr(access, "HOLDERS_KEPT", 2)
    access._holders_kept.clear()
    for code in CODES:
        access.holders_of_any([code], [world.sunrise.pk])
        assert len(access._holders_kept) <= 2


def test_the_queue_filters_owner_choices_are_the_same_for_every_user(world):
    for name in USERS:
        user = getattr(world, name)
        queryset = Claim.objects.visible_to(user, perms.WORK_CLAIMS)
        owners = ClaimQueueFilter(None, queryset, user=user).filters["owner"].queryset
        ids = access.visible_practice_ids(user, perms.WORK_CLAIMS)
        fresh = access._holders_of_any([perms.WORK_CLAIMS], sorted(ids), timezone.localdate())
        assert _people(owners) == _people(fresh), name
        assert list(owners) == list(fresh.order_by("username")), name
