"""The dashboard, vendor console, CSV export and API: who may see them, and that every
figure and export of a viewer of one practice counts that practice only."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from denials import services as denial_services
from reports import rollups
from reports.selectors import period
from tests import claim_factory, factories
from tests.permission_matrix import Endpoint, PermissionMatrixMixin
from tests.reports import scenario

KPI_VIEWERS = frozenset({"sam", "val"})  # view_kpis on Sunrise


class TestKpiMatrix(PermissionMatrixMixin):
    endpoints = [
        Endpoint(
            "kpi dashboard",
            "get",
            lambda w: "/kpis/",
            KPI_VIEWERS,
            marker=lambda w: w.sunrise.name,
            route="kpi-dashboard",
        ),
        Endpoint(
            "kpi dashboard of sunrise",
            "get",
            lambda w: f"/kpis/?practice={w.sunrise.pk}&period=last_month",
            KPI_VIEWERS,
            route="kpi-dashboard",
        ),
        Endpoint(
            "kpi export",
            "get",
            lambda w: f"/kpis/export.csv?practice={w.sunrise.pk}",
            KPI_VIEWERS,
            route="kpi-export",
        ),
        Endpoint(
            "kpi console",
            "get",
            lambda w: "/kpis/vendor/",
            KPI_VIEWERS,
            marker=lambda w: w.sunrise.name,
            route="kpi-console",
        ),
        Endpoint(
            "kpi api",
            "get",
            lambda w: f"/api/v1/kpis/?practice={w.sunrise.pk}",
            KPI_VIEWERS,
            api=True,
            route="api:api-kpis",
        ),
    ]


def _maple_history(world: Any) -> None:
    """One Maple claim billed 999.00, accepted, and a 777.00 denial on another."""
    payer = factories.PayerFactory(
        practice=world.maple, name="Maple Only Payer", timely_filing_days=365
    )
    provider = factories.ProviderFactory(practice=world.maple)
    for number, status in (("M1", "accepted"), ("M2", "denied")):
        patient = factories.PatientFactory(practice=world.maple, last_name=f"Maple{number}")
        claim = claim_factory.make(
            actor=world.mia,
            patient=patient,
            coverage=factories.CoverageFactory(patient=patient, payer=payer),
            provider=provider,
            number=number,
            owner=world.mia,
            status=status,
            service_date_from=timezone.localdate() - dt.timedelta(days=200),
            lines=[{"procedure_code": "99213", "charge": Decimal("999.00")}],
        )
    denial_services.open_denial(
        actor=world.mia,
        claim=claim,
        group_code="CO",
        carc="16",
        amount=Decimal("777.00"),
        received_on=timezone.localdate(),
    )


@pytest.fixture
def two_practices(world: Any) -> dict[str, Any]:
    history = scenario.build(world)
    _maple_history(world)
    today = timezone.localdate()
    rollups.rollup_day(day=today - dt.timedelta(days=1))
    rollups.rollup_day(day=today)
    return history


# Maple's amounts, which no figure of a Sunrise-only viewer may include.
MAPLE_AMOUNTS = ("999", "777")


def _shows(text: str, page: str) -> bool:
    """Whether ``page`` shows ``text`` as a word or an amount ("$777", "1,777.00"), not as
    the tail of another word: a factory's user "Test User4777" is no Maple amount."""
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(text)}", page) is not None


def test_every_figure_and_export_of_a_one_practice_viewer(
    world: Any, client_for: Any, two_practices: Any
) -> None:
    sam = client_for(world.sam)
    body = sam.get(f"/api/v1/kpis/?practice={world.sunrise.pk}").json()
    figures = body["figures"]
    for key, expected in scenario.EXPECTED.items():
        assert figures[key]["value"] == str(expected), key
    for key in scenario.NO_DATA_YET:
        assert figures[key]["value"] is None and figures[key]["no_data"], key
    assert figures["ar_aging_payer"]["buckets"]["120+"] == "0.00"  # Maple's 999s are 120+
    assert figures["ar_aging_patient"]["buckets"]["0-30"] == "20.00"
    assert set(figures["denials_by_payer"]["items"]) == {"Example Health Plan"}
    assert sam.get(f"/api/v1/kpis/?practice={world.maple.pk}").status_code == 404

    page = sam.get("/kpis/?period=last_90")
    assert page.status_code == 200
    for text in ("Maple", *MAPLE_AMOUNTS):
        assert not _shows(text, page.text), text
    assert "80.00 %" in page.text  # the clean claim rate tile
    assert "no data yet" in page.text

    export = sam.get("/kpis/export.csv")
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    flat = " ".join(" ".join(row) for row in rows)
    for text in ("Maple", *MAPLE_AMOUNTS):
        assert not _shows(text, flat), text
    assert any(row[:3] == ["figures", "Clean claim rate", "80.00 %"] for row in rows)
    assert ["payer A/R aging", "91-120", "500.00", "", ""] in rows
    assert ["patient A/R aging", "0-30", "20.00", "", ""] in rows

    console = sam.get("/kpis/vendor/")
    assert "Sunrise Dental" in console.text and "Maple" not in console.text

    mia = client_for(world.mia).get(f"/api/v1/kpis/?practice={world.maple.pk}").json()
    assert mia["figures"]["claims_submitted"]["value"] == "2"
    assert set(mia["figures"]["denials_by_payer"]["items"]) == {"Maple Only Payer"}


def test_vendor_lead_sees_both_practices_side_by_side(
    world: Any, client_for: Any, two_practices: Any
) -> None:
    val = client_for(world.val)
    console = val.get("/kpis/vendor/")
    assert "Sunrise Dental" in console.text and "Maple Family Medicine" in console.text
    maple = val.get(f"/kpis/?practice={world.maple.pk}")
    assert maple.status_code == 200 and "Maple Family Medicine" in maple.text
    body = val.get(f"/api/v1/kpis/?practice={world.maple.pk}").json()
    assert body["figures"]["claims_submitted"]["value"] == "2"


def test_export_neutralises_formula_cells(world: Any, client_for: Any) -> None:
    payer = factories.PayerFactory(practice=world.sunrise, name="=HYPERLINK(1)")
    patient = factories.PatientFactory(practice=world.sunrise)
    claim = claim_factory.make(
        actor=world.bill,
        patient=patient,
        coverage=factories.CoverageFactory(patient=patient, payer=payer),
        provider=factories.ProviderFactory(practice=world.sunrise),
        number="F1",
        owner=world.bill,
        status="denied",
    )
    denial_services.open_denial(
        actor=world.bill,
        claim=claim,
        group_code="CO",
        carc="16",
        amount=Decimal("10.00"),
        received_on=timezone.localdate(),
    )
    export = client_for(world.sam).get("/kpis/export.csv")
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    payer_rows = [row for row in rows if row[:1] == ["Denials by payer"]]
    assert payer_rows == [["Denials by payer", "'=HYPERLINK(1)", "10.00", "1", ""]]
    assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row)


def test_managers_and_vendor_leads_land_on_the_dashboard(world: Any, client_for: Any) -> None:
    for name in ("sam", "mia", "val"):
        assert client_for(world.users[name]).get("/")["Location"] == "/kpis/", name
    assert client_for(world.bill).get("/")["Location"] == "/queues/my-day/"
    assert client_for(world.fran).get("/")["Location"] != "/kpis/"


def test_dashboard_query_count_does_not_grow_with_claims(world: Any, client_for: Any) -> None:
    sam = client_for(world.sam)
    today = timezone.localdate()

    def add(count: int, start: int) -> None:
        payer = factories.PayerFactory(practice=world.sunrise, timely_filing_days=365)
        provider = factories.ProviderFactory(practice=world.sunrise)
        for n in range(start, start + count):
            patient = factories.PatientFactory(practice=world.sunrise)
            claim_factory.make(
                actor=world.bill,
                patient=patient,
                coverage=factories.CoverageFactory(patient=patient, payer=payer),
                provider=provider,
                number=f"P{n}",
                owner=world.bill,
                status="accepted",
            )
        rollups.rollup_day(day=today - dt.timedelta(days=1))

    add(2, 0)
    sam.get("/kpis/")
    with CaptureQueriesContext(connection) as few:
        assert sam.get("/kpis/?period=last_90").status_code == 200
    add(8, 2)
    with CaptureQueriesContext(connection) as many:
        page = sam.get("/kpis/?period=last_90")
    assert page.context["figures"]["claims_submitted"].value == 10
    assert len(many.captured_queries) == len(few.captured_queries)


def test_periods() -> None:
    today = dt.date(2026, 3, 15)
    last = period("last_month", today)
    assert (last.start, last.end) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert (last.previous_start, last.previous_end) == (dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    this = period("this_month", today)
    assert (this.start, this.end, this.previous_end) == (
        dt.date(2026, 3, 1),
        today,
        dt.date(2026, 2, 15),
    )
    ninety = period("last_90", today)
    assert ninety.days == 90 and ninety.previous_end == ninety.start - dt.timedelta(days=1)
    custom = period("custom", today, dt.date(2026, 1, 10), dt.date(2026, 1, 19))
    assert (custom.previous_start, custom.previous_end) == (
        dt.date(2025, 12, 31),
        dt.date(2026, 1, 9),
    )
    assert period("custom", today, dt.date(2026, 2, 1), dt.date(2026, 1, 1)).key == "this_month"
    # The first day a date can hold: not a crash working out the period before it.
    assert period("custom", today, dt.date.min, dt.date(1, 1, 2)).key == "this_month"


def test_api_refuses_bad_ranges_and_unknown_practices(world: Any, client_for: Any) -> None:
    sam = client_for(world.sam)
    base = f"/api/v1/kpis/?practice={world.sunrise.pk}"
    assert sam.get(f"{base}&from=2026-02-01&to=2026-01-01").status_code == 400
    assert sam.get(f"{base}&from=2020-01-01&to=2026-01-01").status_code == 400
    assert sam.get(f"{base}&from=0001-01-01&to=0001-01-02").status_code == 200
    assert sam.get("/api/v1/kpis/?practice=99999999999").status_code == 404
    assert sam.get("/api/v1/kpis/").status_code == 400
    assert sam.get("/kpis/?period=custom&from=0001-01-01&to=0001-01-02").status_code == 200
    assert sam.get("/kpis/?practice=abc").status_code == 404
