"""The queue rank explains itself: parts heaviest first, with their points, in plain words."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from claims import priority
from claims.choices import ClaimStatus
from claims.models import Claim

TODAY = dt.date(2026, 6, 1)


def claim(**fields) -> Claim:  # noqa: ANN003
    values = {
        "status": ClaimStatus.SUBMITTED,
        "total_billed": Decimal("1000.00"),
        "service_date_from": TODAY - dt.timedelta(days=30),
        "timely_filing_deadline": TODAY + dt.timedelta(days=300),
        "next_action_due": TODAY,
    }
    values.update(fields)
    return Claim(**values)


def test_the_issues_example_ranks_and_explains_itself() -> None:
    # $2,254 sixteen days overdue against $2,916 six days overdue, same age.
    big = priority.compute(
        claim(total_billed=Decimal("2916.00"), next_action_due=TODAY - dt.timedelta(days=6)), TODAY
    )
    late = priority.compute(
        claim(total_billed=Decimal("2254.00"), next_action_due=TODAY - dt.timedelta(days=16)), TODAY
    )
    assert late.score > big.score
    assert late.reasons[0] == "16 days overdue (+30)"
    assert big.reasons[0] == "$2,916.00 (+29)"


def test_singular_days_and_future_service_dates_read_right() -> None:
    one = priority.compute(claim(service_date_from=TODAY - dt.timedelta(days=1)), TODAY)
    assert "1 day old" in one.reasons
    ahead = priority.compute(claim(service_date_from=TODAY + dt.timedelta(days=25)), TODAY)
    assert "service date in 25 days" in ahead.reasons
    assert not any("-25" in reason for reason in ahead.reasons)


def test_score_is_the_sum_of_the_parts_shown() -> None:
    rank = priority.compute(
        claim(
            status=ClaimStatus.DRAFT,
            timely_filing_deadline=TODAY - dt.timedelta(days=2),
            next_action_due=TODAY - dt.timedelta(days=1),
        ),
        TODAY,
    )
    shown = [int(r.rsplit("(+", 1)[1].rstrip(")")) for r in rank.reasons if "(+" in r]
    assert sum(shown) == rank.score
    assert rank.reasons[0] == "filing limit passed 2 days ago (+40)"


def test_closed_claims_score_nothing() -> None:
    assert priority.compute(claim(status=ClaimStatus.CLOSED), TODAY) == priority.Priority(0, ())
