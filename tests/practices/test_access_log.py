"""Every opening or export of a patient record leaves one PHI access log row."""

from __future__ import annotations

from practices.choices import AccessAction
from practices.models import PhiAccessLog
from tests import factories


def test_page_view_writes_one_view_row(world, client_for):
    patient = world.sunrise_patient
    url = f"/patients/{patient.pk}/"

    response = client_for(world.fran).get(url)

    assert response.status_code == 200
    row = PhiAccessLog.objects.get()
    assert row.user == world.fran
    assert row.practice == world.sunrise
    assert row.patient == patient
    assert row.action == AccessAction.VIEW
    assert row.path == url


def test_each_page_view_is_logged_separately(world, client_for):
    client = client_for(world.vera)
    url = f"/patients/{world.sunrise_patient.pk}/"

    client.get(url)
    client.get(url)

    assert PhiAccessLog.objects.filter(user=world.vera, action=AccessAction.VIEW).count() == 2


def test_patient_list_page_writes_one_row_naming_the_patients_shown(world, client_for):
    response = client_for(world.fran).get("/patients/")

    assert response.status_code == 200
    assert "Sunriser" in response.text
    row = PhiAccessLog.objects.get()
    assert (row.user, row.practice, row.what) == (world.fran, world.sunrise, "patient list")
    assert row.patient_ids == [world.sunrise_patient.pk]


def test_api_retrieve_writes_an_api_row(world, client_for):
    patient = world.sunrise_patient
    url = f"/api/v1/patients/{patient.pk}/"

    response = client_for(world.bill).get(url)

    assert response.status_code == 200
    assert response.json()["id"] == patient.pk
    row = PhiAccessLog.objects.get()
    assert (row.user, row.practice, row.patient, row.action) == (
        world.bill,
        world.sunrise,
        patient,
        AccessAction.API,
    )
    assert row.path == url


def test_api_list_writes_export_rows_for_the_patients_returned(world, client_for):
    extra = factories.PatientFactory.create_batch(3, practice=world.sunrise)
    expected = {world.sunrise_patient.pk, *(p.pk for p in extra)}

    response = client_for(world.fran).get("/api/v1/patients/")

    assert response.status_code == 200
    returned = {row["id"] for row in response.json()["results"]}
    assert returned == expected
    rows = PhiAccessLog.objects.filter(user=world.fran)
    assert rows.count() == len(expected)
    assert {row.patient_id for row in rows} == expected
    assert {row.action for row in rows} == {AccessAction.EXPORT}
    assert {row.practice_id for row in rows} == {world.sunrise.pk}
    assert not PhiAccessLog.objects.filter(patient=world.maple_patient).exists()


def test_api_list_logs_only_the_page_returned(world, client_for):
    factories.PatientFactory.create_batch(3, practice=world.sunrise)

    response = client_for(world.fran).get(
        "/api/v1/patients/", {"account_number": world.sunrise_patient.account_number}
    )

    assert [row["id"] for row in response.json()["results"]] == [world.sunrise_patient.pk]
    assert list(PhiAccessLog.objects.values_list("patient_id", "action")) == [
        (world.sunrise_patient.pk, AccessAction.EXPORT)
    ]
    # The path only: a query string can carry PHI (the account number here).
    assert PhiAccessLog.objects.get().path == "/api/v1/patients/"


def test_page_404_for_another_practice_writes_nothing(world, client_for):
    response = client_for(world.mia).get(f"/patients/{world.sunrise_patient.pk}/")

    assert response.status_code == 404
    assert not PhiAccessLog.objects.exists()


def test_api_404_for_another_practice_writes_nothing(world, client_for):
    response = client_for(world.mia).get(f"/api/v1/patients/{world.sunrise_patient.pk}/")

    assert response.status_code == 404
    assert not PhiAccessLog.objects.exists()


def test_empty_api_list_writes_nothing(world, client_for):
    world.maple_patient.delete()

    response = client_for(world.mia).get("/api/v1/patients/")

    assert response.status_code == 200
    assert response.json()["results"] == []
    assert not PhiAccessLog.objects.exists()
