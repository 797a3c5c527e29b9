"""The README's quick tour, one persona at a time, in Chromium: what each one lands on and
works with. With ``BILLING_OPS_SCREENSHOTS=1`` it also saves the README's screenshots into
``docs/screenshots/`` (small palette PNGs), so they stay current with the pages.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from tests.browser.test_journey import browser_page, pytestmark  # noqa: F401 (fixture, marks)
from tests.conftest import login

SHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"
SAVE = os.environ.get("BILLING_OPS_SCREENSHOTS") == "1"
MAX_BYTES = 150_000
WIDTH, HEIGHT = 1280, 760


def as_user(page, live_server, username: str) -> None:
    """The browser takes over a signed-in session (second factor verified), as after the
    login and authenticator pages the journey tests already drive."""
    client = login(Client(), get_user_model().objects.get(username=username))
    page.context.clear_cookies()
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


def shoot(page, name: str) -> None:
    if not SAVE:
        return
    from PIL import Image

    SHOTS.mkdir(parents=True, exist_ok=True)
    raw = Image.open(io.BytesIO(page.screenshot(full_page=False)))
    path = SHOTS / f"{name}.png"
    raw.convert("RGB").quantize(colors=64).save(path, optimize=True)
    assert 0 < path.stat().st_size <= MAX_BYTES, (path, path.stat().st_size)


@pytest.mark.django_db(transaction=True)
def test_quick_tour_per_persona(live_server, browser_page):  # noqa: F811 (the fixture)
    call_command("seed_demo", stdout=io.StringIO())
    page = browser_page
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})

    # Front desk: lands on the day sheet; finds a patient as the patients list writes names.
    as_user(page, live_server, "fran.frontdesk")
    page.goto(f"{live_server.url}/")
    page.wait_for_url("**/day-sheet/")
    page.goto(f"{live_server.url}/patients/")
    first = page.locator("#patient-table tbody tr td a").first
    listed = first.inner_text()  # "Last, First"
    page.fill("#q", listed)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#patient-table tbody tr').length <= n", arg=5
    )
    assert listed in page.locator("#patient-table").inner_text()
    shoot(page, "front-desk-patients")

    # Biller: My day by priority with the reasons on the row, then a claim's page.
    as_user(page, live_server, "bill.biller")
    page.goto(f"{live_server.url}/")
    page.wait_for_url("**/queues/my-day/")
    rows = page.locator("#queue-table tbody tr.queue-row")
    assert rows.count() > 10
    shoot(page, "biller-my-day")
    # My day mixes item types (denials too): open its first claim.
    link = page.locator("#queue-table tbody tr.queue-row td:nth-child(2) a[href*='/claims/']")
    number = link.first.inner_text()
    link.first.click()
    page.wait_for_url("**/claims/*/?from=my-day")
    assert page.locator("h1").inner_text().startswith(f"Claim {number}")
    assert page.locator("#follow-up-form").is_visible()
    shoot(page, "biller-claim")

    # Vendor staff: Sunrise's insurance billing only; the payer AR queue there.
    as_user(page, live_server, "vera.vendor")
    page.goto(f"{live_server.url}/queues/payer-ar/")
    text = page.locator("#queue-table").inner_text()
    assert page.locator("#queue-table tbody tr.queue-row").count() > 10
    assert "Maple" not in text
    shoot(page, "vendor-payer-ar")
    # The collapsed filter panel is read when opened (htmx), then filters the queue.
    page.locator("details summary", has_text="Filters and sort").click()
    page.locator("#queue-filters select[name=status]").select_option("denied")
    page.locator("#queue-filters button[type=submit]").click()
    page.wait_for_url("**/queues/payer-ar/?*status=denied*")
    assert page.locator("#queue-filters select[name=status]").input_value() == "denied"

    # The vendor lead: every practice of hers in one list, with a practice column.
    as_user(page, live_server, "val.vendorlead")
    page.goto(f"{live_server.url}/queues/my-day/?practices=all")
    practices = page.locator("#queue-table tbody td[data-label='Practice']").all_inner_texts()
    assert len(set(practices)) == 2, set(practices)
    shoot(page, "vendor-lead-all-practices")

    # Manager: the landing says what needs her and links to the workload by owner.
    as_user(page, live_server, "sam.manager")
    page.goto(f"{live_server.url}/")
    page.wait_for_url("**/kpis/")  # managers land on the KPI dashboard (issue 15)
    page.goto(f"{live_server.url}/queues/my-day/")
    page.click("a:text-is('By owner')")
    page.wait_for_url("**/queues/owners/")
    assert "Open work by owner" in page.locator("h1").inner_text()
    assert "bill.biller" in page.locator("#owners-table").inner_text()
    shoot(page, "manager-by-owner")

    if SAVE:
        assert sorted(p.stem for p in SHOTS.glob("*.png")) == sorted(
            [
                "biller-claim",
                "biller-my-day",
                "front-desk-patients",
                "manager-by-owner",
                "vendor-lead-all-practices",
                "vendor-payer-ar",
            ]
        )
