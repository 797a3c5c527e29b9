"""The weekly KPI snapshot e-mail: each practice's managers get last week's headline
figures and what changed, with a link to the dashboard (``settings.SITE_URL``).

Figures only: no patient names, no claim numbers, no staff names. Sent once per practice
and week (``SnapshotMail``): a rerun of the job sends nothing twice.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from practices.choices import Role
from practices.models import Practice
from reports import dashboard
from reports.models import SnapshotMail
from reports.selectors import Period


def last_week(today: dt.date) -> Period:
    """Monday to Sunday of the week before ``today``'s, compared with the week before."""
    start = today - dt.timedelta(days=today.weekday() + 7)
    end = start + dt.timedelta(days=6)
    return Period(
        "custom",
        "Last week",
        start,
        end,
        start - dt.timedelta(days=7),
        start - dt.timedelta(days=1),
    )


def dashboard_url(practice: Practice, week: Period) -> str:
    query = urlencode(
        {
            "practice": practice.pk,
            "period": "custom",
            "from": week.start.isoformat(),
            "to": week.end.isoformat(),
        }
    )
    return f"{settings.SITE_URL.rstrip('/')}{reverse('kpi-dashboard')}?{query}"


def recipients(practice: Practice) -> list[str]:
    """The practice's active managers with an e-mail address."""
    users = (
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__practice=practice,
            memberships__role=Role.PRACTICE_MANAGER,
            memberships__is_active=True,
        )
        .exclude(email="")
    )
    return sorted(set(users.values_list("email", flat=True)))


def send_weekly_snapshots(today: dt.date | None = None) -> int:
    """One e-mail per active practice with managers, for last week; returns how many sent."""
    today = today or timezone.localdate()
    week = last_week(today)
    sent = 0
    for practice in Practice.objects.filter(is_active=True).order_by("pk"):
        to = recipients(practice)
        if not to:
            continue
        with transaction.atomic():
            _, created = SnapshotMail.objects.get_or_create(
                practice=practice,
                week_start=week.start,
                defaults={"recipients": len(to), "sent_at": timezone.now()},
            )
            if not created:
                continue
            context = dashboard.build([practice.pk], week, practice_id=practice.pk)
            body = render_to_string(
                "reports/snapshot_email.txt",
                {
                    "practice": practice,
                    "week": week,
                    "tiles": context["tiles"],
                    "url": dashboard_url(practice, week),
                },
            )
            subject = f"KPIs for {practice.name}, week of {week.start:%b %-d}"
            send_mail(subject, body, None, to)
            sent += 1
    return sent
