"""Appeal deadline alerts: 30, 14 and 3 days, once each, never after an appeal is sent,
and without patient names."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from billing_ops.celery import app
from denials import appeals, reminders, services
from denials.tasks import send_appeal_deadline_alerts
from sops.choices import BillingFunctionKind
from sops.escalations import escalate_overdue
from sops.models import BillingFunction
from work.choices import NotificationKind
from work.models import Notification

pytestmark = pytest.mark.django_db


def local_today() -> dt.date:
    """Today in the practice's time zone, read when a test uses it (a constant read at
    import goes stale when a run crosses midnight)."""
    return timezone.localdate()


def test_alerts_at_30_14_and_3_days_once_each(world: Any, make_denial: Any) -> None:
    # The payer's window is 90 days: received 60 days ago, the deadline is 30 days away.
    denial = make_denial(received_on=local_today() - dt.timedelta(days=60))
    assert denial.appeal_deadline == local_today() + dt.timedelta(days=30)

    first = reminders.send_appeal_deadline_alerts(local_today())
    again = reminders.send_appeal_deadline_alerts(local_today())
    later = reminders.send_appeal_deadline_alerts(local_today() + dt.timedelta(days=16))
    last = reminders.send_appeal_deadline_alerts(local_today() + dt.timedelta(days=27))

    assert (first["created"], again["created"], later["created"], last["created"]) == (1, 0, 1, 1)
    kinds = set(Notification.objects.filter(item_id=denial.pk).values_list("kind", flat=True))
    assert kinds == {
        NotificationKind.APPEAL_30,
        NotificationKind.APPEAL_14,
        NotificationKind.APPEAL_3,
    }
    notification = Notification.objects.filter(item_type="denial").first()
    assert notification.user == denial.owner
    assert denial.claim.patient.last_name not in notification.message
    assert denial.number in notification.message


def test_no_alert_once_the_appeal_is_sent_or_far_away(world: Any, make_denial: Any) -> None:
    sent = make_denial(received_on=local_today() - dt.timedelta(days=80))
    appeal = appeals.appeal_create(actor=world.bill, denial=sent, method="fax")
    appeals.appeal_send(actor=world.bill, appeal=appeal)
    make_denial(carc="4", received_on=local_today())  # 90 days away

    assert reminders.send_appeal_deadline_alerts(local_today())["created"] == 0


def test_the_task_is_scheduled() -> None:
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert send_appeal_deadline_alerts.name in scheduled


def test_records_not_answered_by_the_turnaround_escalate_to_the_practice_contact(
    world: Any, make_denial: Any
) -> None:
    """A denial routed to the practice for records and overdue beyond the denial follow-up
    function's turnaround reaches the practice's primary contact (sam), without names."""
    BillingFunction.objects.create(
        practice=world.sunrise,
        kind=BillingFunctionKind.DENIAL_FOLLOW_UP,
        owner=world.vera,
        turnaround_days=1,
    )
    denial = make_denial(carc="50")
    denial = services.denial_request_records(actor=world.vera, denial=denial, what="Chart notes")
    later = denial.next_action_due + dt.timedelta(days=2)

    escalate_overdue(later)

    sent = Notification.objects.get(kind=NotificationKind.ESCALATION, item_type="denial")
    assert (sent.user, sent.item_id) == (world.sam, denial.pk)
    assert denial.claim.patient.last_name not in sent.message
