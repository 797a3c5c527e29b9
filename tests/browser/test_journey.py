"""A biller's journey in Debian's Chromium driven by Playwright (no browser download).

Log in as bill.biller, open My day, work next, log a follow-up, set the next action, and
see the claim leave the top of the queue.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil

import pytest
from django.core.management import call_command
from django.utils import timezone

from claims.models import Claim

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

HAVE_CHROMIUM = bool(shutil.which(CHROMIUM) or os.path.exists(CHROMIUM))
# On a developer's machine without Chromium the journeys skip; under CI (CI=true) a
# missing browser fails the run instead of skipping it silently.
if os.environ.get("CI") and not HAVE_CHROMIUM:
    raise RuntimeError(f"CI needs Debian's chromium at {CHROMIUM} (apt-get install chromium).")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not HAVE_CHROMIUM,
        reason="Debian's chromium is not installed (apt-get install chromium)",
    ),
]


@pytest.fixture
def browser_page(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls
    # are still synchronous (Django's documented escape hatch for such tools).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


@pytest.mark.django_db(transaction=True)
def test_biller_works_the_top_of_my_day(live_server, browser_page):
    call_command("seed_demo", stdout=io.StringIO())
    page = browser_page
    page.goto(f"{live_server.url}/account/login/")
    page.fill("input[name=username]", "bill.biller")
    page.fill("input[name=password]", "demo-pass-123")
    page.click("button[type=submit]")
    page.wait_for_url("**/queues/my-day/")
    first_row = page.locator("#queue-table tbody tr.queue-row").first
    top_number = first_row.locator("td:nth-child(2) a").inner_text()
    assert top_number

    page.keyboard.press("n")  # work next
    page.wait_for_url("**/claims/*/")
    assert page.locator("h1").inner_text().startswith(f"Claim {top_number}")
    claim = Claim.objects.get(pms_claim_number=top_number)
    assert claim.locked_by.username == "bill.biller"
    follow_ups_before = claim.follow_up_count

    page.select_option("#follow-up-form select[name=channel]", "phone")
    page.fill("#follow-up-form input[name=contact]", "Delta rep Ann, ref 778")
    page.fill("#follow-up-form textarea[name=outcome]", "Claim in review, allow 14 days")
    page.click("#follow-up-form button[type=submit]")
    page.wait_for_selector("text=Follow-up logged.")

    recheck = timezone.localdate() + dt.timedelta(days=14)
    page.select_option("#next-action-form select[name=next_action]", "wait")
    page.fill("#next-action-form input[name=next_action_due]", recheck.isoformat())
    page.fill("#next-action-form input[name=wait_reason]", "payer review")
    page.click("#next-action-form button[type=submit]")
    page.wait_for_selector("text=Next action saved.")
    assert "Delta rep Ann" in page.locator("#timeline").inner_text()

    page.goto(f"{live_server.url}/queues/my-day/")
    new_top = page.locator("#queue-table tbody tr.queue-row").first
    assert new_top.locator("td:nth-child(2) a").inner_text() != top_number
    assert top_number not in page.locator("#queue-table").inner_text()
    claim.refresh_from_db()
    assert (claim.next_action, claim.locked_by) == ("wait", None)
    assert claim.follow_up_count == follow_ups_before + 1
