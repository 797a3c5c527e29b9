"""Every KPI definition on the hand-computed history of ``tests.reports.scenario``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from denials.models import DenialActivity
from eligibility import services as eligibility
from eligibility.choices import CheckMethod, CheckOutcome
from eligibility.results import CheckResult
from practices.choices import AppointmentStatus
from reports import catalogue, kpis
from reports.values import Ratio, Tally, headline
from tests.eligibility.test_day_sheet import at, booked, check_of, tomorrow
from tests.reports import scenario


@pytest.fixture
def history(world: Any) -> dict[str, Any]:
    return scenario.build(world)


def value(key: str, world: Any, start: dt.date | None = None) -> Any:
    today = timezone.localdate()
    per_practice = catalogue.BY_KEY[key].compute([world.sunrise.pk], start or today, today)
    assert per_practice is not None
    return per_practice[world.sunrise.pk]


def test_every_scalar_kpi_to_the_cent(world: Any, history: dict[str, Any]) -> None:
    found = {key: headline(value(key, world)) for key in scenario.EXPECTED}
    assert found == scenario.EXPECTED


def test_ratios_keep_their_parts(world: Any, history: dict[str, Any]) -> None:
    assert value("clean_claim_rate", world) == Ratio(Decimal(4), Decimal(5))
    assert value("first_pass_denial_amount_rate", world) == Ratio(
        Decimal("500.00"), Decimal("1200.00")
    )
    assert value("net_collection_rate", world) == Ratio(Decimal("200.00"), Decimal("220.00"))


def test_aging_and_denial_breakdowns(world: Any, history: dict[str, Any]) -> None:
    assert value("ar_aging_payer", world) == scenario.EXPECTED_AGING
    assert value("ar_aging_patient", world) == scenario.EXPECTED_PATIENT_AGING
    categories = value("denials_by_category", world)
    assert categories == {k: Tally(*v) for k, v in scenario.EXPECTED_CATEGORIES.items()}
    services = value("denials_by_service", world)
    assert services == {k: Tally(*v) for k, v in scenario.EXPECTED_SERVICES.items()}
    assert value("denials_by_payer", world) == {"Example Health Plan": Tally(2, Decimal("600.00"))}
    doc = history["k5"].provider
    provider = f"{doc.first_name} {doc.last_name}"
    assert value("denials_by_provider", world) == {provider: Tally(2, Decimal("600.00"))}


def test_people_figures(world: Any, history: dict[str, Any]) -> None:
    assert value("dollars_resolved_by_staff", world) == {str(world.bill.pk): Decimal("300.00")}
    assert value("overdue_by_owner", world) == {str(world.bill.pk): 1}


def test_response_turnaround_in_days(world: Any, history: dict[str, Any]) -> None:
    """D1 and D2 recorded two days before their first action by a person: 2.00 days."""
    from denials.models import Denial

    for denial in (history["d1"], history["d2"]):
        first = (
            DenialActivity.objects.filter(denial=denial, actor__isnull=False)
            .exclude(kind="created")
            .order_by("at")
            .first()
        )
        assert first is not None
        Denial.objects.filter(pk=denial.pk).update(created_at=first.at - dt.timedelta(days=2))
    today = timezone.localdate()
    found = value("response_turnaround", world, today - dt.timedelta(days=3))
    assert found.den == 2
    assert found.value == Decimal("2.00")


def test_appointments_verified_before_the_day(world: Any) -> None:
    """Two Sunrise visits the day after tomorrow, one verified two days ahead: 50.00 %;
    a cancelled one and Maple's do not count."""
    day = tomorrow() + dt.timedelta(days=1)
    done = booked(world, at(day, 9))
    booked(world, at(day, 10))
    cancelled = booked(world, at(day, 11))
    cancelled.status = AppointmentStatus.CANCELLED
    cancelled.save()
    eligibility.checks_for_upcoming(now=at(day, 8) - dt.timedelta(hours=48))
    eligibility.check_record_result(
        actor=world.fran,
        check=check_of(done),
        result=CheckResult(status=CheckOutcome.ACTIVE, method=CheckMethod.PORTAL),
    )
    found = kpis.eligibility_verified([world.sunrise.pk, world.maple.pk], day, day)
    assert found == {world.sunrise.pk: Ratio(Decimal(1), Decimal(2))}
    assert headline(found[world.sunrise.pk]) == Decimal("50.00")


def test_no_data_yet_is_none_never_zero(world: Any, history: dict[str, Any]) -> None:
    today = timezone.localdate()
    for key in scenario.NO_DATA_YET:
        assert catalogue.BY_KEY[key].compute([world.sunrise.pk], today, today) is None, key


def test_nothing_counted_is_absent_not_zero(world: Any) -> None:
    """A practice with no claims has no clean claim rate (no denominator), not 0 %."""
    today = timezone.localdate()
    assert kpis.clean_claim_rate([world.maple.pk], today, today) == {}
    assert Ratio(Decimal(0), Decimal(0)).value is None


def test_a_range_before_the_history_counts_nothing(world: Any, history: dict[str, Any]) -> None:
    long_ago = timezone.localdate() - dt.timedelta(days=400)
    flows = [kpi for kpi in catalogue.KPIS if not kpi.stock]
    for kpi in flows:
        result = kpi.compute([world.sunrise.pk], long_ago, long_ago)
        assert not result, kpi.key


def test_every_definition_has_its_formula() -> None:
    for kpi in catalogue.KPIS:
        assert "=" in kpi.formula, kpi.key
