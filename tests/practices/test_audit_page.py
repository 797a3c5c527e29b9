"""The managers' audit page (issue 8, point 4): who viewed or changed what at their
practice, filterable by person, patient and dates, in keyset pages, exportable as CSV
(the export is itself logged as a PHI export). Managers of the practice only."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pgtrigger
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from claims import services as claim_services
from claims.choices import NextAction
from claims.models import Claim
from practices import audit_views
from practices import services as practice_services
from practices.audit_log import AuditFilter, audit_page
from practices.choices import AccessAction
from practices.models import PhiAccessLog
from tests import claim_factory, factories
from tests.conftest import login
from tests.permission_matrix import Endpoint, PermissionMatrixMixin

MANAGERS = frozenset({"sam"})
MARKER = "matrix-audit-marker"


def _marker_row(world: Any) -> PhiAccessLog:
    return PhiAccessLog.objects.create(
        user=world.bill,
        practice=world.sunrise,
        patient=world.sunrise_patient,
        patient_ids=[world.sunrise_patient.pk],
        what=MARKER,
        action=AccessAction.VIEW,
    )


class TestAuditPages(PermissionMatrixMixin):
    """Sam (Sunrise's manager) sees Sunrise's trail; mia lands on Maple's, without it;
    staff and vendor staff (leads too) get 404."""

    @classmethod
    def extend_world(cls, world: Any) -> None:
        _marker_row(world)

    endpoints = [
        Endpoint(
            "audit page",
            "get",
            lambda w: "/audit/",
            MANAGERS,
            marker=lambda w: MARKER,
            route="audit",
        ),
        Endpoint(
            "audit export",
            "get",
            lambda w: "/audit/export/",
            MANAGERS,
            marker=lambda w: MARKER,
            route="audit-export",
        ),
    ]


# --- what the page shows -----------------------------------------------------------------


@pytest.fixture
def claim(world: Any) -> Claim:
    today = timezone.localdate()
    coverage = world.sunrise_patient.coverages.select_related("payer").get()
    return claim_factory.make(
        actor=world.bill,
        patient=world.sunrise_patient,
        coverage=coverage,
        provider=factories.ProviderFactory(practice=world.sunrise),
        number="AUDIT-1",
        owner=world.bill,
        service_date_from=today - dt.timedelta(days=5),
        next_action=NextAction.CALL_PAYER,
        next_action_due=today,
    )


def _entries(response: Any) -> list[tuple[str, str, str, tuple[int, ...]]]:
    assert response.status_code == 200, response.content[:500]
    return [
        (e.username, e.kind_label, e.what, e.patient_ids) for e, _url in response.context["rows"]
    ]


@pytest.fixture
def manager(world: Any, client_for: Any) -> Any:
    client = client_for(world.sam)
    session = client.session
    session["practice_id"] = world.sunrise.pk
    session.save()
    return client


def test_reads_and_changes_with_who_and_which_patient(world, client_for, manager, claim):
    client_for(world.vera).get(f"/claims/{claim.pk}/")
    practice_services.patient_save(actor=world.fran, patient=world.sunrise_patient, phone="555")
    claim_services.claim_add_note(actor=world.bill, claim=claim, text="Called the payer")
    patient = world.sunrise_patient.pk

    entries = _entries(manager.get("/audit/"))

    assert ("vera", "Viewed", "claim page", (patient,)) in entries
    assert ("fran", "Changed", f"Patient {patient}", (patient,)) in entries
    assert ("bill", "Created", f"Claim {claim.pk}", (patient,)) in entries  # history
    assert ("bill", "Note", f"Claim {claim.pk}", (patient,)) in entries  # timeline
    page = manager.get("/audit/").text
    assert "Called the payer" not in page  # kinds and ids, never the timeline's text
    assert world.sunrise_patient.last_name not in page


def test_another_practices_rows_never_show(world, client_for, manager, claim):
    client_for(world.mia).get(f"/patients/{world.maple_patient.pk}/")
    practice_services.patient_save(actor=world.mia, patient=world.maple_patient, phone="1")

    entries = _entries(manager.get("/audit/"))

    assert entries and not [e for e in entries if e[0] == "mia"]
    assert not [e for e in entries if world.maple_patient.pk in e[3]]


def test_filter_by_person(world, client_for, manager, claim):
    client_for(world.vera).get(f"/claims/{claim.pk}/")
    client_for(world.fran).get("/patients/")

    entries = _entries(manager.get("/audit/", {"person": "fran"}))

    assert entries == [("fran", "Viewed", "patient list", (world.sunrise_patient.pk,))]


def test_filter_by_patient_finds_list_rows_that_name_them(world, client_for, manager, claim):
    other = factories.PatientFactory(practice=world.sunrise, last_name="Aaronson")
    client_for(world.fran).get("/patients/")  # names both
    client_for(world.fran).get(f"/patients/{other.pk}/")  # names the other only

    entries = _entries(manager.get("/audit/", {"patient": world.sunrise_patient.pk}))

    assert ("fran", "Viewed", "patient list", (other.pk, world.sunrise_patient.pk)) in entries
    assert ("bill", "Created", f"Claim {claim.pk}", (world.sunrise_patient.pk,)) in entries
    assert all(world.sunrise_patient.pk in e[3] for e in entries)
    assert not [e for e in entries if e[2] == "patient page"]


def test_filter_by_dates(world, client_for, manager, claim):
    client_for(world.fran).get("/patients/")
    today = timezone.localdate()

    within = _entries(manager.get("/audit/", {"date_from": today, "date_to": today}))
    before = _entries(manager.get("/audit/", {"date_to": today - dt.timedelta(days=1)}))

    assert ("fran", "Viewed", "patient list", (world.sunrise_patient.pk,)) in within
    assert before == []


@pytest.mark.parametrize(
    "query",
    [
        {"after": "not-a-cursor"},
        {"after": "2026-01-01T00:00:00~1~99999999999999999999999"},
        {"after": "2026-01-01T00:00:00~1~5"},  # no time zone
        {"date_from": "tomorrow"},
        {"patient": "1e999999"},
        {"date_from": "2026-02-01", "date_to": "2026-01-01"},
    ],
)
def test_bad_parameters_answer_400(manager, query):
    response = manager.get("/audit/", query)

    assert response.status_code == 400
    assert response.context["rows"] == []


# --- keyset pages -----------------------------------------------------------------------


def test_pages_walk_every_entry_once_with_ties_and_constant_queries(
    world, client_for, manager, claim, monkeypatch
):
    monkeypatch.setattr(audit_views, "PAGE_SIZE", 4)
    for _ in range(7):
        client_for(world.fran).get(f"/patients/{world.sunrise_patient.pk}/")
    # Ties, within the log and across sources: every read at the very instant the claim's
    # first history row was written.
    instant = claim.history.earliest("history_date").history_date
    with pgtrigger.ignore("practices.PhiAccessLog:append_only"):
        PhiAccessLog.objects.update(at=instant)
    everything = audit_page(AuditFilter(practice_id=world.sunrise.pk), None, 1000)
    assert len(everything) > 2 * 4  # three pages at least

    manager.get("/audit/")  # the session's first request writes its start time
    seen: list[tuple[Any, ...]] = []
    costs = []
    url = "/audit/"
    while True:
        with CaptureQueriesContext(connection) as queries:
            response = manager.get(url)
        assert response.status_code == 200
        costs.append(len(queries))
        seen.extend((e.at, e.rank, e.pk) for e, _url in response.context["rows"])
        if not response.context["next_query"]:
            break
        url = f"/audit/?{response.context['next_query']}"

    assert seen == [(e.at, e.rank, e.pk) for e in everything]
    assert len(set(seen)) == len(seen)
    assert len(set(costs)) == 1, costs  # the tenth page costs what the first does
    assert sum(e.username == "fran" for e in everything) == 7


# --- export -----------------------------------------------------------------------------


def _csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_export_is_the_filtered_trail_and_is_itself_logged(world, client_for, manager, claim):
    client_for(world.fran).get("/patients/")
    client_for(world.vera).get(f"/claims/{claim.pk}/")

    rows = _csv(manager.get("/audit/export/", {"person": "vera"}))

    assert rows[0] == ["at", "user", "action", "what", "patient ids", "path"]
    assert [r[1:5] for r in rows[1:]] == [
        ["vera", "Viewed", "claim page", str(world.sunrise_patient.pk)]
    ]
    logged = PhiAccessLog.objects.get(user=world.sam)
    assert (logged.action, logged.what, logged.practice) == (
        AccessAction.EXPORT,
        "audit export",
        world.sunrise,
    )
    assert logged.patient_ids == [world.sunrise_patient.pk]


def test_export_cells_are_not_formulas(world, client_for, manager, django_user_model):
    sly = django_user_model.objects.create_user("=HYPERLINK(1)", password="x")
    PhiAccessLog.objects.create(
        user=sly,
        practice=world.sunrise,
        patient_ids=[world.sunrise_patient.pk],
        what="claim page",
        action=AccessAction.VIEW,
    )

    rows = _csv(manager.get("/audit/export/", {"person": "=HYPERLINK(1)"}))

    assert rows[1][1] == "'=HYPERLINK(1)"


def test_an_export_that_finds_nothing_logs_nothing(world, manager):
    rows = _csv(manager.get("/audit/export/", {"person": "nobody"}))

    assert rows == [["at", "user", "action", "what", "patient ids", "path"]]
    assert not PhiAccessLog.objects.filter(user=world.sam).exists()


def test_a_refused_export_logs_nothing(world, client_for, claim):
    response = client_for(world.val).get("/audit/export/")

    assert response.status_code == 404
    assert not PhiAccessLog.objects.filter(user=world.val).exists()


def test_an_export_without_a_fresh_step_up_asks_first_and_logs_nothing(world, client):
    login(client, world.sam, step_up=False)

    response = client.get("/audit/export/")

    assert response.status_code == 302
    assert response["Location"].startswith("/account/step-up/")
    assert not PhiAccessLog.objects.exists()
