"""The weekly snapshot e-mail: to each practice's managers, figures only, once a week."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core import mail
from django.test import override_settings
from django.utils import timezone

from reports.emails import last_week, send_weekly_snapshots
from reports.models import SnapshotMail
from tests.reports import scenario


@override_settings(SITE_URL="https://billing.example.test")
def test_managers_get_last_weeks_figures_once(world: Any) -> None:
    scenario.build(world)
    world.sam.email, world.mia.email = "sam@example.test", "mia@example.test"
    world.sam.save(update_fields=["email"])
    world.mia.save(update_fields=["email"])
    today = timezone.localdate()
    monday = today + dt.timedelta(days=7 - today.weekday())  # next Monday: this week is last
    mail.outbox.clear()
    assert send_weekly_snapshots(monday) == 2
    by_to = {message.to[0]: message for message in mail.outbox}
    assert set(by_to) == {"sam@example.test", "mia@example.test"}
    sunrise = by_to["sam@example.test"]
    week = last_week(monday)
    assert week.start <= today <= week.end
    assert "Clean claim rate: 80.00 %" in sunrise.body
    assert "https://billing.example.test/kpis/?practice=" in sunrise.body
    assert f"practice={world.sunrise.pk}&period=custom" in sunrise.body
    # No patient names (the scenario's patients are "PtK1".. "PtK6"), no claim numbers.
    assert "PtK" not in sunrise.body and "Sunriser" not in sunrise.body
    assert "Maple" not in sunrise.body and "Sunrise" not in by_to["mia@example.test"].body
    assert send_weekly_snapshots(monday) == 0  # the job again: nothing twice
    assert len(mail.outbox) == 2
    assert SnapshotMail.objects.filter(week_start=week.start).count() == 2
