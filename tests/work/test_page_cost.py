"""What a queue page costs besides its SQL (issue 10, second pass): the filter panel's
choices are read without server-side cursors and render the same options, the rows link to
their items with one URL reversal per item type, each row's "why" is worked out once, and a
page of 50 rows runs the queries of a page of one."""

from __future__ import annotations

import re
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from claims.choices import ClaimStatus
from claims.models import Claim
from claims.queues import CLAIM, ClaimQueueFilter
from practices.models import Payer
from tests import factories
from work import selectors
from work import views as work_views
from work.registry import registry

SERVER_SIDE_CURSOR = re.compile(r"\bDECLARE\b", re.IGNORECASE)


def _sql(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries]


def test_the_filter_panel_offers_the_same_options_without_server_side_cursors(
    world, client_for, make_claim
):
    make_claim(status=ClaimStatus.SUBMITTED)
    factories.PayerFactory(practice=world.sunrise, name="Aetna Dental")
    factories.PayerFactory(practice=world.maple, name="Maple Only Payer")
    items = Claim.objects.filter(practice=world.sunrise)

    plain = ClaimQueueFilter({"status": ["submitted"]}, queryset=items, user=world.bill)
    listed = ClaimQueueFilter({"status": ["submitted"]}, queryset=items, user=world.bill)
    work_views._listed_choices(listed)
    for name in plain.form.fields:
        assert str(listed.form[name]) == str(plain.form[name]), name
    # Bound to a payer, the listed form still selects it and still validates it.
    payer = Payer.objects.get(practice=world.sunrise, name="Aetna Dental")
    chosen = ClaimQueueFilter({"payer": str(payer.pk)}, queryset=items, user=world.bill)
    work_views._listed_choices(chosen)
    assert f'<option value="{payer.pk}" selected>' in str(chosen.form["payer"])
    assert chosen.is_valid()

    client = client_for(world.bill)
    client.get("/queues/payer-ar/")  # warm the session and content types
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/queues/payer-ar/", {"sort": "due", "status": "submitted"})
    assert response.status_code == 200
    assert not [sql for sql in _sql(queries) if SERVER_SIDE_CURSOR.search(sql)]
    html = response.content.decode()
    assert "Aetna Dental" in html  # the practice's payers are offered...
    assert "Maple Only Payer" not in html  # ...and no other practice's


def test_rows_link_to_their_items_as_a_reversed_url_would(world, client_for, make_claim):
    claims = [make_claim(status=ClaimStatus.SUBMITTED) for _ in range(3)]
    client = client_for(world.bill)
    for slug in ("payer-ar", "my-day"):
        html = client.get(f"/queues/{slug}/").content.decode()
        for claim in claims:
            href = f"{reverse('claim-detail', kwargs={'pk': claim.pk})}?from={slug}"
            # the row (data-href) and the claim number (href)
            assert html.count(f'href="{href}"') == 2, (slug, claim.pk)


def test_each_rows_why_is_worked_out_once(world, make_claim):
    claim = make_claim()
    Claim.objects.filter(pk=claim.pk).update(priority_reasons=[])  # as rows saved before
    claim.refresh_from_db()
    row = selectors.Row(claim, CLAIM)
    first = row.why
    assert first == claim.priority_explanation != ""
    claim.priority_reasons = ["changed after the row was read"]
    assert row.why == first  # the page's view and its row template read one value


def _page_queries(client: Any, url: str, **params: Any) -> tuple[int, Any]:
    client.get(url, params)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries), response


def test_pages_of_one_and_of_fifty_rows_run_the_same_queries(world, client_for, make_claim):
    make_claim(status=ClaimStatus.SUBMITTED)
    client = client_for(world.bill)
    pages = [
        ("/queues/payer-ar/", {}),
        ("/queues/payer-ar/", {"sort": "due", "status": "submitted"}),
        ("/queues/my-day/", {}),
        ("/api/v1/claims/", {"queue": "payer-ar"}),
    ]
    one = [_page_queries(client, url, **params)[0] for url, params in pages]
    for _ in range(49):
        make_claim(status=ClaimStatus.SUBMITTED)
    fifty = []
    for url, params in pages:
        count, response = _page_queries(client, url, **params)
        rows = response.json()["results"] if url.startswith("/api/") else response.context["rows"]
        assert len(rows) == 50, url
        fifty.append(count)
    assert fifty == one


def test_the_queue_page_renders_every_registered_queue_the_user_works(world, client_for):
    """The links of the queue tabs are still reversed per queue (a handful a page)."""
    client = client_for(world.bill)
    html = client.get("/queues/payer-ar/").content.decode()
    for queue in registry.queues():
        if queue.item_type == CLAIM.key:
            assert f'href="{reverse("queue", args=[queue.slug])}"' in html
