"""The day sheet (rows, statuses, copay and estimated patient share, constant queries),
the front desk's landing page, the check page's form, the checks API and the appointment
writes that move and close checks, and the "verified before the day" figure."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from claims.models import PayerRule
from eligibility import selectors, services
from eligibility.choices import CheckMethod, CheckOutcome, NextAction
from eligibility.models import EligibilityCheck
from eligibility.results import CheckResult
from practices.choices import AppointmentStatus
from practices.models import FeeScheduleLine
from tests import factories

H = dt.timedelta(hours=1)


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=timezone.get_current_timezone())


def tomorrow() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=1)


def booked(world: Any, starts_at: dt.datetime, codes: list[str] | None = None, **cov: Any) -> Any:
    patient = factories.PatientFactory(practice=world.sunrise)
    factories.CoverageFactory(patient=patient, **cov)
    return factories.AppointmentFactory(
        patient=patient, starts_at=starts_at, planned_procedures=codes or ["D1110"]
    )


def check_of(appointment: Any) -> EligibilityCheck:
    return EligibilityCheck.objects.get(appointment=appointment)


def test_patient_share_adds_copay_deductible_coinsurance_and_what_the_maximum_leaves():
    check = EligibilityCheck(
        status=CheckOutcome.ACTIVE,
        copay=Decimal("10.00"),
        deductible_remaining=Decimal("50.00"),
        coinsurance_percent=Decimal("20"),
        annual_max_remaining=Decimal("100.00"),
    )
    # $300 allowed: $50 deductible, 20 % of $250 = $50, the payer's $200 capped at $100.
    assert selectors.patient_share(check, Decimal("300.00")) == Decimal("210.00")
    check.annual_max_remaining = None
    assert selectors.patient_share(check, Decimal("300.00")) == Decimal("110.00")
    assert selectors.patient_share(check, None) is None
    check.status = CheckOutcome.NEEDS_INFO
    assert selectors.patient_share(check, Decimal("300.00")) is None


def test_day_sheet_rows_show_status_copay_share_and_flags(world):
    day = tomorrow()
    verified = booked(world, at(day, 9), ["D1110", "D0120"])
    problem = booked(world, at(day, 10))
    pending = booked(world, at(day, 11))
    later = booked(world, at(day + dt.timedelta(days=5), 9))  # check opens later
    self_pay = factories.AppointmentFactory(
        patient=factories.PatientFactory(practice=world.sunrise), starts_at=at(day, 12)
    )
    payer = verified.patient.coverages.get().payer
    for code, amount in (("D1110", "100.00"), ("D0120", "50.00")):
        FeeScheduleLine.objects.create(
            practice=world.sunrise,
            payer=payer,
            procedure_code=code,
            allowed_amount=Decimal(amount),
            effective_from=day - dt.timedelta(days=30),
        )
    services.checks_for_upcoming(now=at(day, 8) - 48 * H)
    services.check_record_result(
        actor=world.fran,
        check=check_of(verified),
        result=CheckResult(
            status=CheckOutcome.ACTIVE,
            method=CheckMethod.PORTAL,
            copay=Decimal("15.00"),
            coinsurance_percent=Decimal("20"),
            deductible_remaining=Decimal("0"),
        ),
    )
    services.check_record_result(
        actor=world.fran,
        check=check_of(problem),
        result=CheckResult(status=CheckOutcome.INACTIVE, method=CheckMethod.PHONE),
    )

    rows = {r.appointment.pk: r for r in selectors.day_sheet([world.sunrise.pk], day, 7)}

    assert rows[verified.pk].status == CheckOutcome.ACTIVE
    assert rows[verified.pk].copay == Decimal("15.00")
    assert rows[verified.pk].patient_share == Decimal("45.00")  # 15 + 20 % of 150
    assert not rows[verified.pk].flagged
    assert rows[problem.pk].status == CheckOutcome.INACTIVE and rows[problem.pk].flagged
    assert rows[pending.pk].status == CheckOutcome.NOT_DONE
    assert rows[later.pk].status == CheckOutcome.NOT_DONE and not rows[later.pk].checks
    assert rows[self_pay.pk].status == "" and rows[self_pay.pk].status_label == "No coverage"


def test_day_sheet_queries_do_not_grow_with_rows(world, client_for):
    day = tomorrow()

    def measure() -> int:
        client = client_for(world.fran)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"/day-sheet/?start={day:%Y-%m-%d}&days=3")
        assert response.status_code == 200
        return len(ctx.captured_queries)

    for hour in (8, 9):
        booked(world, at(day, hour), ["D1110", "D0120"])
    services.checks_for_upcoming(now=at(day, 7) - 48 * H)
    few = measure()
    for hour in range(10, 17):
        booked(world, at(day, hour), ["D1110", "D2740"])
    services.checks_for_upcoming(now=at(day, 7) - 48 * H)
    many = measure()
    assert EligibilityCheck.objects.filter(appointment__starts_at__date=day).count() == 9
    assert many == few


def test_day_sheet_shows_the_open_balance_to_those_who_work_patient_balances(world, client_for):
    from ar import ledger

    day = tomorrow()
    owing = booked(world, at(day, 9), ["D1110"])
    settled = booked(world, at(day, 10), ["D1110"])
    account = ledger.account_for(actor=world.fran, patient=owing.patient)
    ledger.ledger_post(actor=world.fran, account=account, kind="charge", amount="82.50")
    ledger.account_for(actor=world.fran, patient=settled.patient)  # an account, no balance
    url = f"/day-sheet/?start={day:%Y-%m-%d}&days=1"

    html = client_for(world.fran).get(url).text
    assert '<th class="text-end">Balance</th>' in html
    assert html.count('class="text-end balance">$82.50<') == 1
    assert html.count('class="text-end balance">—<') == 1
    # Vendor staff who verify eligibility but do not work patient balances: no column.
    html = client_for(world.vic).get(url).text
    assert owing.patient.last_name in html
    assert "Balance</th>" not in html and "82.50" not in html


def test_cancelled_appointments_leave_the_day_sheet(world, client_for):
    appointment = booked(world, at(tomorrow(), 9))
    response = client_for(world.fran).get("/day-sheet/")
    assert f"appt-{appointment.pk}" in response.text
    appointment.status = AppointmentStatus.CANCELLED
    appointment.save()
    response = client_for(world.fran).get("/day-sheet/")
    assert f"appt-{appointment.pk}" not in response.text


def test_the_front_desk_lands_on_the_day_sheet(world, client_for):
    assert client_for(world.fran).get("/")["Location"] == "/day-sheet/"
    assert client_for(world.vic).get("/")["Location"] == "/day-sheet/"


def test_the_check_page_records_a_result_and_returns_to_the_day_sheet(world, client_for):
    appointment = booked(world, timezone.now() + 30 * H)
    services.checks_for_upcoming(now=timezone.now())
    check = check_of(appointment)
    client = client_for(world.fran)
    page = client.get(f"/eligibility/checks/{check.pk}/?next=/day-sheet/")
    assert page.status_code == 200 and "Record the result" in page.text

    response = client.post(
        f"/eligibility/checks/{check.pk}/",
        {
            "version": check.version,
            "status": CheckOutcome.NEEDS_INFO,
            "method": CheckMethod.PHONE,
            "problems": "Subscriber not found",
            "frequency_limits": "Bitewings: 1 per year | 2026-02-01",
            "next": "/day-sheet/",
        },
    )

    assert response.status_code == 302 and response["Location"] == "/day-sheet/"
    check.refresh_from_db()
    assert check.status == CheckOutcome.NEEDS_INFO
    assert check.next_action == NextAction.REQUEST_INFO_PATIENT
    assert check.frequency_limits == [
        {"description": "Bitewings: 1 per year", "last_done": "2026-02-01"}
    ]
    # A stale version is refused and changes nothing.
    stale = client.post(
        f"/eligibility/checks/{check.pk}/",
        {"version": check.version - 1, "status": CheckOutcome.ACTIVE, "method": "portal"},
    )
    assert stale.status_code == 409
    check.refresh_from_db()
    assert check.status == CheckOutcome.NEEDS_INFO
    # A problem without saying what: the form asks for it.
    vague = client.post(
        f"/eligibility/checks/{check.pk}/",
        {"version": check.version, "status": CheckOutcome.INACTIVE, "method": "portal"},
    )
    assert vague.status_code == 400
    check.refresh_from_db()
    assert check.status == CheckOutcome.NEEDS_INFO


def test_api_lists_checks_of_a_day_and_patch_records_a_result(world, client_for):
    day = tomorrow()
    first = booked(world, at(day, 9))
    other_day = booked(world, at(day + dt.timedelta(days=1), 9))
    services.checks_for_upcoming(now=at(day, 8) - 40 * H)
    client = client_for(world.vic)

    listed = client.get(f"/api/v1/eligibility-checks/?appointment_date={day:%Y-%m-%d}").json()
    ids = {row["id"] for row in listed["results"]}
    assert check_of(first).pk in ids
    assert not EligibilityCheck.objects.filter(appointment=other_day, pk__in=ids).exists()

    check = check_of(first)
    response = client.patch(
        f"/api/v1/eligibility-checks/{check.pk}/",
        {
            "version": check.version,
            "status": "active",
            "method": "x12_271",
            "copay": "30.00",
            "frequency_limits": [{"description": "Exam: 2 per year"}],
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "active" and body["is_open"] is False
    assert body["copay"] == "30.00"
    assert body["verified_by"] == world.vic.pk
    stale = client.patch(
        f"/api/v1/eligibility-checks/{check.pk}/",
        {"version": check.version, "status": "inactive", "method": "phone"},
        content_type="application/json",
    )
    assert stale.status_code == 409
    check.refresh_from_db()
    assert check.status == CheckOutcome.ACTIVE


def test_appointments_api_reschedule_and_cancel_move_and_close_checks(world, client_for):
    appointment = booked(world, timezone.now() + 30 * H)
    services.checks_for_upcoming(now=timezone.now())
    client = client_for(world.fran)
    new_time = appointment.starts_at + dt.timedelta(days=2)

    moved = client.patch(
        f"/api/v1/appointments/{appointment.pk}/",
        {"starts_at": new_time.isoformat()},
        content_type="application/json",
    )
    assert moved.status_code == 200, moved.content
    assert services.checks_for_upcoming(now=timezone.now())["moved"] == 1
    assert check_of(appointment).due_at == new_time - 72 * H

    cancelled = client.post(f"/api/v1/appointments/{appointment.pk}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert services.checks_for_upcoming(now=timezone.now())["closed"] == 1
    assert not check_of(appointment).is_open

    created = client.post(
        "/api/v1/appointments/",
        {
            "patient": appointment.patient_id,
            "provider": appointment.provider_id,
            "starts_at": (timezone.now() + 20 * H).isoformat(),
            "planned_procedures": ["D0120"],
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    new = created.json()
    assert new["practice"] == world.sunrise.pk and new["status"] == "scheduled"
    assert services.checks_for_upcoming(now=timezone.now())["created"] == 1
    assert EligibilityCheck.objects.filter(appointment_id=new["id"]).count() == 1


@pytest.mark.parametrize("when", ["before", "on the day"])
def test_verified_before_service_counts_from_stored_data(world, when):
    day = tomorrow() + dt.timedelta(days=1)
    done = booked(world, at(day, 9))
    booked(world, at(day, 10))  # never verified
    cancelled = booked(world, at(day, 11))
    cancelled.status = AppointmentStatus.CANCELLED
    cancelled.save()
    services.checks_for_upcoming(now=at(day, 8) - 48 * H)
    check = check_of(done)
    services.check_record_result(
        actor=world.fran,
        check=check,
        result=CheckResult(status=CheckOutcome.ACTIVE, method=CheckMethod.PORTAL),
    )
    if when == "on the day":
        EligibilityCheck.objects.filter(pk=check.pk).update(verified_at=at(day, 7))

    figures = selectors.verified_before_service([world.sunrise.pk], day, day)

    assert figures == [(world.sunrise.pk, day, 2, 1 if when == "before" else 0)]
    assert selectors.verified_before_service([world.maple.pk], day, day) == []


def test_the_prior_auth_column_shows_a_visit_that_needs_one(world, client_for):
    crown = booked(world, at(tomorrow(), 9), ["D2740"])
    cleaning = booked(world, at(tomorrow(), 10), ["D1110"])
    PayerRule.objects.create(
        practice=world.sunrise,
        payer=crown.patient.coverages.get().payer,
        procedure_code_pattern="D27*",
        needs_authorization=True,
        description="Crowns need a prior authorization.",
    )
    rows = {r.appointment.pk: r for r in selectors.day_sheet([world.sunrise.pk], tomorrow(), 1)}
    assert rows[crown.pk].auth_status == "needed"
    assert rows[cleaning.pk].auth_status == ""
    page = client_for(world.fran).get("/day-sheet/")
    assert "Prior auth" in page.text
