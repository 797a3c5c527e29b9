"""Daily snapshots: idempotent per (practice, day), vendor sums, backfill, the nightly task,
and a query count that does not grow with the number of claims."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports import rollups, tasks
from reports.models import PracticeDay, VendorDay
from reports.values import headline, load
from tests import claim_factory, factories
from tests.reports import scenario


def _stored(practice: Any, day: dt.date) -> dict[str, Any]:
    row = PracticeDay.objects.get(practice=practice, day=day)
    return {key: load(value) for key, value in row.figures.items()}


def test_rollup_stores_the_hand_computed_figures_and_is_idempotent(world: Any) -> None:
    scenario.build(world)
    today = timezone.localdate()
    assert rollups.rollup_day(day=today) == 2  # Sunrise and Maple
    first = list(PracticeDay.objects.order_by("pk").values("pk", "practice_id", "day", "figures"))
    assert rollups.rollup_day(day=today) == 2
    again = list(PracticeDay.objects.order_by("pk").values("pk", "practice_id", "day", "figures"))
    assert again == first  # same rows, same ids, same figures
    stored = _stored(world.sunrise, today)
    assert {key: headline(stored[key]) for key in scenario.EXPECTED} == scenario.EXPECTED
    for key in scenario.NO_DATA_YET:
        assert stored[key] is None, key
    assert stored["ar_aging_payer"] == scenario.EXPECTED_AGING


def test_vendor_row_sums_its_practices(world: Any) -> None:
    scenario.build(world)
    patient = world.maple_patient
    payer = factories.PayerFactory(practice=world.maple, timely_filing_days=365)
    claim_factory.make(
        actor=world.mia,
        patient=patient,
        coverage=factories.CoverageFactory(patient=patient, payer=payer),
        provider=factories.ProviderFactory(practice=world.maple),
        number="M1",
        owner=world.mia,
        status="accepted",
        service_date_from=timezone.localdate() - dt.timedelta(days=2),
        lines=[{"procedure_code": "99213", "charge": Decimal("999.00")}],
    )
    today = timezone.localdate()
    rollups.rollup_day(day=today)
    vendor = VendorDay.objects.get(day=today)
    figures = {key: load(value) for key, value in vendor.figures.items()}
    assert sorted(vendor.practice_ids) == sorted([world.sunrise.pk, world.maple.pk])
    assert figures["claims_submitted"] == 6
    assert figures["ar_aging_payer"]["0-30"] == Decimal("1099.00")
    # 5 accepted first time out of 6 answered; K2 was rejected.
    assert headline(figures["clean_claim_rate"]) == Decimal("83.33")
    assert _stored(world.maple, today)["claims_submitted"] == 1


def test_backfill_command_writes_one_row_per_practice_and_day(world: Any) -> None:
    today = timezone.localdate()
    start = today - dt.timedelta(days=4)
    out = StringIO()
    args = ["--from", start.isoformat(), "--to", today.isoformat()]
    call_command("backfill_kpis", *args, "--practice", str(world.sunrise.pk), stdout=out)
    assert "Wrote 5 practice-day rows over 5 day(s)." in out.getvalue()
    assert PracticeDay.objects.filter(practice=world.sunrise).count() == 5
    assert not PracticeDay.objects.filter(practice=world.maple).exists()
    call_command("backfill_kpis", *args, stdout=StringIO())  # all practices, run again
    assert PracticeDay.objects.count() == 10
    with pytest.raises(CommandError, match="must not be after"):
        call_command("backfill_kpis", "--from", today.isoformat(), "--to", start.isoformat())
    with pytest.raises(CommandError, match="No practice with id 999999"):
        call_command("backfill_kpis", *args, "--practice", "999999")


def test_nightly_task_writes_yesterday_and_today_twice_harmlessly(world: Any) -> None:
    today = timezone.localdate()
    assert tasks.rollup_kpis.run(on=today.isoformat()) == 4
    assert tasks.rollup_kpis.run(on=today.isoformat()) == 4
    days = sorted(set(PracticeDay.objects.values_list("day", flat=True)))
    assert days == [today - dt.timedelta(days=1), today]
    assert PracticeDay.objects.count() == 4


def _claims(world: Any, count: int, start: int) -> None:
    payer = factories.PayerFactory(practice=world.sunrise, timely_filing_days=365)
    provider = factories.ProviderFactory(practice=world.sunrise)
    for n in range(start, start + count):
        patient = factories.PatientFactory(practice=world.sunrise)
        claim_factory.make(
            actor=world.bill,
            patient=patient,
            coverage=factories.CoverageFactory(patient=patient, payer=payer),
            provider=provider,
            number=f"Q{n}",
            owner=world.bill,
            status="accepted",
        )


def test_query_count_does_not_grow_with_claims(world: Any) -> None:
    today = timezone.localdate()
    _claims(world, 2, 0)
    with CaptureQueriesContext(connection) as few:
        rollups.rollup_day(day=today)
    _claims(world, 8, 2)
    with CaptureQueriesContext(connection) as many:
        rollups.rollup_day(day=today)
    assert _stored(world.sunrise, today)["claims_submitted"] == 10
    assert len(many.captured_queries) == len(few.captured_queries)
