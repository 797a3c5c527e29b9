"""The demo's year of KPI snapshots: written in bulk, idempotent, and what the dashboard's
trend charts draw on the first run."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from demo.kpis import DAYS, reset_kpis, seed_kpis
from reports import dashboard
from reports.models import PracticeDay, PracticeMonth, VendorDay
from reports.months import months_of
from reports.selectors import period


def _first_month(today: dt.date) -> tuple[dt.date, dt.date]:
    start = today - dt.timedelta(days=DAYS)
    return start, start + dt.timedelta(days=27)


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
    # The month rows of every month of the year (the long periods read them).
    today = timezone.localdate()
    touched = months_of(today - dt.timedelta(days=DAYS), today - dt.timedelta(days=1))
    assert PracticeMonth.objects.count() == 2 * len(touched)
    for pid in (world.sunrise.pk, world.maple.pk):
        stored = PracticeMonth.objects.filter(practice_id=pid).values_list("parts", flat=True)
        assert sum(parts["days"].bit_count() for parts in stored) == DAYS

    built = dashboard.build([world.sunrise.pk], period("last_month", timezone.localdate()))
    clean = next(t for t in built["chart"]["trends"] if t["key"] == "clean_claim_rate")
    assert len(clean["data"]) == 12
    assert all(value is not None for value in clean["data"])  # every month drawn
    assert clean["data"][0] < clean["data"][-1]  # and improving over the year
    assert built["figures"]["days_in_ar"].value is not None
    # The patient A/R figures are in the made-up year too, improving like the payer side.
    for key in ("patient_days_in_ar", "patient_ar_over_90"):
        figure = built["figures"][key]
        assert figure.value is not None and not figure.no_data, key
    assert built["aging_patient_no_data"] is False
    assert sum(patient for _, _, _, patient in built["aging"]) > 0
    year_ago = dashboard.build(
        [world.sunrise.pk],
        period("custom", timezone.localdate(), *_first_month(timezone.localdate())),
    )
    for key in ("patient_days_in_ar", "patient_ar_over_90"):
        assert year_ago["figures"][key].value > built["figures"][key].value, key

    reset_kpis(practices)
    assert not PracticeDay.objects.exists() and not VendorDay.objects.exists()
    assert not PracticeMonth.objects.exists()
