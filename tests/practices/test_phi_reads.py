"""PHI reads are logged everywhere they happen (issue 8, point 4): patient list and search,
the claim page and the claims API, queue pages and My day, downloads and the admin.

Each surface writes one ``PhiAccessLog`` row per practice shown, naming the patients by id,
in one INSERT; a request refused (404) writes nothing; the row holds no name or term.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from claims import attachments
from claims.choices import AttachmentKind, AttachmentStatus, NextAction
from claims.models import ClaimActivity
from practices.choices import AccessAction
from practices.models import PhiAccessLog
from practices.phi_log import patient_refs
from tests import claim_factory, factories

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LOG_TABLE = PhiAccessLog._meta.db_table


@pytest.fixture
def make_claim(world: Any) -> Any:
    """A claim through the services, owned and due today, of a new patient."""
    counter = iter(range(1, 1000))
    setups: dict[int, tuple[Any, Any, Any]] = {}

    def make(practice: Any = None, owner: Any = None) -> Any:
        practice = practice or world.sunrise
        owner = owner or (world.bill if practice == world.sunrise else world.mia)
        if practice.pk not in setups:
            setups[practice.pk] = (
                factories.PayerFactory(practice=practice, timely_filing_days=365),
                factories.ProviderFactory(practice=practice),
                owner,
            )
        payer, provider, _ = setups[practice.pk]
        patient = factories.PatientFactory(practice=practice, last_name="Privateperson")
        today = timezone.localdate()
        return claim_factory.make(
            actor=owner,
            patient=patient,
            coverage=factories.CoverageFactory(patient=patient, payer=payer),
            provider=provider,
            number=f"PHI{next(counter):04d}",
            owner=owner,
            service_date_from=today - dt.timedelta(days=10),
            next_action=NextAction.CALL_PAYER,
            next_action_due=today,
        )

    return make


def _inserts(queries: CaptureQueriesContext) -> int:
    return sum(
        q["sql"].startswith("INSERT") and LOG_TABLE in q["sql"] for q in queries.captured_queries
    )


def _only_row(user: Any) -> PhiAccessLog:
    rows = list(PhiAccessLog.objects.filter(user=user))
    assert len(rows) == 1, rows
    return rows[0]


# --- patients ---------------------------------------------------------------------------


def test_patient_search_logs_the_matches_only_and_no_term(world, client_for):
    other = factories.PatientFactory(practice=world.sunrise, last_name="Otherfolk")
    client = client_for(world.fran)
    client.post("/patients/", {"q": "Sunriser"})

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/patients/")

    assert "Sunriser" in response.text and "Otherfolk" not in response.text
    assert _inserts(queries) == 1
    row = _only_row(world.fran)
    assert (row.practice, row.what, row.action) == (world.sunrise, "patient search", "view")
    assert row.patient_ids == [world.sunrise_patient.pk]
    assert other.pk not in row.patient_ids
    assert "Sunriser" not in f"{row.path} {row.what}"


def test_patient_list_of_many_is_one_row_naming_them_all(world, client_for):
    more = factories.PatientFactory.create_batch(4, practice=world.sunrise)

    with CaptureQueriesContext(connection) as queries:
        client_for(world.vera).get("/patients/")

    assert _inserts(queries) == 1
    row = _only_row(world.vera)
    assert row.patient is None
    assert sorted(row.patient_ids) == sorted([world.sunrise_patient.pk, *(p.pk for p in more)])


def test_patient_page_names_its_patient(world, client_for):
    client_for(world.sam).get(f"/patients/{world.sunrise_patient.pk}/")

    row = _only_row(world.sam)
    assert (row.patient, row.patient_ids, row.what) == (
        world.sunrise_patient,
        [world.sunrise_patient.pk],
        "patient page",
    )


# --- claim page and download -----------------------------------------------------------


def test_claim_page_logs_its_patient(world, client_for, make_claim):
    claim = make_claim()

    with CaptureQueriesContext(connection) as queries:
        response = client_for(world.bill).get(f"/claims/{claim.pk}/")

    assert response.status_code == 200
    assert _inserts(queries) == 1
    row = _only_row(world.bill)
    assert (row.user, row.practice, row.patient_id, row.patient_ids) == (
        world.bill,
        world.sunrise,
        claim.patient_id,
        [claim.patient_id],
    )
    assert (row.what, row.action, row.path) == ("claim page", "view", f"/claims/{claim.pk}/")


def test_claim_page_of_another_practice_logs_nothing(world, client_for, make_claim):
    claim = make_claim()

    response = client_for(world.mia).get(f"/claims/{claim.pk}/")

    assert response.status_code == 404
    assert not PhiAccessLog.objects.exists()


def test_attachment_download_is_an_export(world, client_for, make_claim):
    claim = make_claim()
    eob = attachments.attachment_add(
        actor=world.bill,
        claim=claim,
        kind=AttachmentKind.EOB,
        label="eob.pdf",
        status=AttachmentStatus.RECEIVED,
        file=SimpleUploadedFile("eob.pdf", PDF),
    )

    response = client_for(world.vera).get(f"/claims/{claim.pk}/attachments/{eob.pk}/")

    assert b"".join(response.streaming_content) == PDF
    row = _only_row(world.vera)
    assert (row.action, row.what, row.patient_ids) == (
        AccessAction.EXPORT,
        "claim attachment",
        [claim.patient_id],
    )


# --- claims API -------------------------------------------------------------------------


def test_claims_api_list_logs_the_page_one_row_per_practice(world, client_for, make_claim):
    sunrise = [make_claim() for _ in range(3)]
    maple = make_claim(practice=world.maple)

    with CaptureQueriesContext(connection) as queries:
        response = client_for(world.val).get("/api/v1/claims/")

    assert {row["id"] for row in response.json()["results"]} == {
        *(c.pk for c in sunrise),
        maple.pk,
    }
    assert _inserts(queries) == 1
    rows = {row.practice_id: row for row in PhiAccessLog.objects.filter(user=world.val)}
    assert set(rows) == {world.sunrise.pk, world.maple.pk}
    assert sorted(rows[world.sunrise.pk].patient_ids) == sorted(c.patient_id for c in sunrise)
    assert rows[world.maple.pk].patient_ids == [maple.patient_id]
    assert {row.action for row in rows.values()} == {AccessAction.API}
    assert {row.what for row in rows.values()} == {"claims API list"}


def test_claims_api_page_size_bounds_what_is_logged(world, client_for, make_claim):
    claims = [make_claim() for _ in range(3)]

    response = client_for(world.bill).get("/api/v1/claims/", {"page_size": 2})

    shown = {row["id"] for row in response.json()["results"]}
    assert len(shown) == 2
    patients = {c.pk: c.patient_id for c in claims}
    assert sorted(_only_row(world.bill).patient_ids) == sorted(patients[pk] for pk in shown)


@pytest.mark.parametrize(
    ("suffix", "what"),
    [("", "claims API retrieve"), ("activity/", "claims API activity")],
)
def test_claims_api_detail_and_activity_log_the_patient(
    world, client_for, make_claim, suffix, what
):
    claim = make_claim()

    response = client_for(world.bill).get(f"/api/v1/claims/{claim.pk}/{suffix}")

    assert response.status_code == 200
    row = _only_row(world.bill)
    assert (row.patient_id, row.what, row.action) == (claim.patient_id, what, AccessAction.API)


@pytest.mark.parametrize("suffix", ["", "activity/"])
def test_claims_api_refused_reads_log_nothing(world, client_for, make_claim, suffix):
    claim = make_claim()

    response = client_for(world.mia).get(f"/api/v1/claims/{claim.pk}/{suffix}")

    assert response.status_code == 404
    assert not PhiAccessLog.objects.exists()


def test_claims_api_writes_are_not_reads(world, client_for, make_claim):
    claim = make_claim()

    response = client_for(world.bill).post(
        f"/api/v1/claims/{claim.pk}/notes/", {"text": "Called"}, content_type="application/json"
    )

    assert response.status_code == 201
    assert not PhiAccessLog.objects.exists()


# --- queues -----------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["my-day", "all-open"])
def test_queue_page_is_one_row_naming_the_patients_shown(world, client_for, make_claim, slug):
    claims = [make_claim() for _ in range(3)]
    make_claim(practice=world.maple)  # another practice's: never named
    client = client_for(world.bill)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/queues/{slug}/")

    assert response.status_code == 200
    assert len(response.context["rows"]) == 3
    assert _inserts(queries) == 1
    row = _only_row(world.bill)
    assert (row.practice, row.what) == (world.sunrise, f"queue {slug}")
    assert sorted(row.patient_ids) == sorted(c.patient_id for c in claims)


def test_an_empty_queue_logs_nothing(world, client_for):
    response = client_for(world.bill).get("/queues/my-day/")

    assert response.status_code == 200
    assert not PhiAccessLog.objects.exists()


def test_a_queue_refused_logs_nothing(world, client_for, make_claim):
    make_claim()

    response = client_for(world.fran).get("/queues/all-open/")

    assert response.status_code == 404
    assert not PhiAccessLog.objects.exists()


# --- admin ------------------------------------------------------------------------------


@pytest.fixture
def root(django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser("root", "root@example.com", "x")


@pytest.mark.parametrize(
    ("prefix", "model"),
    [
        ("/admin/practices/patient", "patient"),
        ("/admin/practices/coverage", "coverage"),
        ("/admin/practices/appointment", "appointment"),
        ("/admin/claims/claim", "claim"),
    ],
)
def test_admin_list_change_and_history_log_their_patients(
    world, client_for, make_claim, root, prefix, model
):
    claim = make_claim()
    patient = claim.patient
    obj = {
        "patient": patient,
        "coverage": claim.coverage,
        "appointment": factories.AppointmentFactory(patient=patient),
        "claim": claim,
    }[model]
    client = client_for(root)

    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"{prefix}/").status_code == 200
    assert _inserts(queries) == 1
    assert client.get(f"{prefix}/{obj.pk}/change/").status_code == 200
    assert client.get(f"{prefix}/{obj.pk}/history/").status_code == 200

    named: dict[str, list[int]] = {}
    for row in PhiAccessLog.objects.filter(user=root):  # the list: one row per practice
        named.setdefault(row.what, []).extend(row.patient_ids)
    assert set(named) == {f"admin {model} list", f"admin {model} record", f"admin {model} history"}
    assert patient.pk in named[f"admin {model} list"]
    assert named[f"admin {model} record"] == [patient.pk]
    assert named[f"admin {model} history"] == [patient.pk]


def test_admin_missing_record_logs_nothing(client_for, root):
    response = client_for(root).get("/admin/practices/patient/999999/change/")

    assert response.status_code == 302  # the admin's "does not exist" redirect
    assert not PhiAccessLog.objects.exists()


# --- rows that name their patient through a related row ------------------------------------


def test_a_row_names_the_patient_of_a_related_row_loaded_with_it(
    world, make_claim, django_assert_num_queries
):
    # A denial names its claim's patient this way; a timeline entry has no patient either.
    claim = make_claim()
    loaded = list(ClaimActivity.objects.filter(claim=claim).select_related("claim"))
    bare = list(ClaimActivity.objects.filter(claim=claim))

    with django_assert_num_queries(0):
        assert patient_refs(loaded) == {claim.practice_id: [claim.patient_id]}
        assert patient_refs(bare) == {}
