"""A biller's journeys in Debian's Chromium driven by Playwright (no browser download).

Log in as bill.biller, open My day, work next, log a follow-up, set the next action, and
see the claim leave the top of the queue. Then (issue 9): find a claim with the header
search (``/``) and open it; log a call that sets the next action in the same submit and
"Save and next" on to the next claim of My day; My day on a 390 px phone (cards with the
same facts) and on a 1440 px desktop (one line per row).
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
from work.registry import registry

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
        page.set_default_timeout(40_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def sign_in(page, live_server, username="bill.biller"):
    page.goto(f"{live_server.url}/account/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo-pass-123")
    page.click("button[type=submit]")
    page.wait_for_url("**/queues/my-day/")


def claims_on_top(username="bill.biller"):
    """The demo gives the biller remittance and denial items too (their journeys are tested
    in tests/ar and tests/denials): hand them to nobody, so My day's top is a claim."""
    for item_type in registry.types():
        if item_type.model is not Claim:
            item_type.model._default_manager.filter(owner__username=username).update(owner=None)


@pytest.mark.django_db(transaction=True)
def test_biller_works_the_top_of_my_day(live_server, browser_page):
    call_command("seed_demo", stdout=io.StringIO())
    claims_on_top()
    page = browser_page
    sign_in(page, live_server)
    first_row = page.locator("#queue-table tbody tr.queue-row").first
    top_number = first_row.locator("td:nth-child(2) a").inner_text()
    assert top_number

    page.keyboard.press("n")  # work next
    page.wait_for_url("**/claims/*/?from=my-day")
    assert page.locator("h1").inner_text().startswith(f"Claim {top_number}")
    claim = Claim.objects.get(pms_claim_number=top_number)
    assert claim.locked_by.username == "bill.biller"
    follow_ups_before = claim.follow_up_count

    page.select_option("#follow-up-form select[name=channel]", "phone")
    page.fill("#follow-up-form input[name=contact]", "Delta rep Ann, ref 778")
    page.fill("#follow-up-form textarea[name=outcome]", "Claim in review, allow 14 days")
    page.click("#follow-up-form button[type=submit]:not([name=then])")
    page.wait_for_selector("text=Follow-up logged.")

    recheck = timezone.localdate() + dt.timedelta(days=14)
    page.select_option("#next-action-form select[name=next_action]", "wait")
    page.fill("#next-action-form input[name=next_action_due]", recheck.isoformat())
    page.fill("#next-action-form input[name=wait_reason]", "payer review")
    page.click("#next-action-form button[type=submit]:not([name=then])")
    page.wait_for_selector("text=Next action saved.")
    assert "Delta rep Ann" in page.locator("#timeline").inner_text()

    page.goto(f"{live_server.url}/queues/my-day/")
    new_top = page.locator("#queue-table tbody tr.queue-row").first
    assert new_top.locator("td:nth-child(2) a").inner_text() != top_number
    assert top_number not in page.locator("#queue-table").inner_text()
    claim.refresh_from_db()
    assert (claim.next_action, claim.locked_by) == ("wait", None)
    assert claim.follow_up_count == follow_ups_before + 1


def _rows(page):
    return page.locator("#queue-table tbody tr.queue-row")


@pytest.mark.django_db(transaction=True)
def test_search_a_call_in_one_submit_and_my_day_on_phone_and_desktop(live_server, browser_page):
    call_command("seed_demo", stdout=io.StringIO())
    claims_on_top()
    page = browser_page
    sign_in(page, live_server)

    # Search from the header: "/" focuses the box; the term goes in a POST body.
    wanted = Claim.objects.filter(owner__username="bill.biller").order_by("pk").first()
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "global-search"
    page.keyboard.type(wanted.pms_claim_number)
    page.keyboard.press("Enter")
    page.wait_for_selector("#search-claims")
    assert page.url.endswith("/search/")  # the term is not in the URL
    page.locator(f"#search-claims a:text-is('{wanted.pms_claim_number}')").first.click()
    page.wait_for_url("**/claims/*/")
    assert page.locator("h1").inner_text().startswith(f"Claim {wanted.pms_claim_number}")
    assert page.locator("#caller-facts").inner_text().count("Member id") == 1

    # A payer call from My day: outcome and next action in one submit, then on to the next.
    page.goto(f"{live_server.url}/queues/my-day/")
    first, second = _rows(page).nth(0), _rows(page).nth(1)
    first_number = first.locator("td:nth-child(2) a").inner_text()
    second_number = second.locator("td:nth-child(2) a").inner_text()
    first.locator("td:nth-child(2) a").click()
    page.wait_for_url("**/claims/*/?from=my-day")
    due = timezone.localdate() + dt.timedelta(days=7)
    page.keyboard.press("f")  # to the follow-up form
    assert page.evaluate("document.activeElement.name") == "channel"
    page.select_option("#follow-up-form select[name=channel]", "phone")
    page.fill("#follow-up-form input[name=contact]", "Ann at the payer, ref 99")
    page.fill("#follow-up-form textarea[name=outcome]", "Reprocessing, call back in a week")
    page.select_option("#follow-up-form select[name=next_action]", "call_payer")
    page.fill("#follow-up-form input[name=next_action_due]", due.isoformat())
    page.click("#save-and-next")
    page.wait_for_selector("text=Follow-up logged.")
    assert page.locator("h1").inner_text().startswith(f"Claim {second_number}")
    called = Claim.objects.get(pms_claim_number=first_number, owner__username="bill.biller")
    assert (called.next_action, called.next_action_due) == ("call_payer", due)

    # An invalid call ("wait" without a reason) comes back focused on the field.
    page.select_option("#follow-up-form select[name=channel]", "phone")
    page.fill("#follow-up-form input[name=contact]", "Bob")
    page.fill("#follow-up-form textarea[name=outcome]", "On hold")
    page.select_option("#follow-up-form select[name=next_action]", "wait")
    page.fill("#follow-up-form input[name=next_action_due]", due.isoformat())
    page.click("#follow-up-form button[type=submit]:not([name=then])")
    page.wait_for_selector("#fu_wait_reason.is-invalid")
    assert page.evaluate("document.activeElement.id") in ("fu_wait_reason", "fu_next_action_due")

    # My day on a 390 px phone: cards with next action, due date and amount, no sideways scroll.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/queues/my-day/")
    assert page.eval_on_selector("#queue-table thead", "e => getComputedStyle(e).display") == (
        "none"
    )
    card = _rows(page).first
    for label in ("Next action", "Owner", "Billed"):
        cell = card.locator(f"td[data-label='{label}']")
        assert cell.is_visible()
        box = cell.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390, (label, box)

    # ...and on a 1440 px desktop: each row one line.
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/queues/my-day/")
    heights = [
        _rows(page).nth(i).bounding_box()["height"] for i in range(min(5, _rows(page).count()))
    ]
    line = page.eval_on_selector(
        "#queue-table tbody td.cell-item", "e => parseFloat(getComputedStyle(e).lineHeight)"
    )
    assert heights and max(heights) < 2 * line + 16, (heights, line)
