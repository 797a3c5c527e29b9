"""A small practice history built through the services, with figures computed by hand.

Sunrise (``build``), all "today" (T) unless said:

| claim | billed | date of service | what happens | balance with the payer |
|---|---|---|---|---|
| K1 | 100.00 | T-10 | submitted, accepted; next action due T-3 (overdue, bill) | 100.00 (0-30) |
| K2 | 200.00 | T-40 | submitted, rejected | not with the payer |
| K3 | 300.00 | T-100 | submitted, accepted, paid in full | 0 |
| K4 | 400.00 | T-5 | 835: paid 200, PR 20, CO-45 180; fee schedule 300 | 0 |
| K5 | 500.00 | T-95 | denied: D1 and D2 (below) | 500.00 (91-120) |
| K6 | 50.00 | T-3 | draft, next action: request info from the practice | not submitted |

D1: CO-29 500.00 on K5 (timely filing), written off by sam (500.00). D2: CO-16 100.00 on
K5's line (missing information), appealed and overturned (100.00 recovered).

Hand-computed figures for the day T (``EXPECTED``):

- claims submitted: K1-K5 = 5; clean claim rate: all five answered, K2 rejected: 4/5 = 80.00 %
- submission lag: (10 + 40 + 100 + 5 + 95) / 5 = 50.00 days
- first-pass denial rate: answered by the payer K3, K4, K5; denied K5: 1/3 = 33.33 %;
  by amount 500 / (300 + 400 + 500) = 41.67 %
- payer A/R: K1 100.00 (0-30) + K5 500.00 (91-120) = 600.00; over 90: 500/600 = 83.33 %
- days in A/R: charges with a date of service in T-89..T (K1, K2, K4, K6) = 750.00,
  750/90 per day: 600 / 8.3333... = 72.00 days
- net collection: 200 / (400 - 180) = 90.91 %; gross: 200 / 400 = 50.00 %; posted 200.00
- unresolved insurance requests: K1 (accepted), K5 (appealed), K6 (request info) = 3
- denials by category: timely filing 1 / 500.00, missing info 1 / 100.00; by service:
  claim level 1 / 500.00, D1110 1 / 100.00
- appeal overturn rate: 1/1 = 100.00 %; timely-filing write-offs: 500.00
- underpayments found: 300 - 200 - 20 = 80.00
- dollars resolved: bill posted 200.00 (the 835) and owns D2, closed overturned with
  100.00 recovered: 300.00
- overdue next actions: bill 1 (K1)
- patient A/R: K4's patient owes the 20.00 the 835 moved to them (ledger charge today): 0-30
- no data yet: underpayments recovered (eligibility: ``test_kpis``)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from ar import services as ar_services
from claims import services as claim_services
from claims.choices import NextAction
from denials import appeals
from denials import services as denial_services
from practices.models import FeeScheduleLine
from tests import claim_factory, factories
from tests.ar.test_x12_835 import era

D = Decimal


def _claim(world: Any, practice: Any, payer: Any, provider: Any, number: str, **kw: Any) -> Any:
    patient = factories.PatientFactory(practice=practice, last_name=f"Pt{number}")
    coverage = factories.CoverageFactory(patient=patient, payer=payer)
    today = timezone.localdate()
    billed = kw.pop("billed")
    age = kw.pop("age")
    return claim_factory.make(
        actor=world.bill,
        patient=patient,
        coverage=coverage,
        provider=provider,
        number=number,
        owner=world.bill,
        service_date_from=today - dt.timedelta(days=age),
        lines=[{"procedure_code": "D1110", "charge": D(billed)}],
        **kw,
    )


def build(world: Any) -> dict[str, Any]:
    """The Sunrise history above; returns its claims and denials by name."""
    today = timezone.localdate()
    practice = world.sunrise
    payer = factories.PayerFactory(
        practice=practice, name="Example Health Plan", payer_id="1417776310", timely_filing_days=365
    )
    provider = factories.ProviderFactory(practice=practice)
    mk = lambda number, **kw: _claim(world, practice, payer, provider, number, **kw)  # noqa: E731
    k1 = mk("K1", billed="100.00", age=10, status="accepted", next_action_due=today)
    k1 = claim_services.claim_set_next_action(
        actor=world.bill,
        claim=k1,
        next_action=NextAction.CALL_PAYER,
        next_action_due=today - dt.timedelta(days=3),
    )
    mk("K2", billed="200.00", age=40, status="rejected")
    mk("K3", billed="300.00", age=100, status="paid")
    k4 = mk(
        "K4", billed="400.00", age=5, status="submitted", next_action=NextAction.WAIT,
        wait_reason="payer answer",
    )  # fmt: skip
    FeeScheduleLine.objects.create(
        practice=practice,
        payer=payer,
        procedure_code="D1110",
        allowed_amount=D("300.00"),
        effective_from=dt.date(2020, 1, 1),
    )
    lines = ["CLP*K4*1*400*200*20*12*K4PAYER", "SVC*HC:D1110*400*200**1"]
    text = era([*lines, "CAS*PR*2*20", "CAS*CO*45*180"], "200", trace="KPI-1")
    batch = ar_services.remittance_upload(
        actor=world.bill,
        practice=practice,
        content=text.encode(),
        filename="kpi.835",
        dry_run=False,
        enqueue=False,
    )
    ar_services.remittance_run(batch.pk)
    k5 = mk("K5", billed="500.00", age=95, status="denied")
    d1 = denial_services.open_denial(
        actor=world.bill, claim=k5, group_code="CO", carc="29", amount=D("500.00"),
        received_on=today,
    )  # fmt: skip
    d2 = denial_services.open_denial(
        actor=world.bill, claim=k5, line=k5.lines.get(), group_code="CO", carc="16",
        amount=D("100.00"), received_on=today,
    )  # fmt: skip
    appeal = appeals.appeal_create(actor=world.bill, denial=d2)
    appeal = appeals.appeal_send(actor=world.bill, appeal=appeal, method="portal")
    appeals.appeal_decide(
        actor=world.bill, appeal=appeal, outcome="overturned", amount_recovered="100.00"
    )
    d1.refresh_from_db()
    denial_services.denial_write_off(actor=world.sam, denial=d1, reason="Filed late.")
    mk(
        "K6", billed="50.00", age=3, next_action=NextAction.REQUEST_INFO_PRACTICE,
    )  # fmt: skip
    k4.refresh_from_db()
    return {"k1": k1, "k4": k4, "k5": k5, "d1": d1, "d2": d2, "payer": payer}


EXPECTED: dict[str, Any] = {
    "claims_submitted": 5,
    "clean_claim_rate": D("80.00"),
    "submission_lag": D("50.00"),
    "first_pass_denial_rate": D("33.33"),
    "first_pass_denial_amount_rate": D("41.67"),
    "ar_over_90": D("83.33"),
    "days_in_ar": D("72.00"),
    "net_collection_rate": D("90.91"),
    "gross_collection_rate": D("50.00"),
    "payments_posted": D("200.00"),
    "unresolved_insurance_requests": 3,
    "appeal_overturn_rate": D("100.00"),
    "timely_filing_write_offs": D("500.00"),
    "underpayments_found": D("80.00"),
}
EXPECTED_AGING = {"0-30": D("100.00"), "91-120": D("500.00")}
EXPECTED_CATEGORIES = {"timely_filing": (1, D("500.00")), "missing_info": (1, D("100.00"))}
EXPECTED_SERVICES = {"claim level": (1, D("500.00")), "D1110": (1, D("100.00"))}
EXPECTED_PATIENT_AGING = {"0-30": D("20.00")}
NO_DATA_YET = ("underpayments_recovered",)
