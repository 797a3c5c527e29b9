"""Own throughput (``/kpis/mine/``): everybody signed in sees their own figures only, at
the practices they may see now; people without view_kpis still get 404 on the dashboard."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone

from claims import services as claim_services
from practices import services
from practices.choices import Role, ServiceArea
from practices.models import Assignment
from reports import kpis
from tests import claim_factory, factories
from tests.permission_matrix import SIGNED_IN, Endpoint, PermissionMatrixMixin
from tests.reports import scenario


class TestOwnThroughputMatrix(PermissionMatrixMixin):
    endpoints = [
        Endpoint("own throughput", "get", lambda w: "/kpis/mine/", SIGNED_IN, route="kpi-mine"),
        Endpoint(
            "own throughput, last 90 days",
            "get",
            lambda w: "/kpis/mine/?period=last_90",
            SIGNED_IN,
            route="kpi-mine",
        ),
    ]


def _draft(world: Any, practice: Any, number: str, owner: Any) -> Any:
    patient = factories.PatientFactory(practice=practice)
    payer = factories.PayerFactory(practice=practice, timely_filing_days=365)
    return claim_factory.make(
        actor=owner,
        patient=patient,
        coverage=factories.CoverageFactory(patient=patient, payer=payer),
        provider=factories.ProviderFactory(practice=practice),
        number=number,
        owner=owner,
    )


def _void(actor: Any, claim: Any) -> None:
    claim_services.claim_transition(actor=actor, claim=claim, to_status="void", note="Duplicate.")


def _mine(client: Any, query: str = "") -> Any:
    response = client.get(f"/kpis/mine/{query}")
    assert response.status_code == 200
    return response.context["figures"]


def test_a_biller_sees_only_own_numbers(world: Any, client_for: Any) -> None:
    scenario.build(world)
    bea = factories.UserFactory(username="bea")
    services.membership_set(actor=None, user=bea, practice=world.sunrise, role=Role.BILLER)
    bill, bea_client = client_for(world.bill), client_for(bea)
    before = _mine(bill)
    # Bill posted the 835 (200.00) and owned D2, overturned with 100.00 recovered: the
    # dashboard's "dollars resolved per staff member" for him, to the cent.
    today = timezone.localdate()
    staff = kpis.dollars_resolved_by_staff([world.sunrise.pk], today.replace(day=1), today)
    assert staff[world.sunrise.pk][str(world.bill.pk)] == Decimal("300.00")
    assert before.dollars == Decimal("300.00")
    assert before.overdue == [("Claim", 1)]  # K1, due three days ago
    _void(world.bill, _draft(world, world.sunrise, "B1", world.bill))
    _void(bea, _draft(world, world.sunrise, "B2", bea))
    _void(bea, _draft(world, world.sunrise, "B3", bea))
    after = _mine(bill)
    assert after.items == before.items + 1  # his void, not bea's two
    assert after.dollars == Decimal("300.00")
    theirs = _mine(bea_client, f"?user={world.bill.pk}")  # nobody else's figures, ever
    assert (theirs.items, theirs.dollars, theirs.overdue) == (2, Decimal("0.00"), [])
    assert theirs.days[0].day == today and theirs.days[0].items == 2
    page = bea_client.get("/kpis/mine/").text
    assert "$300.00" not in page and "2 in " in page
    for name in ("fran", "bill", "vera", "vic"):
        assert client_for(world.users[name]).get("/kpis/").status_code == 404, name


def test_a_vendor_user_counts_only_practices_they_may_see(world: Any, client_for: Any) -> None:
    vera = world.vera
    maple = services.assignment_set(
        actor=None,
        staff=vera.vendor_staff,
        engagement=world.engagements["maple"],
        service_areas=[ServiceArea.INSURANCE_BILLING],
    )
    _void(vera, _draft(world, world.maple, "M9", world.mia))
    _void(vera, _draft(world, world.sunrise, "S9", world.bill))
    assert _mine(client_for(vera)).items == 2  # both practices while she works at Maple
    services.assignment_revoke(actor=None, assignment=Assignment.objects.get(pk=maple.pk))
    figures = _mine(client_for(vera))
    assert figures.items == 1  # Sunrise only: Maple is no longer hers to see
    page = client_for(vera).get("/kpis/mine/").text
    assert "Sunrise Dental" in page and "Maple" not in page


def test_my_day_links_to_own_throughput(world: Any, client_for: Any) -> None:
    page = client_for(world.bill).get("/queues/my-day/").text
    assert 'href="/kpis/mine/"' in page
