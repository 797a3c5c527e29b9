"""Issue 7, point 4: a claim imported without a service date is a draft with a scrub error.
Everything that reads the service date must take one without it: the scrubber, priority,
the queues (sort by age, paging, age filter), reminders, timely filing, search, the API
and the KPIs. Each place here gets an undated draft next to dated claims."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from claims import priority
from claims.choices import ClaimStatus, NextAction, Severity
from claims.models import Claim
from claims.reminders import send_timely_filing_alerts
from claims.services import claim_create, claim_scrub
from reports.catalogue import KPIS
from reports.kpis import unresolved_insurance_requests
from work import reminders as work_reminders
from work import selectors
from work.models import Notification
from work.registry import registry

TODAY = dt.date(2026, 3, 2)


@pytest.fixture
def undated(world: Any, make_claim: Any) -> Claim:
    """An undated draft at Sunrise, as the 837 and CSV imports write one."""
    patient = world.sunrise_patient
    coverage = patient.coverages.get()
    return claim_create(
        actor=world.bill,
        patient=patient,
        coverage=coverage,
        provider=make_claim.provider,
        pms_claim_number="UNDATED-1",
        service_date_from=None,
        lines=[{"procedure_code": "D2740", "charge": Decimal("1200.00"), "tooth": "8"}],
        owner=world.bill,
        next_action=NextAction.REQUEST_INFO_PRACTICE,
        next_action_due=timezone.localdate(),
    )


def in_sunrise(client: Any, world: Any) -> Any:
    session = client.session
    session["practice_id"] = world.sunrise.pk
    session.save()
    return client


def test_scrubber_reports_the_missing_date_and_skips_timely_filing(undated):
    findings = claim_scrub(claim=undated, today=TODAY)
    assert [(f.rule, f.severity) for f in findings] == [("missing_service_date", Severity.ERROR)]
    assert undated.timely_filing_deadline is None


def test_priority_scores_an_undated_draft_without_an_age(undated):
    score = priority.compute(undated, TODAY)
    assert "no service date" in score.reasons
    assert not any(reason.endswith(" old") for reason in score.reasons)
    assert score.score > 0  # the money at stake still counts


def test_nightly_priority_refresh_takes_undated_drafts(undated):
    Claim.objects.filter(pk=undated.pk).update(priority=0, priority_reasons=[])
    assert work_reminders.refresh_priorities(TODAY) >= 1
    undated.refresh_from_db()
    assert undated.priority > 0 and "no service date" in undated.priority_reasons


def test_age_sort_pages_through_undated_claims_last_each_once(world, make_claim, undated):
    today = timezone.localdate()
    dated = [make_claim(service_date_from=today - dt.timedelta(days=d)) for d in (40, 5, 20)]
    second = claim_create(
        actor=world.bill,
        patient=undated.patient,
        coverage=undated.coverage,
        provider=undated.provider,
        pms_claim_number="UNDATED-2",
        service_date_from=None,
        lines=[{"procedure_code": "D1110", "charge": Decimal("95.00")}],
        owner=world.bill,
        next_action=NextAction.REQUEST_INFO_PRACTICE,
        next_action_due=today,
    )
    queue = registry.queue("all-open")
    assert queue is not None
    claims = selectors.queue_queryset(queue, world.bill).filter(practice=world.sunrise)
    seen: list[int] = []
    cursor = None
    for _ in range(10):  # a cursor that restarts the list would loop: bounded
        page = selectors.keyset_page(queue, claims, "age", cursor, 2)
        seen.extend(row.item.pk for row in page.rows)
        cursor = page.next_cursor
        if cursor is None:
            break
    oldest_first = sorted(dated, key=lambda c: c.service_date_from)
    assert seen == [c.pk for c in oldest_first] + [undated.pk, second.pk]


def test_queue_pages_show_an_undated_draft_under_every_sort_and_filter(
    world, client_for, make_claim, undated
):
    make_claim(service_date_from=timezone.localdate() - dt.timedelta(days=45))
    client = in_sunrise(client_for(world.bill), world)
    for sort in ("priority", "due", "amount", "age"):
        page = client.get("/queues/all-open/", {"sort": sort})
        assert page.status_code == 200, sort
        assert undated.pk in [item.pk for item, _why in page.context["rows"]], sort
    # An age bucket is days since the date of service: an undated draft is in none.
    aged = client.get("/queues/all-open/", {"age": "31-60"})
    assert aged.status_code == 200
    assert undated.pk not in [item.pk for item, _why in aged.context["rows"]]
    assert len(aged.context["rows"]) == 1
    my_day = client.get("/queues/my-day/")
    assert undated.pk in [item.pk for item, _why in my_day.context["rows"]]
    assert "no service date" in my_day.content.decode()


def test_reminders_remind_of_the_next_action_but_no_filing_limit(world, undated):
    today = timezone.localdate()
    counts = send_timely_filing_alerts(today)
    assert sum(counts.values()) == 0
    work_reminders.send_next_action_reminders(today)
    notes = Notification.objects.filter(user=world.bill, item_type="claim", item_id=undated.pk)
    assert [undated.pms_claim_number in n.message for n in notes] == [True]


def test_search_and_the_api_answer_an_undated_claim(world, client_for, make_claim, undated):
    make_claim(pms_claim_number="DATED-1")
    client = in_sunrise(client_for(world.bill), world)
    page = client.post("/search/", {"q": "UNDATED-1"})
    assert page.status_code == 200
    assert [c.pk for c in page.context["results"].claims] == [undated.pk]
    body = client.get(f"/api/v1/claims/{undated.pk}/").json()
    assert (body["service_date_from"], body["timely_filing_deadline"]) == (None, None)
    listed = client.get("/api/v1/claims/", {"queue": "all-open"})
    assert listed.status_code == 200
    assert undated.pk in [row["id"] for row in listed.json()["results"]]


def test_every_kpi_takes_an_undated_draft(world, make_claim, undated):
    today = timezone.localdate()
    make_claim(status=ClaimStatus.SUBMITTED, service_date_from=today - dt.timedelta(days=100))
    ids = [world.sunrise.pk]
    for kpi in KPIS:
        kpi.compute(ids, today - dt.timedelta(days=90), today)  # no error on a NULL date
    # Waiting on the practice for the date: an unresolved insurance request.
    # (and the submitted one, waiting on the payer)
    assert unresolved_insurance_requests(ids, today, today)[world.sunrise.pk] == 2


def test_the_kpi_page_renders_with_an_undated_draft(world, client_for, undated):
    client = in_sunrise(client_for(world.sam), world)
    assert client.get("/kpis/").status_code == 200
