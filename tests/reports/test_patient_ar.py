"""Days in patient A/R and % of patient A/R over 90 days, apart from the payer's, on a
small ledger computed by hand (T is today):

| account | entries | balance | oldest unpaid | bucket |
|---|---|---|---|---|
| A | charge 150.00 on T-100, charge 60.00 on T-10 | 210.00 | T-100 | 91-120 |
| B | charge 90.00 on T-20, payment 30.00 | 60.00 | T-20 | 0-30 |
| C | charge 40.00 on T-5, payment 40.00 | 0.00 | none | (owes nothing) |
| D | charge 25.00 on T-3, reversed | 0.00 | none | (owes nothing) |

- patient A/R = 210.00 + 60.00 = 270.00; over 90 days: 210.00 -> 210 / 270 = 77.78 %
- charges with an entry date in T-89..T: 60 + 90 + 40 + 25 - 25 (the reversal) = 190.00;
  per day 190 / 90; days in patient A/R = 270 / (190 / 90) = 127.89 days
- the payer side of the same practice has no claims: no payer figure is counted
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from ar import ledger
from reports import catalogue, rollups
from reports.values import Ratio
from tests import factories


def _account(world: Any, name: str) -> Any:
    patient = factories.PatientFactory(practice=world.sunrise, last_name=name)
    return ledger.account_for(actor=world.bill, patient=patient)


def _ledger(world: Any) -> None:
    today = timezone.localdate()
    ago = lambda days: today - dt.timedelta(days=days)  # noqa: E731
    post = lambda account, kind, amount, **kw: ledger.ledger_post(  # noqa: E731
        actor=world.bill, account=account, kind=kind, amount=amount, **kw
    )
    a, b, c, d = (_account(world, name) for name in ("Apple", "Birch", "Cedar", "Dogwood"))
    post(a, "charge", "150.00", entry_date=ago(100))
    post(a, "charge", "60.00", entry_date=ago(10))
    post(b, "charge", "90.00", entry_date=ago(20))
    post(b, "payment", "30.00", method="cash")
    post(c, "charge", "40.00", entry_date=ago(5))
    post(c, "payment", "40.00", method="cash")
    charge = post(d, "charge", "25.00", entry_date=ago(3))
    ledger.ledger_reverse(actor=world.bill, entry=charge, reason="Entered twice.")


def _value(key: str, world: Any) -> Any:
    today = timezone.localdate()
    per_practice = catalogue.BY_KEY[key].compute([world.sunrise.pk], today, today)
    assert per_practice is not None
    return per_practice.get(world.sunrise.pk)


def test_patient_ar_figures_to_the_cent(world: Any) -> None:
    _ledger(world)
    over = _value("patient_ar_over_90", world)
    assert over == Ratio(Decimal("210.00"), Decimal("270.00"))
    assert over.value == Decimal("77.78")
    days = _value("patient_days_in_ar", world)
    assert days.num == Decimal("270.00") and days.den * 90 == Decimal("190.00")
    assert days.value == Decimal("127.89")
    assert _value("ar_aging_patient", world) == {
        "91-120": Decimal("210.00"),
        "0-30": Decimal("60.00"),
    }
    # The payer side stays apart: no claims, nothing counted.
    assert _value("days_in_ar", world) is None and _value("ar_over_90", world) is None


def test_the_dashboard_and_api_show_them_apart(world: Any, client_for: Any) -> None:
    _ledger(world)
    today = timezone.localdate()
    rollups.rollup_day(day=today)
    sam = client_for(world.sam)
    figures = sam.get(f"/api/v1/kpis/?practice={world.sunrise.pk}").json()["figures"]
    assert figures["patient_ar_over_90"]["value"] == "77.78"
    assert figures["patient_days_in_ar"]["value"] == "127.89"
    assert figures["days_in_ar"]["value"] is None  # no payer A/R: none counted
    assert figures["days_in_ar"]["label"] == "Days in A/R (payer)"
    page = sam.get("/kpis/").text
    assert "77.78 % of patient A/R is over 90 days" in page
    assert "127.9 days" in page
