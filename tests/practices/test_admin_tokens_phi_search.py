"""Issue 8 leftovers, points 2 and 3: knox's own token admin is gone (tokens made there
would not work: no ``ApiToken`` record) and ours lists tokens read-only; admin searches on
PHI models match identifiers only, so no patient name has a reason to travel in ``?q=``;
the patients/coverages API logs the path of a list read without its query string."""

from __future__ import annotations

import pytest
from knox.models import AuthToken

from practices import tokens
from practices.models import PhiAccessLog
from tests import claim_factory, factories

# --- point 2: token admin -----------------------------------------------------------------


def test_knox_token_admin_is_not_offered(world, root):
    for url in ("/admin/knox/authtoken/", "/admin/knox/authtoken/add/"):
        assert root.get(url).status_code == 404, url
    before = AuthToken.objects.count()
    root.post("/admin/knox/authtoken/add/", {"user": world.bill.pk, "expiry_0": "", "expiry_1": ""})
    assert AuthToken.objects.count() == before


def test_api_tokens_are_listed_read_only(world, root):
    record, _secret = tokens.token_create(actor=world.bill, name="Reporting", mfa_verified=True)
    tokens.token_revoke(actor=world.bill, record=record)
    live, _secret = tokens.token_create(actor=world.bill, name="Nightly sync", mfa_verified=True)

    page = root.get("/admin/practices/apitoken/")

    assert page.status_code == 200
    listed = {row.pk for row in page.context["cl"].result_list}
    assert listed == {record.pk, live.pk}
    for column in ("user", "name", "created_at", "expires_at", "last_used_at", "revoked_at"):
        assert column in page.context["cl"].list_display, column
    assert "Nightly sync" in page.text and "bill" in page.text

    assert root.get("/admin/practices/apitoken/add/").status_code == 403
    response = root.post(f"/admin/practices/apitoken/{live.pk}/change/", {"name": "Renamed"})
    assert response.status_code == 403
    assert (
        root.post(f"/admin/practices/apitoken/{live.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    live.refresh_from_db()
    assert live.name == "Nightly sync" and live.is_live


# --- point 3: admin search and the API's PHI log path ---------------------------------------


def test_claim_admin_does_not_search_patient_names(world, root):
    patient = world.sunrise_patient
    claim = claim_factory.make(
        actor=world.bill,
        patient=patient,
        coverage=patient.coverages.select_related("payer").get(),
        provider=factories.ProviderFactory(practice=world.sunrise),
        number="ADM-77",
        owner=world.bill,
    )

    by_name = root.get("/admin/claims/claim/", {"q": patient.last_name})
    by_number = root.get("/admin/claims/claim/", {"q": "ADM-77"})
    by_account = root.get("/admin/claims/claim/", {"q": patient.account_number})

    assert list(by_name.context["cl"].result_list) == []
    assert [c.pk for c in by_number.context["cl"].result_list] == [claim.pk]
    assert [c.pk for c in by_account.context["cl"].result_list] == [claim.pk]


def test_patient_admin_does_not_search_names(world, root):
    patient = world.sunrise_patient

    by_name = root.get("/admin/practices/patient/", {"q": patient.last_name})
    by_account = root.get("/admin/practices/patient/", {"q": patient.account_number})

    assert list(by_name.context["cl"].result_list) == []
    assert [p.pk for p in by_account.context["cl"].result_list] == [patient.pk]
    # The log rows of those reads carry the path only.
    assert set(PhiAccessLog.objects.values_list("path", flat=True)) == {"/admin/practices/patient/"}


@pytest.mark.parametrize("url", ["/api/v1/patients/", "/api/v1/coverages/"])
def test_api_list_reads_are_logged_without_the_query_string(world, client_for, url):
    patient = world.sunrise_patient
    query = {"account_number": patient.account_number} if "patients" in url else {}
    query["practice"] = world.sunrise.pk

    response = client_for(world.fran).get(url, query)

    assert response.status_code == 200
    assert len(response.json()["results"]) == 1
    rows = list(PhiAccessLog.objects.filter(user=world.fran))
    assert [row.patient_id for row in rows] == [patient.pk]
    assert rows[0].path == url
