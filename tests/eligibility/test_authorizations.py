"""Prior authorizations: status rules and next actions, units, renewal, the expiry and
low-units alerts (run twice: one alert), the scrub rule and the day sheet's status."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from claims.models import PayerRule
from claims.scrubber import scrub
from eligibility.auth_models import AuthNextAction, AuthStatus, PriorAuthorization
from eligibility.auth_tasks import prior_authorization_alerts
from eligibility.authorizations import (
    appointment_auth_status,
    authorization_create,
    authorization_renew,
    authorization_update,
    authorization_use_units,
    authorizations_sweep,
)
from practices.choices import ClaimFormat
from sops.choices import BillingFunctionKind
from sops.models import BillingFunction
from tests import claim_factory, factories
from work.choices import NotificationKind
from work.models import Notification
from work.selectors import my_day_page

pytestmark = pytest.mark.django_db


def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture
def setup(world: Any) -> Any:
    """A Sunrise payer that wants authorization for crowns (D27*), a patient covered by it."""
    payer = factories.PayerFactory(
        practice=world.sunrise, name="Delta Dental", claim_format=ClaimFormat.DENTAL
    )
    PayerRule.objects.create(
        practice=world.sunrise,
        payer=payer,
        procedure_code_pattern="D27*",
        needs_authorization=True,
        description="Crowns need a prior authorization.",
    )
    patient = factories.PatientFactory(practice=world.sunrise, last_name="Crowner")
    coverage = factories.CoverageFactory(patient=patient, payer=payer)
    return payer, patient, coverage


def approved(world: Any, payer: Any, patient: Any, **extra: Any) -> PriorAuthorization:
    fields: dict[str, Any] = {
        "status": AuthStatus.APPROVED,
        "number": "PA-778899",
        "valid_from": today() - dt.timedelta(days=10),
        "valid_to": today() + dt.timedelta(days=60),
        "units_approved": 2,
    }
    fields.update(extra)
    return authorization_create(
        actor=world.fran, patient=patient, payer=payer, procedure_codes=["d2740"], **fields
    )


def test_owner_is_the_eligibility_function_holder_and_next_actions_follow_status(
    world: Any, setup: Any
) -> None:
    payer, patient, _ = setup
    BillingFunction.objects.create(
        practice=world.sunrise, kind=BillingFunctionKind.ELIGIBILITY, owner=world.vic
    )
    item = authorization_create(
        actor=world.fran, patient=patient, payer=payer, procedure_codes=["D2740", "d2950"]
    )
    assert (item.owner, item.status, item.procedure_codes) == (
        world.vic,
        AuthStatus.NEEDED,
        ["D2740", "D2950"],
    )
    assert (item.next_action, item.next_action_due) == (AuthNextAction.REQUEST, today())
    page = my_day_page(world.vic, None, None, 50)
    assert [row.item.pk for row in page.rows if row.item_type.key == "prior_auth"] == [item.pk]

    item = authorization_update(
        actor=world.vic,
        authorization=item,
        status=AuthStatus.REQUESTED,
        expected_version=item.version,
    )
    assert item.next_action == AuthNextAction.FOLLOW_UP
    assert item.next_action_due == today() + dt.timedelta(days=7)
    assert item.requested_on == today()

    with pytest.raises(ValidationError) as refused:
        authorization_update(actor=world.vic, authorization=item, status=AuthStatus.APPROVED)
    assert {"number", "valid_to", "units_approved"} <= set(refused.value.message_dict)

    valid_to = today() + dt.timedelta(days=90)
    item = authorization_update(
        actor=world.vic,
        authorization=item,
        status=AuthStatus.APPROVED,
        number="A1",
        valid_from=today(),
        valid_to=valid_to,
        units_approved=4,
    )
    assert item.next_action == AuthNextAction.RENEW
    assert item.next_action_due == valid_to - dt.timedelta(days=14)
    assert item.is_open
    kinds = list(item.activities.values_list("kind", flat=True))
    assert kinds.count("status") == 2 and "created" in kinds


def test_status_rules_refuse_going_back_and_denied_closes(world: Any, setup: Any) -> None:
    payer, patient, _ = setup
    item = approved(world, payer, patient)
    with pytest.raises(ValidationError):
        authorization_update(actor=world.fran, authorization=item, status=AuthStatus.REQUESTED)
    needed = authorization_create(
        actor=world.fran, patient=patient, payer=payer, procedure_codes=["D2750"]
    )
    denied = authorization_update(actor=world.fran, authorization=needed, status=AuthStatus.DENIED)
    assert (denied.is_open, denied.next_action, denied.closed_reason) == (False, "", "denied")
    with pytest.raises(ValidationError):
        authorization_update(actor=world.fran, authorization=denied, status=AuthStatus.APPROVED)
    # Somebody who may not verify eligibility at Sunrise (vera: insurance billing only).
    with pytest.raises(Exception) as other:
        authorization_create(
            actor=world.vera, patient=patient, payer=payer, procedure_codes=["D2740"]
        )
    assert "may not" in str(other.value)
    assert PriorAuthorization.objects.filter(patient=patient).count() == 2


def test_units_are_counted_never_beyond_the_approved_and_low_units_ask_for_renewal(
    world: Any, setup: Any
) -> None:
    payer, patient, _ = setup
    item = approved(world, payer, patient, units_approved=3)
    assert item.next_action_due == item.valid_to - dt.timedelta(days=14)
    item = authorization_use_units(actor=world.fran, authorization=item, units=2)
    assert (item.units_used, item.units_left) == (2, 1)
    assert item.next_action_due == today()  # one unit left: renew now
    with pytest.raises(ValidationError) as refused:
        authorization_use_units(actor=world.fran, authorization=item, units=2)
    assert "Only 1 of 3" in str(refused.value)
    item.refresh_from_db()
    assert item.units_used == 2


def test_renewal_starts_a_new_authorization_and_takes_the_old_out_of_the_queues(
    world: Any, setup: Any
) -> None:
    payer, patient, _ = setup
    old = approved(world, payer, patient)
    new = authorization_renew(actor=world.fran, authorization=old)
    old.refresh_from_db()
    assert (old.status, old.is_open, old.closed_reason) == (AuthStatus.APPROVED, False, "renewed")
    assert (new.status, new.renews, new.procedure_codes) == (AuthStatus.NEEDED, old, ["D2740"])
    assert new.next_action == AuthNextAction.REQUEST


def test_alert_job_run_twice_alerts_once_and_expires_ended_ones(world: Any, setup: Any) -> None:
    payer, patient, _ = setup
    soon = approved(world, payer, patient, valid_to=today() + dt.timedelta(days=10))
    far = approved(world, payer, patient, valid_to=today() + dt.timedelta(days=100))
    low = approved(world, payer, patient, valid_to=today() + dt.timedelta(days=100))
    authorization_use_units(actor=world.fran, authorization=low, units=1)
    ended = approved(
        world,
        payer,
        patient,
        valid_from=today() - dt.timedelta(days=30),
        valid_to=today() + dt.timedelta(days=5),
    )

    first = prior_authorization_alerts.apply(kwargs={"on": today().isoformat()}).get()
    second = authorizations_sweep(today())
    assert (first["created"], second["created"]) == (3, 0)
    alerts = Notification.objects.filter(item_type="prior_auth")
    assert {(n.item_id, n.kind) for n in alerts} == {
        (soon.pk, NotificationKind.AUTH_EXPIRY),
        (ended.pk, NotificationKind.AUTH_EXPIRY),
        (low.pk, NotificationKind.AUTH_UNITS),
    }
    assert all(n.user == world.fran for n in alerts)
    assert all("Crowner" not in n.message for n in alerts)
    assert far.pk not in {n.item_id for n in alerts}

    later = authorizations_sweep(today() + dt.timedelta(days=6))
    ended.refresh_from_db()
    assert later["expired"] == 1
    assert (ended.status, ended.is_open, ended.closed_reason) == ("expired", False, "expired")


def test_scrubber_refuses_a_line_without_a_valid_authorization(world: Any, setup: Any) -> None:
    payer, patient, coverage = setup
    provider = factories.ProviderFactory(practice=world.sunrise)
    claim = claim_factory.make(
        actor=world.bill,
        patient=patient,
        coverage=coverage,
        provider=provider,
        number="C-AUTH-1",
        owner=world.bill,
        service_date_from=today() - dt.timedelta(days=3),
        lines=[
            {"procedure_code": "D2740", "charge": Decimal("1200.00")},
            {"procedure_code": "D1110", "charge": Decimal("120.00")},
        ],
    )
    rules = [f.rule for f in scrub(claim)]
    assert rules.count("prior_authorization") == 1
    finding = next(f for f in scrub(claim) if f.rule == "prior_authorization")
    assert finding.line_number == 1 and "D2740" in finding.message

    # Approved but only from tomorrow: still refused; valid on the date of service: passes.
    item = approved(world, payer, patient, valid_from=today() + dt.timedelta(days=1))
    assert "prior_authorization" in [f.rule for f in scrub(claim)]
    authorization_update(
        actor=world.fran, authorization=item, valid_from=today() - dt.timedelta(days=30)
    )
    assert "prior_authorization" not in [f.rule for f in scrub(claim)]

    # Every unit used: refused again.
    item.refresh_from_db()
    authorization_use_units(actor=world.fran, authorization=item, units=2)
    assert "prior_authorization" in [f.rule for f in scrub(claim)]


def test_appointment_auth_status_for_a_whole_day_sheet_in_two_queries(
    world: Any, setup: Any
) -> None:
    payer, patient, _ = setup
    other = factories.PatientFactory(practice=world.sunrise)
    factories.CoverageFactory(patient=other, payer=payer)
    starts = timezone.now() + dt.timedelta(days=2)
    crown = factories.AppointmentFactory(
        patient=patient, starts_at=starts, planned_procedures=["D2740"]
    )
    cleaning = factories.AppointmentFactory(
        patient=patient, starts_at=starts + dt.timedelta(hours=2), planned_procedures=["D1110"]
    )
    other_crown = factories.AppointmentFactory(
        patient=other, starts_at=starts, planned_procedures=["D2750", "D1110"]
    )
    uninsured = factories.AppointmentFactory(
        practice=world.sunrise, starts_at=starts, planned_procedures=["D2740"]
    )
    visits = [crown, cleaning, other_crown, uninsured]

    with CaptureQueriesContext(connection) as queries:
        statuses = appointment_auth_status(visits)
    assert len(queries) <= 2
    assert statuses == {
        crown.pk: "needed",
        cleaning.pk: "",
        other_crown.pk: "needed",
        uninsured.pk: "",
    }

    requested = authorization_create(
        actor=world.fran,
        patient=patient,
        payer=payer,
        procedure_codes=["D2740"],
        status=AuthStatus.REQUESTED,
    )
    assert appointment_auth_status(visits)[crown.pk] == "requested"
    authorization_update(
        actor=world.fran,
        authorization=requested,
        status=AuthStatus.APPROVED,
        number="Z9",
        valid_from=today(),
        valid_to=today() + dt.timedelta(days=30),
        units_approved=1,
    )
    assert appointment_auth_status(visits)[crown.pk] == "approved"
    # Approved until before a later visit: expired for that visit.
    far_visit = factories.AppointmentFactory(
        patient=patient, starts_at=starts + dt.timedelta(days=60), planned_procedures=["D2740"]
    )
    assert appointment_auth_status([far_visit]) == {far_visit.pk: "expired"}
