"""The dashboard's catalogue of KPIs: for each figure, its definition in ``reports.kpis``,
its label, unit, which way is good news, the industry range of PRODUCT.md, and whether it
is a headline tile."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from reports import kpis, kpis_patient
from reports.kpis import Ids, PerPractice


@dataclass(frozen=True)
class Kpi:
    """One dashboard figure: how it is computed, shown, compared and linked."""

    key: str
    label: str
    compute: Callable[[Ids, dt.date, dt.date], PerPractice | None]
    unit: str  # "%", "days", "$", "count"
    stock: bool = False  # read as of the range's last day instead of summed over it
    better: str = "up"  # "up" or "down": which change is good news
    reference: tuple[Decimal, Decimal] | None = None  # industry range (PRODUCT.md)
    headline: bool = False  # a tile on the dashboard

    @property
    def formula(self) -> str:
        return " ".join((self.compute.__doc__ or "").split())


def _pct(low: str, high: str) -> tuple[Decimal, Decimal]:
    return Decimal(low), Decimal(high)


KPIS: list[Kpi] = [
    Kpi("clean_claim_rate", "Clean claim rate", kpis.clean_claim_rate, "%",
        reference=_pct("90", "95"), headline=True),
    Kpi("first_pass_denial_rate", "First-pass denial rate", kpis.first_pass_denial_rate, "%",
        better="down", reference=_pct("14", "16"), headline=True),
    Kpi("first_pass_denial_amount_rate", "First-pass denial rate (amount)",
        kpis.first_pass_denial_amount_rate, "%", better="down"),
    Kpi("days_in_ar", "Days in A/R (payer)", kpis.days_in_ar, "days", stock=True, better="down",
        headline=True),
    Kpi("ar_over_90", "% of payer A/R over 90 days", kpis.ar_over_90, "%", stock=True,
        better="down", headline=True),
    Kpi("patient_days_in_ar", "Days in patient A/R", kpis_patient.patient_days_in_ar, "days",
        stock=True, better="down"),
    Kpi("patient_ar_over_90", "% of patient A/R over 90 days", kpis_patient.patient_ar_over_90,
        "%", stock=True, better="down"),
    Kpi("net_collection_rate", "Net collection rate", kpis.net_collection_rate, "%", headline=True),
    Kpi("gross_collection_rate", "Gross collection ratio", kpis.gross_collection_rate, "%"),
    Kpi("payments_posted", "Payer payments posted", kpis.payments_posted, "$"),
    Kpi("claims_submitted", "Claims submitted", kpis.claims_submitted, "count"),
    Kpi("submission_lag", "Submission lag", kpis.submission_lag, "days", better="down",
        headline=True),
    Kpi("response_turnaround", "Payer response to next action", kpis.response_turnaround, "days",
        better="down"),
    Kpi("unresolved_insurance_requests", "Unresolved insurance requests",
        kpis.unresolved_insurance_requests, "count", stock=True, better="down", headline=True),
    Kpi("eligibility_verified", "Appointments verified before the day", kpis.eligibility_verified,
        "%", headline=True),
    Kpi("appeal_overturn_rate", "Appeal overturn rate", kpis.appeal_overturn_rate, "%",
        reference=_pct("50", "100")),
    Kpi("timely_filing_write_offs", "Timely-filing write-offs", kpis.timely_filing_write_offs, "$",
        better="down"),
    Kpi("underpayments_found", "Underpayments found", kpis.underpayments_found, "$"),
    Kpi("underpayments_recovered", "Underpayments recovered", kpis.underpayments_recovered, "$"),
    Kpi("ar_aging_payer", "Payer A/R aging", kpis.ar_aging_payer, "$", stock=True, better="down"),
    Kpi("ar_aging_patient", "Patient A/R aging", kpis.ar_aging_patient, "$", stock=True,
        better="down"),
    Kpi("denials_by_category", "Denials by category", kpis.denials_by_category, "$", better="down"),
    Kpi("denials_by_payer", "Denials by payer", kpis.denials_by_payer, "$", better="down"),
    Kpi("denials_by_provider", "Denials by provider", kpis.denials_by_provider, "$", better="down"),
    Kpi("denials_by_service", "Denials by service", kpis.denials_by_service, "$", better="down"),
    Kpi("overdue_by_owner", "Overdue next actions per owner", kpis.overdue_by_owner, "count",
        stock=True, better="down"),
    Kpi("dollars_resolved_by_staff", "Dollars resolved per staff member",
        kpis.dollars_resolved_by_staff, "$"),
]  # fmt: skip
BY_KEY = {kpi.key: kpi for kpi in KPIS}
