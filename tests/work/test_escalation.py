"""Escalation of claims overdue beyond the practice's turnaround standard."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from claims.models import Claim
from practices import services as practice_services
from practices.choices import Role
from practices.models import Assignment, Engagement, Membership
from sops import escalations as reminders
from sops.choices import BillingFunctionKind
from sops.models import BillingFunction
from tests import factories
from work.choices import NotificationKind
from work.models import Notification

DAY = dt.timedelta(days=1)


def escalated() -> set[tuple[int, int]]:
    """(recipient id, claim id) of every escalation."""
    return set(
        Notification.objects.filter(kind=NotificationKind.ESCALATION).values_list(
            "user_id", "item_id"
        )
    )


def follow_up_function(world: Any, **fields: Any) -> BillingFunction:
    fields.setdefault("owner", world.bill)
    return BillingFunction.objects.create(
        practice=world.sunrise, kind=BillingFunctionKind.CLAIM_FOLLOW_UP, **fields
    )


def set_away(user: Any, practice: Any, until: dt.date | None) -> None:
    Membership.objects.filter(user=user, practice=practice).update(away_until=until)


def end_sunrise_engagement(world: Any, today: dt.date) -> None:
    Engagement.objects.filter(pk=world.engagements["sunrise"].pk).update(ends_on=today - DAY)


def test_overdue_beyond_default_turnaround_goes_to_the_engagement_primary(
    world: Any, make_claim: Any, today: dt.date
) -> None:
    late = make_claim(due=today - 3 * DAY, number="PCN123")
    make_claim(due=today - 2 * DAY)  # overdue by exactly the turnaround: not yet
    make_claim(due=today)
    make_claim(due=today - 9 * DAY, status="closed")
    maple = make_claim(practice=world.maple, owner=world.mia, due=today - 5 * DAY)

    counts = reminders.escalate_overdue(today)

    assert counts == {"overdue": 2, "unrouted": 0, "created": 2}
    assert escalated() == {(world.sam.pk, late.pk), (world.mia.pk, maple.pk)}
    note = Notification.objects.get(item_type="claim", item_id=late.pk)
    assert note.message == (
        "Claim PCN123 (Delta Dental, $1,240.00): Call payer — 3 days overdue "
        f"(turnaround 2 days); owner {world.bill.get_full_name()}"
    )
    assert (note.practice_id, note.for_date) == (world.sunrise.pk, today)


def test_the_practice_turnaround_sets_the_threshold(
    world: Any, make_claim: Any, today: dt.date
) -> None:
    follow_up_function(world, turnaround_days=5)
    make_claim(due=today - 5 * DAY)
    beyond = make_claim(due=today - 6 * DAY)
    maple = make_claim(practice=world.maple, owner=world.mia, due=today - 3 * DAY)

    reminders.escalate_overdue(today)

    assert escalated() == {(world.sam.pk, beyond.pk), (world.mia.pk, maple.pk)}
    assert (
        "(turnaround 5 days)"
        in Notification.objects.get(item_type="claim", item_id=beyond.pk).message
    )


def test_hourly_runs_escalate_once_until_a_new_due_date_is_missed(
    world: Any, make_claim: Any, today: dt.date
) -> None:
    claim = make_claim(due=today - 3 * DAY)

    assert reminders.escalate_overdue(today)["created"] == 1
    assert reminders.escalate_overdue(today)["created"] == 0
    assert reminders.escalate_overdue(today + DAY)["created"] == 0  # same missed due date
    assert Notification.objects.count() == 1

    # The owner set a new due date and missed it as well: escalate again.
    Claim.objects.filter(pk=claim.pk).update(next_action_due=today - DAY)
    assert reminders.escalate_overdue(today + 2 * DAY)["created"] == 1
    assert Notification.objects.filter(item_type="claim", item_id=claim.pk).count() == 2


@pytest.mark.parametrize("backup_on", ["engagement", "function"])
def test_away_primary_hands_over_to_the_backup(
    world: Any, make_claim: Any, today: dt.date, backup_on: str
) -> None:
    if backup_on == "engagement":
        Engagement.objects.filter(pk=world.engagements["sunrise"].pk).update(
            backup_contact=world.val
        )
        backup = world.val
    else:
        follow_up_function(world, backup=world.bill)
        backup = world.bill
    late = make_claim(due=today - 4 * DAY)

    set_away(world.sam, world.sunrise, today)
    reminders.escalate_overdue(today)
    assert escalated() == {(backup.pk, late.pk)}

    # Back from leave: the next missed date goes to the primary again.
    set_away(world.sam, world.sunrise, today - DAY)
    Claim.objects.filter(pk=late.pk).update(next_action_due=today - 3 * DAY)
    reminders.escalate_overdue(today)
    assert (world.sam.pk, late.pk) in escalated()


def test_away_primary_without_backup_still_hears(
    world: Any, make_claim: Any, today: dt.date
) -> None:
    late = make_claim(due=today - 4 * DAY)
    set_away(world.sam, world.sunrise, today + 7 * DAY)

    reminders.escalate_overdue(today)

    assert escalated() == {(world.sam.pk, late.pk)}


def test_without_engagement_the_function_escalation_contact_then_owner(
    world: Any, make_claim: Any, today: dt.date
) -> None:
    end_sunrise_engagement(world, today)
    function = follow_up_function(world, owner=world.fran, escalation_contact=world.bill)
    late = make_claim(due=today - 4 * DAY)

    reminders.escalate_overdue(today)
    assert escalated() == {(world.bill.pk, late.pk)}

    Notification.objects.all().delete()
    function.escalation_contact = None
    function.save()
    reminders.escalate_overdue(today)
    assert escalated() == {(world.fran.pk, late.pk)}


def test_without_engagement_or_function_the_active_managers(
    world: Any, make_claim: Any, today: dt.date
) -> None:
    end_sunrise_engagement(world, today)
    other_manager = factories.UserFactory(username="max")
    practice_services.membership_set(
        actor=None, user=other_manager, practice=world.sunrise, role=Role.PRACTICE_MANAGER
    )
    late = make_claim(due=today - 4 * DAY)

    reminders.escalate_overdue(today)
    assert escalated() == {(world.sam.pk, late.pk), (other_manager.pk, late.pk)}

    # An away manager is skipped while another manager is present.
    Notification.objects.all().delete()
    set_away(world.sam, world.sunrise, today)
    reminders.escalate_overdue(today)
    assert escalated() == {(other_manager.pk, late.pk)}


def test_a_primary_contact_who_cannot_see_the_practice_is_skipped(
    world: Any, make_claim: Any, today: dt.date
) -> None:
    outsider = factories.UserFactory(username="outsider")
    Engagement.objects.filter(pk=world.engagements["sunrise"].pk).update(primary_contact=outsider)
    late = make_claim(due=today - 4 * DAY)

    reminders.escalate_overdue(today)

    assert escalated() == {(world.sam.pk, late.pk)}  # the managers, not the outsider
    assert not Notification.objects.filter(user=outsider).exists()


def test_claims_of_an_owner_who_lost_access_still_escalate(
    world: Any, make_claim: Any, today: dt.date
) -> None:
    late = make_claim(owner=world.vera, due=today - 4 * DAY)
    practice_services.assignment_revoke(
        actor=world.sam,
        assignment=Assignment.objects.get(
            staff__user=world.vera, engagement__practice=world.sunrise
        ),
    )

    reminders.escalate_overdue(today)

    assert escalated() == {(world.sam.pk, late.pk)}
    assert world.vera.get_full_name() in Notification.objects.get().message


def test_nothing_overdue_nothing_to_do(world: Any, make_claim: Any, today: dt.date) -> None:
    make_claim(due=today)
    assert reminders.escalate_overdue(today) == {"overdue": 0, "unrouted": 0, "created": 0}
    assert not Notification.objects.exists()
