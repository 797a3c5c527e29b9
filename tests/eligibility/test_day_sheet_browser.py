"""Fran's morning in Chromium: she lands on the day sheet, verifies tomorrow's first
appointment on its check page (portal, active, copay) and sees its row change."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from eligibility.choices import CheckOutcome
from eligibility.models import EligibilityCheck
from tests.browser.test_journey import browser_page, pytestmark  # noqa: F401 (fixture, marks)
from tests.browser.test_tour import as_user


@pytest.mark.django_db(transaction=True)
def test_fran_verifies_tomorrows_first_appointment(live_server, browser_page):  # noqa: F811
    call_command("seed_demo", stdout=io.StringIO())
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    check = (
        EligibilityCheck.objects.filter(
            practice__slug="sunrise-dental", appointment__starts_at__date=tomorrow
        )
        .order_by("appointment__starts_at", "pk")
        .first()
    )
    assert check is not None and check.status == CheckOutcome.NOT_DONE
    page = browser_page
    as_user(page, live_server, "fran.frontdesk")
    page.goto(f"{live_server.url}/")
    page.wait_for_url("**/day-sheet/")
    row = page.locator(f"#appt-{check.appointment_id}")
    assert row.locator(".elig-status").get_attribute("data-status") == "not_done"
    assert row.locator("a.verify-link").first.inner_text().startswith("Verify")

    row.locator("a.verify-link").first.click()
    page.wait_for_url(f"**/eligibility/checks/{check.pk}/**")
    page.select_option("#result-form select[name=status]", "active")
    page.select_option("#result-form select[name=method]", "portal")
    page.fill("#result-form input[name=reference]", "PORTAL-4411")
    page.fill("#result-form input[name=copay]", "35.00")
    page.click("#result-form button[type=submit]")
    page.wait_for_url("**/day-sheet/")

    row = page.locator(f"#appt-{check.appointment_id}")
    assert row.locator(".elig-status").get_attribute("data-status") == "active"
    assert "Verified" in row.locator(".elig-status").inner_text()
    assert "$35.00" in row.locator(".copay").inner_text()
    check.refresh_from_db()
    assert check.status == CheckOutcome.ACTIVE and check.verified_by.username == "fran.frontdesk"
