"""Timely-filing alerts at 30, 14 and 3 days for claims not yet submitted."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from claims import reminders
from practices import services as practice_services
from practices.models import Assignment
from work.choices import NotificationKind
from work.models import Notification

DAY = dt.timedelta(days=1)


def kinds(claim: Any) -> list[str]:
    return sorted(
        Notification.objects.filter(item_type="claim", item_id=claim.pk).values_list(
            "kind", flat=True
        )
    )


@pytest.mark.parametrize(
    ("days_left", "kind"),
    [
        (30, NotificationKind.FILING_30),
        (29, NotificationKind.FILING_30),
        (15, NotificationKind.FILING_30),
        (14, NotificationKind.FILING_14),
        (4, NotificationKind.FILING_14),
        (3, NotificationKind.FILING_3),
        (0, NotificationKind.FILING_3),
        (-2, NotificationKind.FILING_3),
        (31, None),
    ],
)
def test_the_tightest_threshold_reached_alerts_the_owner(
    world: Any, make_claim: Any, today: dt.date, days_left: int, kind: str | None
) -> None:
    claim = make_claim(deadline=today + days_left * DAY, due=today + 10 * DAY)

    reminders.send_timely_filing_alerts(today)

    assert kinds(claim) == ([kind] if kind else [])
    if kind:
        note = Notification.objects.get(item_type="claim", item_id=claim.pk)
        assert note.user_id == world.bill.pk


def test_message_text(world: Any, make_claim: Any, today: dt.date) -> None:
    claim = make_claim(number="PCN123", deadline=today + 14 * DAY, status="ready")
    late = make_claim(number="PCN124", deadline=today - DAY, status="rejected")
    reminders.send_timely_filing_alerts(today)
    deadline = f"{today + 14 * DAY:%m/%d/%Y}"
    assert Notification.objects.get(item_type="claim", item_id=claim.pk).message == (
        f"Claim PCN123 (Delta Dental, $1,240.00): timely filing by {deadline} — "
        "14 days left, still ready"
    )
    assert Notification.objects.get(item_type="claim", item_id=late.pk).message.endswith(
        "— the deadline passed 1 day ago, still rejected"
    )


@pytest.mark.parametrize("status", ["submitted", "accepted", "paid", "denied", "closed"])
def test_submitted_or_finished_claims_get_no_alert(
    world: Any, make_claim: Any, today: dt.date, status: str
) -> None:
    claim = make_claim(deadline=today + 3 * DAY, status=status)
    assert reminders.send_timely_filing_alerts(today)["created"] == 0
    assert kinds(claim) == []


def test_each_threshold_alerts_once_ever_as_the_deadline_approaches(
    world: Any, make_claim: Any, today: dt.date
) -> None:
    claim = make_claim(deadline=today + 30 * DAY)
    other = make_claim(practice=world.maple, owner=world.mia, deadline=today + 60 * DAY)

    for offset in range(0, 35):  # a daily run for five weeks, with a re-run each day
        day = today + offset * DAY
        reminders.send_timely_filing_alerts(day)
        reminders.send_timely_filing_alerts(day)

    assert kinds(claim) == sorted(
        [NotificationKind.FILING_14, NotificationKind.FILING_3, NotificationKind.FILING_30]
    )
    dates = dict(
        Notification.objects.filter(item_type="claim", item_id=claim.pk).values_list(
            "kind", "for_date"
        )
    )
    assert dates == {
        NotificationKind.FILING_30: today,
        NotificationKind.FILING_14: today + 16 * DAY,
        NotificationKind.FILING_3: today + 27 * DAY,
    }
    assert kinds(other) == [NotificationKind.FILING_30]  # 60 days out: reached 30 on day 30
    assert Notification.objects.get(item_type="claim", item_id=other.pk).user_id == world.mia.pk


def test_a_missed_run_still_alerts_the_next_day(
    world: Any, make_claim: Any, today: dt.date
) -> None:
    claim = make_claim(deadline=today + 13 * DAY)  # the 14-day run was missed yesterday
    counts = reminders.send_timely_filing_alerts(today)
    assert counts == {"filing_30": 0, "filing_14": 1, "filing_3": 0, "created": 1}
    assert kinds(claim) == [NotificationKind.FILING_14]
    again = reminders.send_timely_filing_alerts(today)
    assert again == {"filing_30": 0, "filing_14": 1, "filing_3": 0, "created": 0}


def test_owner_without_access_gets_no_alert(world: Any, make_claim: Any, today: dt.date) -> None:
    claim = make_claim(owner=world.vera, deadline=today + 3 * DAY)
    practice_services.assignment_revoke(
        actor=world.sam,
        assignment=Assignment.objects.get(
            staff__user=world.vera, engagement__practice=world.sunrise
        ),
    )
    assert reminders.send_timely_filing_alerts(today)["created"] == 0
    assert kinds(claim) == []
