"""A queue page opened without parameters does not build its collapsed filter panel (issue
10: "the collapsed filter form alone costs 10.8 ms and 3 queries"): the panel is read from
``/queues/<slug>/filters/`` when it is opened, the same form a filtered page renders inline,
with the same access."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims.choices import ClaimStatus


def _panel(html: str) -> str:
    return html[
        html.index('<form method="get"') : html.index("</form>", html.index('id="queue-filters"'))
    ]


@pytest.mark.parametrize("slug", ["payer-ar", "rejections", "unassigned", "all-open"])
def test_an_unfiltered_page_reads_its_panel_when_opened(world, client_for, make_claim, slug):
    make_claim(status=ClaimStatus.DENIED)
    client = client_for(world.bill)
    html = client.get(f"/queues/{slug}/").text
    assert 'id="queue-filters"' not in html
    details = re.search(r"<details [^>]*>", html).group(0)
    assert f'hx-get="/queues/{slug}/filters/"' in details
    assert 'hx-trigger="toggle once"' in details and " open" not in details
    # Without htmx: a link to the same page with its panel open.
    assert '<a href="?sort=priority">open them here</a>' in html
    panel = client.get(f"/queues/{slug}/filters/")
    assert panel.status_code == 200
    # What the page renders inline once it has parameters, the chosen sort apart.
    inline = client.get(f"/queues/{slug}/", {"sort": "priority"}).text
    assert _panel(panel.text) == _panel(inline)
    assert '<select name="payer"' in panel.text and "<details" not in panel.text


def test_the_next_pages_read_their_panel_when_opened_too(world, client_for, make_claim):
    """A cursor is no filter: the pages after the first keep the panel collapsed (it opened
    on every next page before, the filterset being bound by the cursor alone)."""
    make_claim(status=ClaimStatus.DENIED)
    html = client_for(world.bill).get("/queues/payer-ar/", {"after": "x", "trail": ""}).text
    assert 'id="queue-filters"' not in html
    details = re.search(r"<details [^>]*>", html).group(0)
    assert " open" not in details and "hx-get" in details


def test_a_filtered_page_renders_its_panel_open(world, client_for, make_claim):
    make_claim(status=ClaimStatus.DENIED)
    html = client_for(world.bill).get("/queues/payer-ar/", {"status": "denied"}).text
    details = re.search(r"<details [^>]*>", html).group(0)
    assert " open" in details and "hx-get" not in details
    assert '<option value="denied" selected>' in _panel(html)


def test_the_unfiltered_page_reads_fewer_queries(world, client_for, make_claim):
    make_claim(status=ClaimStatus.DENIED)
    client = client_for(world.bill)
    client.get("/queues/payer-ar/")
    with CaptureQueriesContext(connection) as plain:
        client.get("/queues/payer-ar/")
    with CaptureQueriesContext(connection) as sorted_:
        client.get("/queues/payer-ar/", {"sort": "priority"})
    # The panel's practice and payer choices are not read.
    assert len(plain) == len(sorted_) - 2
    assert not any('FROM "practices_payer"' in q["sql"] for q in plain.captured_queries)
    assert any('FROM "practices_payer"' in q["sql"] for q in sorted_.captured_queries)


def test_the_panel_answers_404_for_my_day_and_unknown_queues(world, client_for):
    client = client_for(world.bill)
    assert client.get("/queues/my-day/filters/").status_code == 404
    assert client.get("/queues/nope/filters/").status_code == 404


def test_the_panel_reads_the_same_queries_for_every_queue(world, client_for, make_claim):
    """The panel lists no rows: Unassigned's owner walk and holder reads are not run for it
    (second reviewer)."""
    make_claim(status=ClaimStatus.DENIED)
    client = client_for(world.bill)
    counts = {}
    for slug in ("payer-ar", "rejections", "unassigned", "all-open"):
        client.get(f"/queues/{slug}/filters/")
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/queues/{slug}/filters/").status_code == 200
        counts[slug] = len(ctx)
        assert not any("WITH RECURSIVE" in q["sql"] for q in ctx.captured_queries), slug
    assert len(set(counts.values())) == 1, counts
