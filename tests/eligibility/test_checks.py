"""Eligibility checks: the 72 h beat job (idempotent, reschedules, cancellations, owners),
recording a result (active closes, inactive or needs info asks the patient), the work core
(My day, the Eligibility queue) and the scrubber block on inactive coverage."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from billing_ops.access import has_perm
from claims import scrubber
from claims import services as claim_services
from claims.choices import ClaimStatus
from eligibility import services
from eligibility.choices import ActivityKind, CheckMethod, CheckOutcome, ClosedReason, NextAction
from eligibility.models import EligibilityCheck
from eligibility.results import CheckResult, FrequencyLimit
from eligibility.tasks import open_eligibility_checks
from practices import permissions as perms
from practices import services as practice_services
from practices.choices import AppointmentStatus, CobOrder
from sops.choices import BillingFunctionKind
from sops.models import BillingFunction
from tests import claim_factory, factories
from work.registry import registry
from work.selectors import my_day_of_type, queue_queryset

H = dt.timedelta(hours=1)


def visit(world: Any, starts_at: dt.datetime, *, coverages: int = 1) -> Any:
    """A Sunrise patient with ``coverages`` coverages and one appointment."""
    patient = factories.PatientFactory(practice=world.sunrise)
    for order in (CobOrder.PRIMARY, CobOrder.SECONDARY)[:coverages]:
        factories.CoverageFactory(patient=patient, cob_order=order)
    return factories.AppointmentFactory(patient=patient, starts_at=starts_at)


def active(**extra: Any) -> CheckResult:
    values: dict[str, Any] = {
        "status": CheckOutcome.ACTIVE,
        "method": CheckMethod.PORTAL,
        "plan_name": "PPO Plus",
        "reference": "REF-1",
        "copay": Decimal("25.00"),
        "coinsurance_percent": Decimal("20"),
        "deductible": Decimal("50.00"),
        "deductible_remaining": Decimal("10.00"),
        "annual_max_remaining": Decimal("1200.00"),
        "frequency_limits": (FrequencyLimit("Prophylaxis: 2 per year", "2026-05-14"),),
    }
    values.update(extra)
    return CheckResult(**values)


@pytest.fixture
def eligibility_owner(world: Any) -> Any:
    BillingFunction.objects.create(
        practice=world.sunrise, kind=BillingFunctionKind.ELIGIBILITY, owner=world.vic
    )
    return world.vic


def test_the_job_run_twice_opens_one_check_per_appointment_and_coverage(world, eligibility_owner):
    now = timezone.now()
    appointment = visit(world, now + 48 * H, coverages=2)
    far = visit(world, now + 100 * H)

    first = services.checks_for_upcoming(now=now)
    second = services.checks_for_upcoming(now=now)

    checks = EligibilityCheck.objects.filter(appointment=appointment).order_by(
        "coverage__cob_order"
    )
    assert [c.coverage.cob_order for c in checks] == [CobOrder.PRIMARY, CobOrder.SECONDARY]
    assert first["created"] >= 2 and second["created"] == 0
    assert not EligibilityCheck.objects.filter(appointment=far).exists()
    check = checks[0]
    assert check.owner == world.vic
    assert check.payer_id == check.coverage.payer_id
    assert check.due_at == appointment.starts_at - 72 * H
    assert check.target_at == appointment.starts_at - 24 * H
    assert check.next_action == NextAction.VERIFY
    assert check.status == CheckOutcome.NOT_DONE
    assert check.activities.get().kind == ActivityKind.CREATED


def test_the_task_runs_the_job(world, eligibility_owner):
    now = timezone.now()
    appointment = visit(world, now + 30 * H)
    counts = open_eligibility_checks.run(now=now.isoformat())
    assert counts["created"] >= 1
    assert EligibilityCheck.objects.filter(appointment=appointment).count() == 1


def test_without_an_eligibility_function_the_first_verifier_owns(world):
    now = timezone.now()
    appointment = visit(world, now + 30 * H)
    services.checks_for_upcoming(now=now)
    check = EligibilityCheck.objects.get(appointment=appointment)
    assert check.owner is not None and not check.owner.is_superuser
    assert has_perm(check.owner, perms.VERIFY_ELIGIBILITY, world.sunrise.pk)


def test_a_check_shows_in_my_day_and_the_eligibility_queue(world, eligibility_owner):
    now = timezone.now()
    appointment = visit(world, now + 30 * H)
    services.checks_for_upcoming(now=now)
    check = EligibilityCheck.objects.get(appointment=appointment)
    item_type = registry.type("eligibility")
    today = timezone.localdate()
    assert check in my_day_of_type(item_type, world.vic, today)
    queue = registry.queue("eligibility")
    assert queue is not None
    assert check in queue_queryset(queue, world.fran, today)
    assert check not in queue_queryset(queue, world.vera, today)  # no verification area
    assert check not in queue_queryset(queue, world.mia, today)  # the other practice


def test_a_rescheduled_appointment_moves_its_check(world, eligibility_owner):
    now = timezone.now()
    appointment = visit(world, now + 30 * H)
    services.checks_for_upcoming(now=now)
    later = appointment.starts_at + dt.timedelta(days=5)
    practice_services.appointment_save(actor=world.fran, appointment=appointment, starts_at=later)

    counts = services.checks_for_upcoming(now=now)
    again = services.checks_for_upcoming(now=now)

    check = EligibilityCheck.objects.get(appointment=appointment)
    assert counts["moved"] == 1 and again["moved"] == 0
    assert check.due_at == later - 72 * H
    assert check.target_at == later - 24 * H
    assert check.next_action_due == timezone.localtime(later - 72 * H).date()
    assert check.activities.filter(kind=ActivityKind.MOVED).count() == 1


def test_a_cancelled_appointment_closes_its_check(world, eligibility_owner):
    now = timezone.now()
    appointment = visit(world, now + 30 * H)
    services.checks_for_upcoming(now=now)
    practice_services.appointment_cancel(actor=world.fran, appointment=appointment)

    counts = services.checks_for_upcoming(now=now)

    check = EligibilityCheck.objects.get(appointment=appointment)
    assert counts["closed"] == 1
    assert not check.is_open
    assert check.closed_reason == ClosedReason.CANCELLED
    assert check.next_action == "" and check.next_action_due is None
    assert services.checks_for_upcoming(now=now)["closed"] == 0
    with pytest.raises(ValidationError):
        services.check_record_result(actor=world.fran, check=check, result=active())


def test_active_closes_the_check_with_its_result(world, eligibility_owner):
    now = timezone.now()
    appointment = visit(world, now + 30 * H)
    services.checks_for_upcoming(now=now)
    check = EligibilityCheck.objects.get(appointment=appointment)

    check = services.check_record_result(actor=world.fran, check=check, result=active())

    check.refresh_from_db()
    assert not check.is_open and check.closed_reason == ClosedReason.VERIFIED
    assert check.status == CheckOutcome.ACTIVE
    assert check.copay == Decimal("25.00")
    assert check.deductible_remaining == Decimal("10.00")
    assert check.frequency_limits == [
        {"description": "Prophylaxis: 2 per year", "last_done": "2026-05-14"}
    ]
    assert check.verified_by == world.fran and check.verified_at is not None
    assert check.history.first().history_user == world.fran
    assert "PPO Plus" in check.activities.get(kind=ActivityKind.RESULT).text


@pytest.mark.parametrize("outcome", [CheckOutcome.INACTIVE, CheckOutcome.NEEDS_INFO])
def test_a_problem_asks_the_patient_and_flags_the_appointment(world, eligibility_owner, outcome):
    now = timezone.now()
    appointment = visit(world, now + 30 * H)
    services.checks_for_upcoming(now=now)
    check = EligibilityCheck.objects.get(appointment=appointment)

    result = CheckResult(
        status=outcome, method=CheckMethod.PHONE, problems=("Subscriber not found",)
    )
    check = services.check_record_result(actor=world.fran, check=check, result=result)

    check.refresh_from_db()
    assert check.is_open
    assert check.next_action == NextAction.REQUEST_INFO_PATIENT
    assert check.next_action_due == timezone.localdate()
    assert check.flags_appointment
    assert check.problems == ["Subscriber not found"]
    assert EligibilityCheck.objects.filter(services.problem_checks(), pk=check.pk).exists()
    # Verified active later: the flag goes, the check closes.
    check = services.check_record_result(actor=world.fran, check=check, result=active())
    assert not check.flags_appointment and not check.is_open


def test_a_result_needs_the_verification_permission_and_valid_values(world, eligibility_owner):
    now = timezone.now()
    appointment = visit(world, now + 30 * H)
    services.checks_for_upcoming(now=now)
    check = EligibilityCheck.objects.get(appointment=appointment)
    with pytest.raises(PermissionDenied):
        services.check_record_result(actor=world.vera, check=check, result=active())
    with pytest.raises(ValidationError):
        services.check_record_result(
            actor=world.fran, check=check, result=active(status=CheckOutcome.NOT_DONE)
        )
    with pytest.raises(ValidationError):
        services.check_record_result(
            actor=world.fran, check=check, result=active(deductible_remaining=Decimal("99"))
        )
    check.refresh_from_db()
    assert check.status == CheckOutcome.NOT_DONE and check.is_open


def _claim_for(world: Any, appointment: Any) -> Any:
    coverage = appointment.patient.coverages.get()
    return claim_factory.make(
        actor=world.bill,
        patient=appointment.patient,
        coverage=coverage,
        provider=appointment.provider,
        number=f"E{appointment.pk:05d}",
        owner=world.bill,
        service_date_from=timezone.localtime(appointment.starts_at).date(),
    )


def test_inactive_coverage_at_verification_blocks_ready(world, eligibility_owner):
    starts_at = timezone.now() - dt.timedelta(days=3)
    appointment = visit(world, starts_at)
    services.checks_for_upcoming(now=starts_at - 30 * H)
    check = EligibilityCheck.objects.get(appointment=appointment)
    result = CheckResult(
        status=CheckOutcome.INACTIVE, method=CheckMethod.X12_271, reference="TRN-77"
    )
    services.check_record_result(actor=world.fran, check=check, result=result)
    claim = _claim_for(world, appointment)

    findings = {f.rule: f for f in scrubber.scrub(claim)}
    assert findings["inactive_at_verification"].severity == "error"
    assert check.number in findings["inactive_at_verification"].message
    with pytest.raises(ValidationError) as exc:
        claim_services.claim_transition(actor=world.bill, claim=claim, to_status=ClaimStatus.READY)
    assert check.number in str(exc.value)

    # Verified again, active: the claim may go ready.
    check.refresh_from_db()
    services.check_record_result(actor=world.fran, check=check, result=active())
    claim.refresh_from_db()
    assert "inactive_at_verification" not in {f.rule for f in scrubber.scrub(claim)}
    claim = claim_services.claim_transition(
        actor=world.bill, claim=claim, to_status=ClaimStatus.READY
    )
    assert claim.status == ClaimStatus.READY


def test_a_claim_of_another_visit_is_not_blocked(world, eligibility_owner):
    starts_at = timezone.now() - dt.timedelta(days=3)
    appointment = visit(world, starts_at)
    services.checks_for_upcoming(now=starts_at - 30 * H)
    check = EligibilityCheck.objects.get(appointment=appointment)
    result = CheckResult(status=CheckOutcome.INACTIVE, method=CheckMethod.PHONE)
    services.check_record_result(actor=world.fran, check=check, result=result)
    other_day = appointment.starts_at - dt.timedelta(days=7)
    claim = claim_factory.make(
        actor=world.bill,
        patient=appointment.patient,
        coverage=appointment.patient.coverages.get(),
        provider=appointment.provider,
        number="OTHER1",
        owner=world.bill,
        service_date_from=timezone.localtime(other_day).date(),
    )
    assert "inactive_at_verification" not in {f.rule for f in scrubber.scrub(claim)}


def test_cancelling_needs_edit_rights_and_a_scheduled_appointment(world):
    appointment = visit(world, timezone.now() + 30 * H)
    with pytest.raises(PermissionDenied):
        practice_services.appointment_cancel(actor=world.vic, appointment=appointment)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.SCHEDULED
    practice_services.appointment_save(
        actor=world.fran, appointment=appointment, status=AppointmentStatus.COMPLETED
    )
    with pytest.raises(ValidationError):
        practice_services.appointment_cancel(actor=world.fran, appointment=appointment)
