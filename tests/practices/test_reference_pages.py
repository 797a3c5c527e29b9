"""Managers' payer and provider pages (issue 7, samples paragraph): list, add and edit the
current practice's payers and providers through practices.reference_services.

Who may: managers of the current practice (sam at Sunrise; mia at Maple, so her writes land
at Maple); nobody else, vendor staff never (manage_sops is never a vendor permission).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from practices import reference_services
from practices.choices import ClaimFormat
from practices.models import Payer, Provider
from tests import factories
from tests.permission_matrix import Case, Endpoint, PermissionMatrixMixin

MANAGERS = frozenset({"sam"})
MANAGERS_ANYWHERE = MANAGERS | {"mia"}
NPI_SUNRISE, NPI_NEW = "1649999995", "1234567893"


def _home(c: Case) -> Any:
    """Where the persona's write lands: the current practice (Maple for mia)."""
    return c.world.maple if c.persona == "mia" else c.world.sunrise


def _payer(w: Any) -> Payer:
    return Payer.objects.get(practice=w.sunrise, payer_id="SUN01")


def _provider(w: Any) -> Provider:
    return Provider.objects.get(practice=w.sunrise, npi=NPI_SUNRISE)


PAYER_POST = {
    "name": "Matrix Mutual",
    "payer_id": "MTX01",
    "claim_format": ClaimFormat.DENTAL,
    "timely_filing_days": "120",
    "appeal_window_days": "60",
    "phone": "",
    "portal_url": "",
}
PROVIDER_POST = {"first_name": "Ada", "last_name": "Matrix", "npi": NPI_NEW, "taxonomy_code": ""}


def _payer_edit(w: Any) -> dict[str, Any]:
    return PAYER_POST | {"name": "Sunrise Mutual (renamed)", "payer_id": "SUN01"}


def _provider_edit(w: Any) -> dict[str, Any]:
    return PROVIDER_POST | {"last_name": "Renamed", "npi": NPI_SUNRISE, "is_active": "on"}


class TestReferencePages(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        factories.PayerFactory(practice=world.sunrise, payer_id="SUN01", name="Sunrise Mutual")
        factories.ProviderFactory(practice=world.sunrise, npi=NPI_SUNRISE, last_name="Sunwell")
        factories.PayerFactory(practice=world.maple, payer_id="MAP01", name="Maple Mutual")

    endpoints = [
        Endpoint(
            "payer list",
            "get",
            lambda w: "/payers/",
            MANAGERS,
            marker=lambda w: "Sunrise Mutual",
            route="payer-list",
        ),
        Endpoint(
            "payer form", "get", lambda w: "/payers/new/", MANAGERS_ANYWHERE, route="payer-create"
        ),
        Endpoint(
            "payer create",
            "post",
            lambda w: "/payers/new/",
            MANAGERS_ANYWHERE,
            ok_status=302,
            data=lambda w: PAYER_POST,
            route="payer-create",
            done=lambda c: Payer.objects.filter(practice=_home(c), payer_id="MTX01").exists(),
        ),
        Endpoint(
            "payer edit form",
            "get",
            lambda w: f"/payers/{_payer(w).pk}/",
            MANAGERS,
            route="payer-edit",
        ),
        Endpoint(
            "payer edit",
            "post",
            lambda w: f"/payers/{_payer(w).pk}/",
            MANAGERS,
            ok_status=302,
            data=_payer_edit,
            route="payer-edit",
            done=lambda c: _payer(c.world).name == "Sunrise Mutual (renamed)",
        ),
        Endpoint(
            "provider list",
            "get",
            lambda w: "/providers/",
            MANAGERS,
            marker=lambda w: "Sunwell",
            route="provider-list",
        ),
        Endpoint(
            "provider form",
            "get",
            lambda w: "/providers/new/",
            MANAGERS_ANYWHERE,
            route="provider-create",
        ),
        Endpoint(
            "provider create",
            "post",
            lambda w: "/providers/new/",
            MANAGERS_ANYWHERE,
            ok_status=302,
            data=lambda w: PROVIDER_POST,
            route="provider-create",
            done=lambda c: Provider.objects.filter(practice=_home(c), npi=NPI_NEW).exists(),
        ),
        Endpoint(
            "provider edit form",
            "get",
            lambda w: f"/providers/{_provider(w).pk}/",
            MANAGERS,
            route="provider-edit",
        ),
        Endpoint(
            "provider edit",
            "post",
            lambda w: f"/providers/{_provider(w).pk}/",
            MANAGERS,
            ok_status=302,
            data=_provider_edit,
            route="provider-edit",
            done=lambda c: _provider(c.world).last_name == "Renamed",
        ),
    ]


# --- behaviour ------------------------------------------------------------------------------


def in_practice(client: Any, practice: Any) -> Any:
    session = client.session
    session["practice_id"] = practice.pk
    session.save()
    return client


@pytest.fixture
def sam(world: Any, client_for: Any) -> Any:
    return in_practice(client_for(world.sam), world.sunrise)


def test_manager_adds_a_payer_with_the_actor_in_its_history(world, sam):
    response = sam.post("/payers/new/", PAYER_POST)
    assert response.status_code == 302 and response["Location"] == "/payers/"
    payer = Payer.objects.get(practice=world.sunrise, payer_id="MTX01")
    assert (payer.name, payer.timely_filing_days, payer.appeal_window_days) == (
        "Matrix Mutual",
        120,
        60,
    )
    assert payer.history.get().history_user == world.sam
    listing = sam.get("/payers/").content.decode()
    assert "Matrix Mutual" in listing and f"/payers/{payer.pk}/" in listing


def test_edit_records_the_actor_and_keeps_the_practice(world, sam):
    payer = factories.PayerFactory(practice=world.sunrise, payer_id="SUN01", name="Old name")
    response = sam.post(f"/payers/{payer.pk}/", PAYER_POST | {"payer_id": "SUN01"})
    assert response.status_code == 302
    payer.refresh_from_db()
    assert (payer.name, payer.practice_id) == ("Matrix Mutual", world.sunrise.pk)
    assert payer.history.latest().history_user == world.sam


def test_a_duplicate_payer_id_is_refused_at_the_field(world, sam):
    factories.PayerFactory(practice=world.sunrise, payer_id="MTX01", name="First")
    response = sam.post("/payers/new/", PAYER_POST)
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_payer_id-error"' in page and "already exists" in page
    assert 'aria-invalid="true"' in page
    assert Payer.objects.filter(practice=world.sunrise, payer_id="MTX01").count() == 1


def test_a_bad_npi_and_a_bad_number_are_shown_at_their_fields(world, sam):
    response = sam.post("/providers/new/", PROVIDER_POST | {"npi": "12345"})
    assert response.status_code == 400
    assert 'id="id_npi-error"' in response.content.decode()
    response = sam.post("/payers/new/", PAYER_POST | {"timely_filing_days": "-3"})
    assert response.status_code == 400
    assert 'id="id_timely_filing_days-error"' in response.content.decode()
    assert not Provider.objects.filter(last_name="Matrix").exists()
    assert not Payer.objects.filter(payer_id="MTX01").exists()


def test_provider_can_be_marked_inactive(world, sam):
    provider = factories.ProviderFactory(practice=world.sunrise, npi=NPI_SUNRISE)
    data = PROVIDER_POST | {"npi": NPI_SUNRISE}  # no is_active: the box is unticked
    assert sam.post(f"/providers/{provider.pk}/", data).status_code == 302
    provider.refresh_from_db()
    assert (provider.is_active, provider.last_name) == (False, "Matrix")
    assert provider.history.latest().history_user == world.sam


def test_a_payer_of_another_practice_is_a_404_even_for_its_own_manager(world, client_for):
    maple_payer = factories.PayerFactory(practice=world.maple, payer_id="MAP01", name="Maple")
    # mia manages Maple, but the page edits the current practice's payers only.
    mia = in_practice(client_for(world.mia), world.maple)
    assert mia.get(f"/payers/{maple_payer.pk}/").status_code == 200
    sunrise_payer = factories.PayerFactory(practice=world.sunrise, payer_id="SUN01")
    assert mia.post(f"/payers/{sunrise_payer.pk}/", PAYER_POST).status_code == 404
    sunrise_payer.refresh_from_db()
    assert sunrise_payer.name != "Matrix Mutual"


def test_nav_links_the_pages_for_managers_only(world, sam, client_for):
    assert 'id="nav-payers"' in sam.get("/patients/").content.decode()
    bill = in_practice(client_for(world.bill), world.sunrise)
    assert 'id="nav-payers"' not in bill.get("/patients/").content.decode()
    val = in_practice(client_for(world.val), world.sunrise)
    assert 'id="nav-payers"' not in val.get("/patients/").content.decode()


def test_services_refuse_other_roles_and_other_practices(world):
    with pytest.raises(PermissionDenied):
        reference_services.payer_save(
            actor=world.bill, practice=world.sunrise, name="X", payer_id="X1", claim_format="837D"
        )
    maple_provider = factories.ProviderFactory(practice=world.maple)
    with pytest.raises(ValidationError):
        reference_services.provider_save(
            actor=world.sam, practice=world.sunrise, provider=maple_provider, last_name="Moved"
        )
    with pytest.raises(ValidationError, match="cannot be set"):
        reference_services.payer_save(
            actor=world.sam, practice=world.sunrise, name="X", payer_id="X1", practice_id=0
        )
    maple_provider.refresh_from_db()
    assert maple_provider.last_name != "Moved"
    assert not Payer.objects.filter(payer_id="X1").exists()
