"""The recare list: CSV import of recall due dates (good and bad files), call outcomes,
planned treatment nobody booked (the sweep, run twice), and booking closes the item."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from eligibility.auth_tasks import recare_refresh
from eligibility.recare import recare_add, recare_import, recare_log_call, recare_sweep
from eligibility.recare_models import CallOutcome, RecareItem, RecareKind, RecareNextAction
from practices.choices import AppointmentStatus
from sops.choices import BillingFunctionKind
from sops.models import BillingFunction
from tests import factories
from work.selectors import my_day_page

pytestmark = pytest.mark.django_db
FILES = Path(__file__).parent / "files"


def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture
def patients(world: Any) -> dict[str, Any]:
    return {
        account: factories.PatientFactory(
            practice=world.sunrise, account_number=account, last_name=name
        )
        for account, name in [("R100", "Recall"), ("R200", "Later"), ("R300", "Third")]
    }


def test_import_adds_recalls_owned_by_the_recare_function_and_again_changes_nothing(
    world: Any, patients: Any
) -> None:
    BillingFunction.objects.create(
        practice=world.sunrise, kind=BillingFunctionKind.RECARE, owner=world.val
    )
    content = (FILES / "recall_due_good.csv").read_bytes()
    outcome = recare_import(actor=world.sam, practice=world.sunrise, content=content)
    assert (outcome.rejected, outcome.created, outcome.updated) == (False, 2, 0)
    items = {i.patient.account_number: i for i in RecareItem.objects.select_related("patient")}
    assert set(items) == {"R100", "R200"}
    first = items["R100"]
    assert (first.kind, first.due_on, first.recall_type) == (
        RecareKind.RECALL,
        dt.date(2027, 1, 15),
        "6-month hygiene",
    )
    assert first.owner == world.val and first.next_action == RecareNextAction.CALL
    # Called two weeks before the recall is due (or today, when that is past).
    assert first.next_action_due == max(dt.date(2027, 1, 1), today())

    again = recare_import(actor=world.sam, practice=world.sunrise, content=content)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    moved = content.replace(b"2027-01-15", b"2027-02-01")
    third = recare_import(actor=world.sam, practice=world.sunrise, content=moved)
    assert (third.created, third.updated) == (0, 1)
    assert RecareItem.objects.count() == 2
    assert RecareItem.objects.get(patient__account_number="R100").due_on == dt.date(2027, 2, 1)


def test_a_bad_file_changes_nothing_and_names_each_bad_row(world: Any, patients: Any) -> None:
    content = (FILES / "recall_due_bad.csv").read_bytes()
    outcome = recare_import(actor=world.sam, practice=world.sunrise, content=content)
    assert outcome.rejected and outcome.created == 0
    errors = {(e["row"], e["field"]) for e in outcome.entries if e["level"] == "error"}
    assert errors == {(3, "due_date"), (4, "patient_account"), (5, "patient_account")}
    assert not RecareItem.objects.exists()

    no_date_column = b"patient_account,recall_type\nR100,hygiene\n"
    header = recare_import(actor=world.sam, practice=world.sunrise, content=no_date_column)
    assert header.fatal and not RecareItem.objects.exists()


def test_only_people_with_the_recare_area_import_or_call(world: Any, patients: Any) -> None:
    content = (FILES / "recall_due_good.csv").read_bytes()
    for person in ("fran", "vic", "vera", "mia"):
        with pytest.raises(PermissionDenied):
            recare_import(actor=world.users[person], practice=world.sunrise, content=content)
    item = recare_add(
        actor=world.val, patient=patients["R100"], kind=RecareKind.RECALL, due_on=today()
    )
    with pytest.raises(PermissionDenied):
        recare_log_call(actor=world.fran, item=item, outcome=CallOutcome.BOOKED)
    assert RecareItem.objects.get().attempts == 0


def test_call_outcomes_set_the_next_call_and_booking_or_declining_closes(
    world: Any, patients: Any
) -> None:
    item = recare_add(
        actor=world.sam, patient=patients["R100"], kind=RecareKind.RECALL, due_on=today()
    )
    assert [r.item.pk for r in my_day_page(world.sam, None, None, 50).rows] == [item.pk]

    item = recare_log_call(
        actor=world.sam, item=item, outcome=CallOutcome.LEFT_MESSAGE, expected_version=item.version
    )
    assert (item.attempts, item.next_action, item.next_action_due) == (
        1,
        RecareNextAction.CALL,
        today() + dt.timedelta(days=7),
    )
    item = recare_log_call(actor=world.sam, item=item, outcome=CallOutcome.WRONG_NUMBER)
    assert (item.attempts, item.next_action) == (2, RecareNextAction.FIND_NUMBER)
    with pytest.raises(ValidationError):
        recare_log_call(
            actor=world.sam,
            item=item,
            outcome=CallOutcome.REACHED,
            next_call_on=today() - dt.timedelta(days=1),
        )
    visit = factories.AppointmentFactory(patient=patients["R100"])
    item = recare_log_call(
        actor=world.sam, item=item, outcome=CallOutcome.BOOKED, appointment=visit
    )
    assert (item.is_open, item.closed_reason, item.booked_appointment) == (False, "booked", visit)
    assert item.attempts == 3 and item.next_action == ""
    outcomes = list(item.activities.filter(kind="call").values_list("outcome", flat=True))
    assert sorted(outcomes) == ["booked", "left_message", "wrong_number"]
    with pytest.raises(ValidationError):
        recare_log_call(actor=world.sam, item=item, outcome=CallOutcome.REACHED)

    other = recare_add(
        actor=world.sam, patient=patients["R200"], kind=RecareKind.RECALL, due_on=today()
    )
    other = recare_log_call(actor=world.sam, item=other, outcome=CallOutcome.DECLINED)
    assert (other.is_open, other.closed_reason) == (False, "declined")


def test_planned_treatment_nobody_booked_is_added_once_and_booking_closes_it(
    world: Any, patients: Any
) -> None:
    patient = patients["R300"]
    missed = factories.AppointmentFactory(
        patient=patient,
        starts_at=timezone.now() - dt.timedelta(days=5),
        status=AppointmentStatus.CANCELLED,
        planned_procedures=["D2740", "D2950"],
    )
    rebooked_patient = patients["R200"]
    rebooked = factories.AppointmentFactory(
        patient=rebooked_patient,
        starts_at=timezone.now() - dt.timedelta(days=5),
        status=AppointmentStatus.NO_SHOW,
        planned_procedures=["D4341"],
    )
    factories.AppointmentFactory(patient=rebooked_patient, planned_procedures=["D4341"])

    first = recare_refresh.apply(kwargs={"on": today().isoformat()}).get()
    second = recare_sweep(today())
    assert (first["added"], second["added"]) == (1, 0)
    item = RecareItem.objects.get()
    assert (item.kind, item.source_appointment, item.procedure_codes) == (
        RecareKind.PLANNED,
        missed,
        ["D2740", "D2950"],
    )
    assert item.patient == patient and rebooked.pk != item.source_appointment_id
    assert item.owner == world.sam  # nobody holds the recare function: the first who may

    # A visit booked for other work does not close it; one with a planned code does.
    factories.AppointmentFactory(patient=patient, planned_procedures=["D1110"])
    assert recare_sweep(today())["booked"] == 0
    booking = factories.AppointmentFactory(patient=patient, planned_procedures=["D2740"])
    assert recare_sweep(today())["booked"] == 1
    item.refresh_from_db()
    assert (item.is_open, item.closed_reason, item.booked_appointment) == (
        False,
        "booked",
        booking,
    )
    assert recare_sweep(today()) == {"added": 0, "booked": 0}


def test_a_booked_visit_closes_an_open_recall(world: Any, patients: Any) -> None:
    item = recare_add(
        actor=world.sam,
        patient=patients["R100"],
        kind=RecareKind.RECALL,
        due_on=today() + dt.timedelta(days=20),
    )
    assert recare_sweep(today())["booked"] == 0
    # A visit in three days is before the recall's window (due in 20 days, called from 6).
    factories.AppointmentFactory(patient=patients["R100"])
    assert recare_sweep(today())["booked"] == 0
    factories.AppointmentFactory(
        patient=patients["R100"], starts_at=timezone.now() + dt.timedelta(days=18)
    )
    assert recare_sweep(today())["booked"] == 1
    item.refresh_from_db()
    assert item.closed_reason == "booked"
