"""Issue 7, point 3: a dental line keeps all its teeth, and the queues, My day and the
search results show them on the row, read once per page (no query per row)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims.imports import services
from claims.models import Claim, ImportJob
from claims.teeth import row_teeth, teeth_label

FILES = Path(__file__).parent / "import_files"
FIVE_TEETH = "D5213 #31, 30, 21 MO, 19, 18 DOL"
BRIDGE = [
    {
        "procedure_code": "D6240",
        "charge": Decimal("900.00"),
        "teeth": [{"tooth": "31"}, {"tooth": "30"}, {"tooth": "21", "surfaces": "MO"}],
    },
    {"procedure_code": "D1110", "charge": Decimal("95.00")},  # no tooth: no label
    {"procedure_code": "D2391", "charge": Decimal("150.00"), "tooth": "3", "surfaces": "MOD"},
]
BRIDGE_TEETH = "D6240 #31, 30, 21 MO; D2391 #3 MOD"


def in_sunrise(client: Any, world: Any) -> Any:
    session = client.session
    session["practice_id"] = world.sunrise.pk
    session.save()
    return client


def import_five_teeth(world: Any) -> Claim:
    content = (FILES / "d_five_teeth.837").read_bytes()
    job = services.import_file(
        actor=world.bill, practice=world.sunrise, content=content, filename="d_five_teeth.837"
    )
    ran: ImportJob | None = services.run_import_job(job.pk)
    assert ran is not None and ran.created_count == 1, ran and ran.errors
    return Claim.objects.get(pms_claim_number="SD-3001")


def row_of(html: str, number: str) -> str:
    """The HTML of the table row naming claim ``number``."""
    start = html.index(f">{number}</a>")
    return html[html.rindex("<tr", 0, start) : html.index("</tr>", start)]


def test_teeth_label_reads_like_the_chart():
    assert teeth_label([{"tooth": "31"}, {"tooth": "30", "surfaces": ""}]) == "#31, 30"
    assert teeth_label([{"tooth": "21", "surfaces": "MO"}]) == "#21 MO"
    assert teeth_label([]) == "" and teeth_label([{"tooth": ""}]) == ""


def test_an_imported_line_shows_every_tooth_in_the_queues_my_day_and_search(world, client_for):
    claim = import_five_teeth(world)
    client = in_sunrise(client_for(world.bill), world)
    pages = {url: client.get(url) for url in ("/queues/all-open/", "/queues/my-day/")}
    pages["search"] = client.post("/search/", {"q": "SD-3001"})  # a POST: no PHI in URLs
    for url, page in pages.items():
        assert page.status_code == 200, url
        row = row_of(page.content.decode(), claim.pms_claim_number)
        assert 'class="row-teeth' in row and FIVE_TEETH in row, url


def test_each_line_with_teeth_has_its_label_and_a_claim_without_teeth_none(
    world, client_for, make_claim
):
    bridge = make_claim(lines=BRIDGE)
    plain = make_claim(lines=[{"procedure_code": "D1110", "charge": Decimal("95.00")}])
    client = in_sunrise(client_for(world.bill), world)
    for url in ("/queues/all-open/", "/queues/my-day/"):
        html = client.get(url).content.decode()
        assert BRIDGE_TEETH in row_of(html, bridge.pms_claim_number), url
        assert "row-teeth" not in row_of(html, plain.pms_claim_number), url


def test_a_claim_read_without_the_prefetch_costs_no_query_and_shows_nothing(world, make_claim):
    claim = make_claim(lines=BRIDGE)
    fresh = Claim.objects.get(pk=claim.pk)
    with CaptureQueriesContext(connection) as queries:
        assert row_teeth(fresh) == []
    assert len(queries) == 0


def test_a_page_of_50_dental_claims_costs_the_queries_of_a_page_of_one(
    world, client_for, make_claim
):
    make_claim(lines=BRIDGE)
    client = in_sunrise(client_for(world.bill), world)
    urls = ("/queues/all-open/", "/queues/my-day/")
    for url in urls:
        client.get(url)  # warm sessions and content types
    one = {}
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        one[url] = len(queries)
    for _ in range(49):  # a full page, and no next one (paging costs its own queries)
        make_claim(lines=BRIDGE)
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            page = client.get(url)
        assert len(page.context["rows"]) == 50, url  # a full page
        assert page.content.decode().count(BRIDGE_TEETH) == 50, url
        assert len(queries) == one[url], url
