"""The reminder tasks: schedule, arguments, and a real Celery worker on Redis."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from celery.schedules import crontab
from django.core import mail

from billing_ops.celery import app
from claims import tasks as claim_tasks
from claims.models import Claim
from sops import tasks as sops_tasks
from tests.work.conftest import TaskRuns, wait_until
from work import tasks
from work.choices import NotificationKind
from work.models import Notification

DAY = dt.timedelta(days=1)
AR_TASKS = {
    "work.tasks.send_next_action_reminders": crontab(hour=6, minute=0),
    "claims.tasks.send_timely_filing_alerts": crontab(hour=6, minute=15),
    "work.tasks.send_daily_digests": crontab(hour=6, minute=30),
    "sops.tasks.escalate_overdue": crontab(minute=0),
}


def test_beat_schedules_the_reminder_tasks() -> None:
    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    for name, when in AR_TASKS.items():
        assert schedule[name] == when, name
        assert name in app.tasks, name


@pytest.mark.parametrize("task", [tasks.send_next_action_reminders, sops_tasks.escalate_overdue])
def test_tasks_declare_retries(task: Any) -> None:
    assert task.autoretry_for == (Exception,)
    assert task.max_retries == 3
    assert task.retry_backoff


def test_tasks_run_for_the_given_day_or_today(world: Any, make_claim: Any, today: dt.date) -> None:
    claim = make_claim(due=today)
    # Run for tomorrow: the claim is one day overdue then.
    result = tasks.send_next_action_reminders.apply(args=[(today + DAY).isoformat()]).get()
    assert result == {"due_today": 0, "overdue": 1, "created": 1}
    # Default: today (in the site's time zone).
    assert tasks.send_next_action_reminders.apply().get() == {
        "due_today": 1,
        "overdue": 0,
        "created": 1,
    }
    assert sorted(
        Notification.objects.filter(item_type="claim", item_id=claim.pk).values_list(
            "kind", flat=True
        )
    ) == [
        NotificationKind.DUE_TODAY,
        NotificationKind.OVERDUE,
    ]
    filing = claim_tasks.send_timely_filing_alerts.apply(args=[today.isoformat()]).get()
    assert filing["created"] == 0
    assert sops_tasks.escalate_overdue.apply(args=[today.isoformat()]).get()["created"] == 0


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_reminders_enqueued_twice_make_one_notification_per_claim(
    worker: TaskRuns, world: Any, make_claim: Any, today: dt.date
) -> None:
    due = [make_claim(due=today), make_claim(due=today - 2 * DAY, owner=world.vera)]
    make_claim(due=today + DAY)  # not yet due
    make_claim(practice=world.maple, owner=world.mia, due=today - DAY)
    expected = {(c.pk, c.owner_id) for c in due} | {
        (c.pk, c.owner_id) for c in Claim.objects.filter(practice=world.maple)
    }

    first = tasks.send_next_action_reminders.delay(today.isoformat())
    second = tasks.send_next_action_reminders.delay(today.isoformat())

    assert worker.finished(first.id) == (
        "SUCCESS",
        {"due_today": 1, "overdue": 2, "created": 3},
    )
    assert worker.finished(second.id) == (
        "SUCCESS",
        {"due_today": 1, "overdue": 2, "created": 0},
    )
    assert wait_until(lambda: Notification.objects.count() == 3)
    rows = list(Notification.objects.values_list("item_id", "user_id"))
    assert sorted(rows) == sorted(expected)  # exactly one per item, no duplicates


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_digest_enqueued_twice_sends_one_email(
    worker: TaskRuns, world: Any, make_claim: Any, today: dt.date
) -> None:
    world.bill.email = "bill@example.com"
    world.bill.save(update_fields=["email"])
    make_claim(due=today - DAY, number="PCN555")

    first = tasks.send_daily_digests.delay(today.isoformat())
    second = tasks.send_daily_digests.delay(today.isoformat())

    assert worker.finished(first.id)[0] == "SUCCESS"
    assert worker.finished(second.id) == (
        "SUCCESS",
        {"owners": 1, "sent": 0, "already_sent": 1, "no_email": 0},
    )
    assert len(mail.outbox) == 1
    assert "PCN555" in mail.outbox[0].body
    assert Notification.objects.filter(kind=NotificationKind.DIGEST).count() == 1
