"""The header search box and ``POST /api/v1/search/``: what a term finds, that the term
never travels in a URL, and who sees what (the permission matrix)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from claims import search
from claims.models import Claim
from practices.models import PhiAccessLog
from tests import claim_factory, factories
from tests.claims.test_claim_matrix import WORKERS
from tests.permission_matrix import SUNRISE_STAFF, Case, Endpoint, PermissionMatrixMixin

DOB = dt.date(1961, 3, 14)


def _kara(world: Any, practice: Any = None, number: str = "SRCH-1") -> Claim:
    practice = practice or world.sunrise
    patient = factories.PatientFactory(
        practice=practice,
        first_name="Kara",
        last_name="Adams",
        date_of_birth=DOB,
        phone="(212) 555-0142",
        account_number=f"ACC-{number}",
    )
    coverage = factories.CoverageFactory(patient=patient, member_id=f"MEM{number}")
    actor = world.bill if practice == world.sunrise else world.mia
    claim = claim_factory.make(
        actor=actor,
        patient=patient,
        coverage=coverage,
        provider=factories.ProviderFactory(practice=practice),
        number=number,
        owner=actor,
    )
    # No service sets the payer's number yet (the 835 posting will): set it for the test.
    Claim.objects.filter(pk=claim.pk).update(payer_claim_number=f"ICN{number}")
    claim.refresh_from_db()
    return claim


@pytest.mark.parametrize(
    "term",
    [
        "Adams, Kara",
        "kara adams",
        "ADAMS KARA",
        "adam",
        "03/14/1961",
        "1961-03-14",
        "MEMSRCH-1",
        "acc-srch-1",
        "212-555-0142",
        "+1 212 555 0142",
    ],
)
def test_a_patient_fact_finds_the_claim_and_its_patient(world, term):
    claim = _kara(world)
    results = search.search(world.bill, term)
    assert [c.pk for c in results.claims] == [claim.pk]
    assert [p.pk for p in results.patients] == [claim.patient_id]


@pytest.mark.parametrize("term", ["SRCH-1", "srch-1", "ICNSRCH-1", " icnsrch-1 "])
def test_a_claim_number_finds_the_claim(world, term):
    claim = _kara(world)
    assert [c.pk for c in search.search(world.bill, term).claims] == [claim.pk]


@pytest.mark.parametrize("term", ["Adams, Bob", "03/15/1961", "555-0199", "", "   ", "SRCH-2"])
def test_a_term_that_does_not_match_finds_nothing(world, term):
    _kara(world)
    assert search.search(world.bill, term).empty


def test_names_in_any_order_need_every_part(world):
    _kara(world)
    other = factories.PatientFactory(practice=world.sunrise, first_name="Kara", last_name="Zane")
    found = {p.pk for p in search.search(world.bill, "Kara").patients}
    assert other.pk in found and len(found) == 2
    assert {p.pk for p in search.search(world.bill, "zane, kara").patients} == {other.pk}


def test_other_practices_and_other_roles_see_nothing(world):
    claim = _kara(world)
    # mia works Maple only; fran (front desk) sees Sunrise patients but works no claims.
    assert search.search(world.mia, "Adams, Kara").empty
    fran = search.search(world.fran, "Adams, Kara")
    assert fran.claims == [] and [p.pk for p in fran.patients] == [claim.patient_id]
    # vic (verification only) sees the patient, not the claim
    assert search.search(world.vic, "SRCH-1").claims == []


def test_a_lead_finds_claims_of_all_her_practices(world):
    sunrise = _kara(world)
    maple = _kara(world, world.maple, number="SRCH-M")
    found = {c.pk for c in search.search(world.val, "kara adams").claims}
    assert found == {sunrise.pk, maple.pk}
    # bill, of Sunrise only, finds Sunrise's
    assert {c.pk for c in search.search(world.bill, "kara adams").claims} == {sunrise.pk}


def test_the_page_answers_a_post_and_logs_the_patients_shown(world, client_for):
    claim = _kara(world)
    client = client_for(world.bill)
    response = client.post("/search/", {"q": "Adams, Kara"})
    assert response.status_code == 200
    assert f"/claims/{claim.pk}/" in response.text
    assert f"/patients/{claim.patient_id}/" in response.text
    assert PhiAccessLog.objects.filter(user=world.bill, patient=claim.patient).exists()
    # a query string is not read: the term travels only in the body
    response = client.get("/search/?q=Adams")
    assert f"/claims/{claim.pk}/" not in response.text


def test_every_page_has_the_search_box(world, client_for):
    response = client_for(world.bill).get("/queues/my-day/")
    assert 'id="global-search"' in response.text
    assert 'action="/search/"' in response.text and 'method="post"' in response.text


def test_the_api_answers_claims_and_patients(world, client_for):
    claim = _kara(world)
    response = client_for(world.vera).post(
        "/api/v1/search/", {"q": "kara adams"}, content_type="application/json"
    )
    assert response.status_code == 200
    body = json.loads(response.content)
    assert [c["id"] for c in body["claims"]] == [claim.pk]
    assert body["claims"][0]["payer_claim_number"] == "ICNSRCH-1"
    assert body["claims"][0]["practice_name"] == "Sunrise Dental"
    assert [p["id"] for p in body["patients"]] == [claim.patient_id]
    assert PhiAccessLog.objects.filter(user=world.vera, patient=claim.patient).exists()


def test_the_api_refuses_a_get_and_an_overlong_term(world, client_for):
    client = client_for(world.bill)
    assert client.get("/api/v1/search/?q=Adams").status_code == 405
    response = client.post("/api/v1/search/", {"q": "x" * 101}, content_type="application/json")
    assert response.status_code == 400


# --- the permission matrix -----------------------------------------------------------------


def found_by(c: Case) -> bool:
    """The persona's search showed the Sunrise patient (the PHI access log says so)."""
    return (
        c.user is not None
        and PhiAccessLog.objects.filter(
            user=c.user, patient_ids__contains=[c.world.search_claim.patient_id]
        ).exists()
    )


class TestSearchMatrix(PermissionMatrixMixin):
    """Everybody signed in may search; each finds only what they may see: Sunrise staff the
    patient (and workers the claim), mia of Maple nothing of Sunrise."""

    @classmethod
    def extend_world(cls, world: Any) -> None:
        world.search_claim = _kara(world, number="MATRIX-SRCH")

    endpoints = [
        Endpoint(
            "search page",
            "post",
            lambda w: "/search/",
            SUNRISE_STAFF,
            ok_status=200,
            denied_status=200,
            data=lambda w: {"q": "Adams, Kara"},
            route="search",
            done=found_by,
        ),
        Endpoint(
            "search page, empty",
            "get",
            lambda w: "/search/",
            SUNRISE_STAFF | {"mia"},
            route="search",
        ),
        Endpoint(
            "search api",
            "post",
            lambda w: "/api/v1/search/",
            SUNRISE_STAFF,
            api=True,
            ok_status=200,
            denied_status=200,
            data=lambda w: {"q": "Adams, Kara"},
            route="api:api-search",
            done=found_by,
        ),
    ]


def test_the_matrix_search_finds_the_claim_for_workers_only(world, client_for):
    claim = _kara(world, number="MATRIX-SRCH")
    for name in ("sam", "fran", "bill", "vera", "vic", "val", "mia"):
        response = client_for(world.users[name]).post(
            "/api/v1/search/", {"q": "MATRIX-SRCH"}, content_type="application/json"
        )
        ids = [c["id"] for c in json.loads(response.content)["claims"]]
        assert ids == ([claim.pk] if name in WORKERS else []), name
