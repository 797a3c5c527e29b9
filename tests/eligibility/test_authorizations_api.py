"""The prior-authorization and recare API beyond the matrix: refusals say why and change
nothing, a stale version answers 409, next action and owner through PATCH, and the schema
of both has no warnings."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import include, path
from django.utils import timezone
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

from eligibility import auth_urls, recare_urls
from eligibility.auth_models import PriorAuthorization
from eligibility.authorizations import authorization_create
from eligibility.recare import recare_add
from eligibility.recare_models import RecareItem, RecareKind
from practices.choices import ClaimFormat
from tests import factories

pytestmark = pytest.mark.django_db
AUTHS = "/api/v1/prior-authorizations/"
RECARE = "/api/v1/recare/"


@pytest.fixture
def payer(world: Any) -> Any:
    return factories.PayerFactory(practice=world.sunrise, claim_format=ClaimFormat.DENTAL)


def test_create_refusals_say_why_and_change_nothing(world: Any, client_for: Any, payer: Any):
    client = client_for(world.fran)
    body = {
        "patient": world.sunrise_patient.pk,
        "payer": payer.pk,
        "procedure_codes": ["D2740"],
        "status": "approved",
    }
    response = client.post(AUTHS, body, content_type="application/json")
    assert response.status_code == 400
    assert {"number", "valid_to", "units_approved"} <= set(response.json())
    other = {**body, "status": "needed", "patient": world.maple_patient.pk}
    response = client.post(AUTHS, other, content_type="application/json")
    assert response.status_code == 400 and "patient" in response.json()
    assert not PriorAuthorization.objects.exists()

    good = {**body, "number": "N1", "valid_to": "2027-06-30", "units_approved": 2}
    response = client.post(AUTHS, good, content_type="application/json")
    assert response.status_code == 201
    created = response.json()
    assert (created["status"], created["units_left"], created["next_action"]) == (
        "approved",
        2,
        "renew",
    )
    listed = client.get(AUTHS, {"open": "true", "status": "approved"}).json()["results"]
    assert [row["id"] for row in listed] == [created["id"]]


def test_patch_with_a_stale_version_answers_409_and_next_action_and_owner_apply(
    world: Any, client_for: Any, payer: Any
):
    item = authorization_create(
        actor=world.fran, patient=world.sunrise_patient, payer=payer, procedure_codes=["D2740"]
    )
    client = client_for(world.bill)
    url = f"{AUTHS}{item.pk}/"
    stale = client.patch(
        url, {"version": item.version - 1, "status": "requested"}, content_type="application/json"
    )
    assert stale.status_code == 409 and stale.json()["current_version"] == item.version
    due = timezone.localdate() + dt.timedelta(days=3)
    response = client.patch(
        url,
        {
            "version": item.version,
            "status": "requested",
            "next_action": "follow_up",
            "next_action_due": due.isoformat(),
            "owner": world.vic.pk,
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    item.refresh_from_db()
    assert (item.status, item.owner, item.next_action_due) == ("requested", world.vic, due)


def test_recare_patch_logs_a_call_and_refuses_another_patients_visit(world: Any, client_for: Any):
    item = recare_add(
        actor=world.sam,
        patient=world.sunrise_patient,
        kind=RecareKind.RECALL,
        due_on=timezone.localdate(),
    )
    other_visit = factories.AppointmentFactory(practice=world.sunrise)
    client = client_for(world.val)
    url = f"{RECARE}{item.pk}/"
    refused = client.patch(
        url,
        {"version": item.version, "outcome": "booked", "appointment": other_visit.pk},
        content_type="application/json",
    )
    assert refused.status_code == 400 and "appointment" in refused.json()
    assert RecareItem.objects.get(pk=item.pk).attempts == 0
    visit = world.sunrise_patient.appointments.get()
    response = client.patch(
        url,
        {"version": item.version, "outcome": "booked", "appointment": visit.pk},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert (response.json()["closed_reason"], response.json()["booked_appointment"]) == (
        "booked",
        visit.pk,
    )
    assert client.get(RECARE, {"open": "true"}).json()["results"] == []


def test_schema_of_the_prior_auth_and_recare_api_has_no_warnings():
    GENERATOR_STATS.reset()
    generator = SchemaGenerator(
        patterns=[
            path("api/v1/", include(auth_urls.api_urlpatterns)),
            path("api/v1/", include(recare_urls.api_urlpatterns)),
        ]
    )
    schema = generator.get_schema(request=None, public=True)
    assert not GENERATOR_STATS, dict(GENERATOR_STATS._warn_cache)
    paths = schema["paths"]
    assert set(paths["/api/v1/prior-authorizations/"]) == {"get", "post"}
    assert set(paths["/api/v1/prior-authorizations/{id}/"]) == {"get", "patch"}
    assert set(paths["/api/v1/recare/{id}/"]) == {"get", "patch"}
    assert "PriorAuthStatusEnum" in schema["components"]["schemas"]


def front_desk_ids(world: Any) -> dict[str, int]:
    """For the API fuzz (tests/test_api_fuzz.py): a prior authorization the biller may work
    and a recare item (the biller has no recare area: its operations answer 404)."""
    payer = factories.PayerFactory(practice=world.sunrise, claim_format=ClaimFormat.DENTAL)
    item = authorization_create(
        actor=world.bill, patient=world.sunrise_patient, payer=payer, procedure_codes=["D2740"]
    )
    recall = recare_add(
        actor=world.sam,
        patient=world.sunrise_patient,
        kind=RecareKind.RECALL,
        due_on=timezone.localdate(),
    )
    return {"/api/v1/prior-authorizations/": item.pk, "/api/v1/recare/": recall.pk}
