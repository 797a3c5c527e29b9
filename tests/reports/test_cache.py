"""The dashboard's cache (``reports.cached``): the cached figures and page are the ones
computed from the stored days, to the cent; a rollup written makes the next request
compute again; figures with today computed live are never cached."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports import dashboard, rollups, tasks
from reports.selectors import last_months, period
from reports.values import headline
from tests import claim_factory, factories
from tests.reports import scenario


def _rolled_up(world: Any) -> None:
    scenario.build(world)
    today = timezone.localdate()
    rollups.rollup_day(day=today - dt.timedelta(days=1))
    rollups.rollup_day(day=today)


def test_cached_figures_are_the_computed_ones_to_the_cent(world: Any) -> None:
    _rolled_up(world)
    today = timezone.localdate()
    ids = [world.sunrise.pk]
    for name in ("this_month", "last_90"):
        chosen = period(name, today)
        # The path without the cache: the stored days read and summed in Python.
        fresh = dashboard._period_figures(ids, chosen, today, last_months(chosen.end))
        key = dashboard.figures_key_of(ids, chosen, today)
        assert key is not None
        cache.delete(key)
        assert dashboard.period_figures(ids, chosen, today) == fresh  # computed, stored
        assert cache.get(key) == fresh
        with CaptureQueriesContext(connection) as queries:
            again = dashboard.period_figures(ids, chosen, today)
        assert again == fresh
        assert len(queries.captured_queries) == 1  # the rollup stamp; the rest is cached
        if name == "this_month":
            current = again["current"]
            assert {k: headline(current[k]) for k in scenario.EXPECTED} == scenario.EXPECTED
            assert current["ar_aging_payer"] == scenario.EXPECTED_AGING
            for k in scenario.NO_DATA_YET:
                assert current[k] is None, k


def test_cached_page_is_the_rendered_one(world: Any, client_for: Any) -> None:
    _rolled_up(world)
    sam = client_for(world.sam)
    chosen = period("last_90", timezone.localdate())
    context = dashboard.build([world.sunrise.pk], chosen, practice_id=world.sunrise.pk, key=None)
    rendered = render_to_string("reports/_dashboard_body.html", context)
    with CaptureQueriesContext(connection) as cold:
        first = sam.get("/kpis/?period=last_90")
    with CaptureQueriesContext(connection) as warm:
        second = sam.get("/kpis/?period=last_90")
    assert rendered in first.text and rendered in second.text
    assert "80.00 %" in second.text  # the clean claim rate tile
    assert len(warm.captured_queries) < len(cold.captured_queries)
    assert "reports_practiceday" not in " ".join(
        q["sql"] for q in warm.captured_queries if "MAX" not in q["sql"]
    )


def test_a_rollup_written_is_read_on_the_next_request(world: Any, client_for: Any) -> None:
    _rolled_up(world)
    today = timezone.localdate()
    ids = [world.sunrise.pk]
    chosen = period("this_month", today)
    before = dashboard.period_figures(ids, chosen, today)["current"]
    assert before["claims_submitted"] == 5
    payer = factories.PayerFactory(practice=world.sunrise, timely_filing_days=365)
    patient = factories.PatientFactory(practice=world.sunrise)
    claim_factory.make(
        actor=world.bill,
        patient=patient,
        coverage=factories.CoverageFactory(patient=patient, payer=payer),
        provider=factories.ProviderFactory(practice=world.sunrise),
        number="C6",
        owner=world.bill,
        status="accepted",
        lines=[{"procedure_code": "D1110", "charge": Decimal("10.00")}],
    )
    # Today's stored row is what the page reads until the next refresh, cached or not.
    assert dashboard.period_figures(ids, chosen, today)["current"]["claims_submitted"] == 5
    tasks.refresh_today.run(on=today.isoformat())
    assert dashboard.period_figures(ids, chosen, today)["current"]["claims_submitted"] == 6
    api = client_for(world.sam).get(f"/api/v1/kpis/?practice={world.sunrise.pk}").json()
    assert api["figures"]["claims_submitted"]["value"] == "6"


def test_today_computed_live_is_never_cached(world: Any) -> None:
    scenario.build(world)
    today = timezone.localdate()
    rollups.rollup_day(day=today - dt.timedelta(days=1))  # no row of today yet
    chosen = period("this_month", today)
    assert dashboard.figures_key_of([world.sunrise.pk], chosen, today) is None
    figures = dashboard.period_figures([world.sunrise.pk], chosen, today)["current"]
    assert figures["claims_submitted"] == 5


def test_refresh_warms_the_pages_that_read_today(world: Any) -> None:
    scenario.build(world)
    today = timezone.localdate()
    cache.clear()
    assert tasks.refresh_today.run(on=today.isoformat()) == 2
    for name in ("this_month", "last_90"):
        chosen = period(name, today)
        for practice in (world.sunrise, world.maple):
            key = dashboard.figures_key_of([practice.pk], chosen, today)
            assert key is not None
            html = cache.get(f"{key}:html:{practice.pk}")
            assert html is not None and 'id="kpi-tiles"' in html, (name, practice)
        sunrise = dashboard.figures_key_of([world.sunrise.pk], chosen, today)
        assert "Example Health Plan" in cache.get(f"{sunrise}:html:{world.sunrise.pk}")
