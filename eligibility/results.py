"""What an eligibility verification found, however it was done (portal, phone, 271).

The check page's form and the 271 import both build a ``CheckResult`` and hand it to
``eligibility.services.check_record_result``: one shape, one service, one set of rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class FrequencyLimit:
    """A benefit limit the payer reported, e.g. two prophylaxis visits a year."""

    description: str  # "Prophylaxis D1110: 2 per calendar year"
    last_done: str = ""  # as reported: "2026-05-14", or "" when not given


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one verification. Money is Decimal (None: not reported)."""

    status: str  # eligibility.choices.CheckOutcome: active / inactive / needs_info
    method: str  # eligibility.choices.CheckMethod: portal / phone / x12_271
    plan_name: str = ""
    group_number: str = ""
    member_id: str = ""
    reference: str = ""  # the payer's call or transaction reference
    copay: Decimal | None = None
    coinsurance_percent: Decimal | None = None
    deductible: Decimal | None = None
    deductible_remaining: Decimal | None = None
    annual_max_remaining: Decimal | None = None
    frequency_limits: tuple[FrequencyLimit, ...] = ()
    # AAA rejections and other reasons a person must act on ("AAA*N**72: invalid member id").
    problems: tuple[str, ...] = ()
    note: str = ""
    raw: dict[str, object] = field(default_factory=dict)  # parsed extras kept for audit
