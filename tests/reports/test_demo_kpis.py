"""The demo's year of KPI snapshots: written in bulk, idempotent, and what the dashboard's
trend charts draw on the first run."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from demo.kpis import DAYS, reset_kpis, seed_kpis
from reports import dashboard
from reports.models import PracticeDay, VendorDay
from reports.selectors import period


def test_a_year_of_snapshots_twice_and_reset(world: Any) -> None:
    users = {"bill.biller": world.bill}
    practices = [world.sunrise, world.maple]
    assert seed_kpis(practices, users) == 2 * DAYS
    first = list(
        PracticeDay.objects.order_by("practice_id", "day").values_list("figures", flat=True)
    )
    assert seed_kpis(practices, users) == 2 * DAYS
    again = list(
        PracticeDay.objects.order_by("practice_id", "day").values_list("figures", flat=True)
    )
    assert again == first and len(again) == 2 * DAYS
    assert VendorDay.objects.count() == len(
        set(PracticeDay.objects.values_list("day", flat=True))
        & set(VendorDay.objects.values_list("day", flat=True))
    )
    assert not PracticeDay.objects.filter(day=timezone.localdate()).exists()  # today is live

    built = dashboard.build([world.sunrise.pk], period("last_month", timezone.localdate()))
    clean = next(t for t in built["chart"]["trends"] if t["key"] == "clean_claim_rate")
    assert len(clean["data"]) == 12
    assert all(value is not None for value in clean["data"])  # every month drawn
    assert clean["data"][0] < clean["data"][-1]  # and improving over the year
    assert built["figures"]["days_in_ar"].value is not None

    reset_kpis(practices)
    assert not PracticeDay.objects.exists() and not VendorDay.objects.exists()
