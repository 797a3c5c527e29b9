"""The pre-treatment estimate list (issue 7, point 4: predeterminations are their own
kind): who may open it (the permission matrix), what it shows, and the import result's
link to it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from claims.choices import EstimateStatus
from claims.imports import services
from claims.models import Estimate
from claims.services import estimate_create
from practices.models import PhiAccessLog
from tests import factories
from tests.permission_matrix import Endpoint, PermissionMatrixMixin

FILES = Path(__file__).parent / "import_files"
# Who works claims at Sunrise: the manager, the biller and the insurance-billing vendors.
WORKERS = frozenset({"sam", "bill", "vera", "val"})


def _estimate(patient: Any, number: str, provider: Any = None) -> Estimate:
    return estimate_create(
        actor=None,
        patient=patient,
        coverage=patient.coverages.first() or factories.CoverageFactory(patient=patient),
        provider=provider or factories.ProviderFactory(practice=patient.practice),
        pms_claim_number=number,
        lines=[
            {"procedure_code": "D2740", "charge": Decimal("1200.00"), "tooth": "8"},
            {"procedure_code": "D2950", "charge": Decimal("300.00"), "tooth": "8"},
        ],
    )


class TestEstimateList(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        _estimate(world.sunrise_patient, "EST-LIST-1")
        _estimate(world.maple_patient, "EST-MAPLE-1")

    endpoints = [
        Endpoint(
            "estimate list",
            "get",
            lambda w: "/estimates/",
            WORKERS,
            marker=lambda w: "EST-LIST-1",
            route="estimate-list",
        ),
    ]


def in_practice(client: Any, practice: Any) -> Any:
    session = client.session
    session["practice_id"] = practice.pk
    session.save()
    return client


def test_list_shows_the_practice_estimates_newest_first_by_status(world, client_for):
    first = _estimate(world.sunrise_patient, "EST-1")
    second = _estimate(world.sunrise_patient, "EST-2")
    Estimate.objects.filter(pk=second.pk).update(status=EstimateStatus.ANSWERED)
    _estimate(world.maple_patient, "EST-MAPLE")
    client = in_practice(client_for(world.bill), world.sunrise)
    page = client.get("/estimates/")
    assert page.status_code == 200
    html = page.content.decode()
    assert [e.pk for e in page.context["estimates"]] == [second.pk, first.pk]
    assert f'href="/estimates/{first.pk}/"' in html and "D2740, D2950" in html
    assert "$1,500.00" in html and "EST-MAPLE" not in html
    answered = client.get("/estimates/", {"status": "answered"})
    assert [e.pk for e in answered.context["estimates"]] == [second.pk]
    # An unknown status is no filter, not an error.
    assert len(client.get("/estimates/", {"status": "nope"}).context["estimates"]) == 2


def test_list_read_is_logged_for_the_patients_shown(world, client_for):
    _estimate(world.sunrise_patient, "EST-1")
    client = in_practice(client_for(world.bill), world.sunrise)
    before = PhiAccessLog.objects.count()
    assert client.get("/estimates/").status_code == 200
    assert PhiAccessLog.objects.count() == before + 1
    logged = PhiAccessLog.objects.order_by("-pk").first()
    assert logged is not None and (logged.user, logged.what) == (world.bill, "estimate list")
    assert logged.patient_ids == [world.sunrise_patient.pk]


def test_nav_links_the_list_for_people_who_work_claims_only(world, client_for):
    bill = in_practice(client_for(world.bill), world.sunrise).get("/queues/my-day/")
    assert 'id="nav-estimates"' in bill.content.decode()
    fran = in_practice(client_for(world.fran), world.sunrise).get("/day-sheet/")
    assert fran.status_code == 200 and 'id="nav-estimates"' not in fran.content.decode()


def test_the_import_result_links_each_estimate_and_the_list(world, client_for):
    content = (FILES / "d_predetermination.837").read_bytes()
    job = services.import_file(
        actor=world.bill, practice=world.sunrise, content=content, filename="pb.837"
    )
    ran = services.run_import_job(job.pk)
    assert ran is not None and ran.created_count == 1, ran and ran.errors
    estimate = Estimate.objects.get(pms_claim_number="SD-4001")
    client = in_practice(client_for(world.bill), world.sunrise)
    html = client.get(f"/imports/{job.pk}/").content.decode()
    assert f'href="/estimates/{estimate.pk}/"' in html
    assert 'id="all-estimates"' in html and 'href="/estimates/"' in html
    listed = client.get("/estimates/")
    assert [e.pk for e in listed.context["estimates"]] == [estimate.pk]
