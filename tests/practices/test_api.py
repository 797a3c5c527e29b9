"""The patients API: writes go through the service, tokens, and the schema pages."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from practices import services
from practices.choices import Role
from practices.models import ApiToken, Patient

PATIENTS = "/api/v1/patients/"


def patient_data(practice: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "practice": practice.pk,
        "account_number": "NEW-001",
        "first_name": "Nora",
        "last_name": "Newcomer",
        "date_of_birth": "1990-02-03",
    }
    data.update(overrides)
    return data


def error_messages(response: Any) -> list[str]:
    """Every message of a 400 answer, whatever key it is filed under."""
    return [message for messages in response.json().values() for message in messages]


def issue_token(username: str) -> str:
    buf = io.StringIO()
    call_command("create_api_token", username, stdout=buf)
    return buf.getvalue().strip()


# --- create ---------------------------------------------------------------------------


def test_create_in_own_practice(world, client_for):
    response = client_for(world.fran).post(
        PATIENTS, patient_data(world.sunrise), content_type="application/json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    patient = Patient.objects.get(pk=body["id"])
    assert patient.practice == world.sunrise
    assert (patient.account_number, patient.last_name) == ("NEW-001", "Newcomer")
    assert str(patient.date_of_birth) == "1990-02-03"
    history = patient.history.get()
    assert history.history_type == "+"
    assert history.history_user == world.fran


def test_create_in_another_practice_is_refused(world, client_for):
    before = Patient.objects.count()

    response = client_for(world.fran).post(
        PATIENTS, patient_data(world.maple), content_type="application/json"
    )

    assert response.status_code == 400
    assert "practice" in response.json()
    assert Patient.objects.count() == before
    assert not Patient.objects.filter(account_number="NEW-001").exists()


def test_create_needs_edit_permission(world, client_for):
    """vera may read Sunrise patients but not create them."""
    response = client_for(world.vera).post(
        PATIENTS, patient_data(world.sunrise), content_type="application/json"
    )

    assert response.status_code == 400
    assert "practice" in response.json()
    assert not Patient.objects.filter(account_number="NEW-001").exists()


def test_create_with_invalid_date_is_a_field_error(world, client_for):
    response = client_for(world.fran).post(
        PATIENTS,
        patient_data(world.sunrise, date_of_birth="1990-13-45"),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["date_of_birth"]
    assert not Patient.objects.filter(account_number="NEW-001").exists()


def test_create_with_duplicate_account_is_refused(world, client_for):
    response = client_for(world.fran).post(
        PATIENTS,
        patient_data(world.sunrise, account_number=world.sunrise_patient.account_number),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert any("Account number already exists" in m for m in error_messages(response))
    assert Patient.objects.filter(practice=world.sunrise).count() == 1


def test_same_account_number_is_fine_in_another_practice(world, client_for):
    response = client_for(world.mia).post(
        PATIENTS,
        patient_data(world.maple, account_number=world.sunrise_patient.account_number),
        content_type="application/json",
    )

    assert response.status_code == 201, response.content
    # Two patients now share the number, one per practice; the Sunrise one is untouched.
    account = world.sunrise_patient.account_number
    sharing = Patient.objects.filter(account_number=account).order_by("practice__name")
    assert [(p.practice, p.pk) for p in sharing] == [
        (world.maple, response.json()["id"]),
        (world.sunrise, world.sunrise_patient.pk),
    ]
    created = sharing[0]
    assert (created.last_name, created.history.get().history_user) == ("Newcomer", world.mia)
    world.sunrise_patient.refresh_from_db()
    assert world.sunrise_patient.history.count() == 1


# --- update ---------------------------------------------------------------------------


def test_patch_changes_a_field_and_records_the_editor(world, client_for):
    patient = world.sunrise_patient

    response = client_for(world.bill).patch(
        f"{PATIENTS}{patient.pk}/", {"phone": "555-0100"}, content_type="application/json"
    )

    assert response.status_code == 200, response.content
    patient.refresh_from_db()
    assert patient.phone == "555-0100"
    assert patient.history.first().history_user == world.bill


def test_patch_cannot_move_a_patient_to_another_practice(world, client_for):
    # sam manages both practices, so Maple is a practice he may write to.
    services.membership_set(
        actor=None, user=world.sam, practice=world.maple, role=Role.PRACTICE_MANAGER
    )
    patient = world.sunrise_patient

    response = client_for(world.sam).patch(
        f"{PATIENTS}{patient.pk}/", {"practice": world.maple.pk}, content_type="application/json"
    )

    assert response.status_code == 400
    assert "cannot move" in " ".join(response.json()["practice"])
    patient.refresh_from_db()
    assert patient.practice == world.sunrise


def test_patch_to_a_practice_the_caller_cannot_write_is_refused(world, client_for):
    patient = world.sunrise_patient

    response = client_for(world.fran).patch(
        f"{PATIENTS}{patient.pk}/", {"practice": world.maple.pk}, content_type="application/json"
    )

    assert response.status_code == 400
    assert "practice" in response.json()
    patient.refresh_from_db()
    assert patient.practice == world.sunrise


def test_patch_with_duplicate_account_number_is_refused(world, client_for):
    other = Patient.objects.create(
        practice=world.sunrise,
        account_number="DUP-2",
        first_name="Otto",
        last_name="Other",
        date_of_birth="1970-01-01",
    )

    response = client_for(world.fran).patch(
        f"{PATIENTS}{other.pk}/",
        {"account_number": world.sunrise_patient.account_number},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert any("Account number already exists" in m for m in error_messages(response))
    other.refresh_from_db()
    assert other.account_number == "DUP-2"


def test_patch_with_invalid_date_is_a_field_error(world, client_for):
    patient = world.sunrise_patient
    before = patient.date_of_birth

    response = client_for(world.fran).patch(
        f"{PATIENTS}{patient.pk}/", {"date_of_birth": "yesterday"}, content_type="application/json"
    )

    assert response.status_code == 400
    assert "date_of_birth" in response.json()
    patient.refresh_from_db()
    assert patient.date_of_birth == before


def test_read_only_vendor_cannot_patch(world, client_for):
    patient = world.sunrise_patient

    response = client_for(world.vera).patch(
        f"{PATIENTS}{patient.pk}/", {"phone": "555-0199"}, content_type="application/json"
    )

    assert response.status_code == 404
    patient.refresh_from_db()
    assert patient.phone != "555-0199"


# --- token authentication -------------------------------------------------------------


def test_token_from_the_command_authenticates(world):
    key = issue_token("bill")
    record = ApiToken.objects.get(user=world.bill)  # knox keeps only the token's hash
    assert (record.via, record.hint) == (ApiToken.Via.COMMAND, key[:6])

    response = Client().get(PATIENTS, HTTP_AUTHORIZATION=f"Token {key}")

    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == {world.sunrise_patient.pk}


def test_token_writes_without_csrf_and_records_the_user(world):
    key = issue_token("bill")
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        PATIENTS,
        patient_data(world.sunrise),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {key}",
    )

    assert response.status_code == 201, response.content
    assert Patient.objects.get(pk=response.json()["id"]).history.get().history_user == world.bill


def test_reissuing_a_token_retires_the_old_one(world):
    old = issue_token("bill")
    new = issue_token("bill")

    assert old != new
    assert Client().get(PATIENTS, HTTP_AUTHORIZATION=f"Token {old}").status_code == 401
    assert Client().get(PATIENTS, HTTP_AUTHORIZATION=f"Token {new}").status_code == 200


def test_bad_token_and_no_credentials_are_refused(world):
    assert Client().get(PATIENTS, HTTP_AUTHORIZATION="Token not-a-key").status_code == 401
    anonymous = Client().get(PATIENTS)
    assert anonymous.status_code == 401
    assert "results" not in anonymous.json()


def test_command_refuses_unknown_user(world):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("create_api_token", "nobody", stdout=io.StringIO())
    assert not ApiToken.objects.exists()


def test_command_refuses_deactivated_user(world):
    services.user_set_active(actor=None, user=world.bill, is_active=False)

    with pytest.raises(CommandError, match="deactivated"):
        call_command("create_api_token", "bill", stdout=io.StringIO())
    assert not ApiToken.objects.filter(user=world.bill).exists()


# --- schema and docs ------------------------------------------------------------------


def test_schema_and_docs_for_a_signed_in_user(world, client_for):
    client = client_for(world.fran)

    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/patients/" in schema.content
    assert b"billing-ops API" in schema.content

    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
