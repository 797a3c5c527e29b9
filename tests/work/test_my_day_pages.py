"""My day and queue pages in the daily loop (issue 9): a lead's list over all her practices
with a practice column, counts that agree with the list, previous/position/total paging,
the managers' "needs you" panel, the card layout's labels and a styled filter panel."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone

from claims.models import Claim
from practices import services as practice_services
from practices.choices import ClaimFormat
from practices.models import Assignment
from tests import claim_factory, factories
from work import views as work_views
from work.choices import NotificationKind
from work.models import Notification


@pytest.fixture
def today() -> dt.date:
    return timezone.localdate()


def _claims(world: Any, practice: Any, owner: Any, count: int, prefix: str) -> list[Claim]:
    payer = factories.PayerFactory(
        practice=practice, claim_format=ClaimFormat.DENTAL, timely_filing_days=365
    )
    provider = factories.ProviderFactory(practice=practice)
    made = []
    for n in range(count):
        patient = factories.PatientFactory(practice=practice)
        made.append(
            claim_factory.make(
                actor=owner,
                patient=patient,
                coverage=factories.CoverageFactory(patient=patient, payer=payer),
                provider=provider,
                number=f"{prefix}-{n}",
                owner=owner,
            )
        )
    return made


def _listed(html: str) -> set[str]:
    return set(re.findall(r'class="mono">((?:SUN|MAP)-\d+)</a>', html))


def _count(html: str) -> int:
    return int(re.search(r'id="my-day-counts"><strong>(\d+)</strong>', html).group(1))


def test_a_lead_sees_all_her_practices_in_one_list_and_counts_agree(world, client_for):
    _claims(world, world.sunrise, world.val, 3, "SUN")
    _claims(world, world.maple, world.val, 2, "MAP")
    client = client_for(world.val)
    session = client.session
    session["practice_id"] = world.sunrise.pk
    session.save()
    one = client.get("/queues/my-day/").text
    assert _listed(one) == {"SUN-0", "SUN-1", "SUN-2"} and _count(one) == 3
    assert "All my practices" in one
    every = client.get("/queues/my-day/?practices=all").text
    assert _listed(every) == {"SUN-0", "SUN-1", "SUN-2", "MAP-0", "MAP-1"}
    assert _count(every) == 5
    assert "<th>Practice</th>" in every
    assert 'data-label="Practice">Maple Family Medicine<' in every


def test_one_practice_people_get_no_choice(world, client_for):
    _claims(world, world.sunrise, world.bill, 1, "SUN")
    html = client_for(world.bill).get("/queues/my-day/?practices=all").text
    assert "All my practices" not in html and "<th>Practice</th>" not in html
    assert _listed(html) == {"SUN-0"}


def test_pages_go_forward_and_back_with_position_and_total(world, client_for, monkeypatch):
    monkeypatch.setattr(work_views, "PAGE_SIZE", 2)
    _claims(world, world.sunrise, world.bill, 5, "SUN")
    client = client_for(world.bill)
    first = client.get("/queues/all-open/").text
    assert "1–2 of 5" in first and "Previous" not in first
    next_url = re.search(r'href="(\?[^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = client.get(f"/queues/all-open/{next_url}").text
    assert "3–4 of 5" in second
    prev_url = re.search(r'href="(\?[^"]*)" rel="prev"', second).group(1).replace("&amp;", "&")
    third_url = re.search(r'href="(\?[^"]+)" rel="next"', second).group(1).replace("&amp;", "&")
    third = client.get(f"/queues/all-open/{third_url}").text
    assert "5–5 of 5" in third and 'rel="next"' not in third
    assert _listed(client.get(f"/queues/all-open/{prev_url}").text) == _listed(first)
    seen = _listed(first) | _listed(second) | _listed(third)
    assert len(seen) == 5


def test_the_filter_panel_uses_bootstrap_controls(world, client_for):
    html = client_for(world.bill).get("/queues/all-open/filters/").text
    panel = html[html.index('id="queue-filters"') :]
    assert 'class="form-select form-select-sm"' in panel
    assert 'class="form-control form-control-sm"' in panel


def test_managers_landing_page_says_what_needs_them(world, client_for, today):
    staff = Assignment.objects.get(staff__user=world.vera)
    practice_services.assignment_set(
        actor=world.sam,
        staff=staff.staff,
        engagement=staff.engagement,
        service_areas=staff.service_areas,
        ends_on=today + dt.timedelta(days=5),
    )
    Notification.objects.create(
        user=world.sam,
        practice=world.sunrise,
        kind=NotificationKind.ESCALATION,
        message="C1 is 3 days past turnaround",
        for_date=today,
        dedupe_key="test-escalation-1",
    )
    # The manager lands on the KPI dashboard; the panel is there and on My day.
    landing = client_for(world.sam).get("/", follow=True)
    assert landing.redirect_chain[-1][0].startswith("/kpis/")
    for html in (landing.text, client_for(world.sam).get("/queues/my-day/").text):
        panel = html[html.index('id="needs-you"') :]
        assert "1 escalation unread" in panel
        assert "1 vendor assignment ending in 14 days" in panel
        assert "0 adjustments awaiting approval" in panel
        assert 'href="/queues/approvals/"' in panel
        assert 'href="/queues/owners/"' in panel
    # billers get no such panel
    assert 'id="needs-you"' not in client_for(world.bill).get("/queues/my-day/").text


def test_rows_carry_the_queue_key_and_card_labels(world, client_for):
    claim = _claims(world, world.sunrise, world.bill, 1, "SUN")[0]
    html = client_for(world.bill).get("/queues/my-day/").text
    assert f'href="/claims/{claim.pk}/?from=my-day"' in html
    for label in ("Next action", "Owner", "Billed", "Why here"):
        assert f'data-label="{label}"' in html
    assert "queue-cards" in html
