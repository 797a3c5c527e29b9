"""A person's own throughput (``/kpis/mine/``): for everybody who works items, whatever
their role; only the signed-in person's figures, at the practices they may see now.

- **Items resolved** (per day, in the site's time zone) = claims they moved to closed or
  void (the claim's timeline names them) + denials they owned that were closed + eligibility
  checks they verified that were closed + unmatched remittance lines they resolved.
- **Dollars resolved** (per day) = payer payments they posted + amounts recovered on
  denials they owned, closed as paid after correction or (partly) overturned: the
  formula of ``reports.kpis.dollars_resolved_by_staff`` for one person.
- **Overdue next actions** (now) = open work items of every type they own whose next
  action was due before today (``reports.kpis.overdue_by_owner`` for one person).

A fixed number of queries: one per source and one per registered item type.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from ar.choices import ClaimPaymentState
from ar.models import ClaimPayment, UnmatchedRemittance
from claims.choices import FINAL_STATUSES, ActivityKind
from claims.models import ClaimActivity
from denials.choices import DenialStatus, Outcome
from denials.models import Denial
from eligibility.models import EligibilityCheck
from reports.kpis import span
from reports.values import ZERO
from work.registry import registry

RECOVERED = (Outcome.PAID_AFTER_CORRECTION, Outcome.OVERTURNED, Outcome.PARTLY_OVERTURNED)


@dataclass
class Day:
    """One day's own figures."""

    day: dt.date
    items: int = 0
    dollars: Decimal = ZERO


@dataclass
class Throughput:
    """A person's figures over a period."""

    start: dt.date
    end: dt.date
    days: list[Day] = field(default_factory=list)  # days with something resolved, newest first
    overdue: list[tuple[str, int]] = field(default_factory=list)  # (item type, count)

    @property
    def length(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def items(self) -> int:
        return sum(day.items for day in self.days)

    @property
    def dollars(self) -> Decimal:
        return sum((day.dollars for day in self.days), ZERO)

    @property
    def items_per_day(self) -> Decimal:
        return (Decimal(self.items) / self.length).quantize(Decimal("0.01"))

    @property
    def dollars_per_day(self) -> Decimal:
        return (self.dollars / self.length).quantize(Decimal("0.01"))

    @property
    def overdue_total(self) -> int:
        return sum(count for _, count in self.overdue)


def _per_day(rows: Any) -> Iterable[tuple[dt.date, Any]]:
    return ((row["day"], row["value"]) for row in rows)


def own(
    user_id: int, practice_ids: Iterable[int], start: dt.date, end: dt.date, today: dt.date
) -> Throughput:
    """The person's throughput from ``start`` to ``end`` at these practices."""
    ids = sorted(set(practice_ids))
    low, high = span(start, end)
    days: dict[dt.date, Day] = {}

    def add(rows: Any, what: str) -> None:
        for day, value in _per_day(rows):
            entry = days.setdefault(day, Day(day))
            if what == "items":
                entry.items += int(value or 0)
            else:
                entry.dollars += Decimal(value or ZERO).quantize(Decimal("0.01"))

    def by_day(queryset: Any, at: str, value: Any) -> Any:
        return (
            queryset.filter(**{f"{at}__gte": low, f"{at}__lt": high})
            .annotate(day=TruncDate(at))
            .values("day")
            .annotate(value=value)
            .order_by()
        )

    closed_claims = ClaimActivity.objects.filter(
        claim__practice_id__in=ids,
        actor_id=user_id,
        kind=ActivityKind.STATUS,
        data__to__in=sorted(FINAL_STATUSES),
    )
    add(by_day(closed_claims, "at", Count("claim_id", distinct=True)), "items")
    denials = Denial.objects.filter(practice_id__in=ids, owner_id=user_id).exclude(
        status=DenialStatus.OPEN
    )
    add(by_day(denials, "closed_at", Count("id")), "items")
    checks = EligibilityCheck.objects.filter(practice_id__in=ids, verified_by_id=user_id)
    add(by_day(checks, "closed_at", Count("id")), "items")
    unmatched = UnmatchedRemittance.objects.filter(practice_id__in=ids, resolved_by_id=user_id)
    add(by_day(unmatched, "resolved_at", Count("id")), "items")

    posted = ClaimPayment.objects.filter(
        practice_id__in=ids, state=ClaimPaymentState.POSTED, posted_by_id=user_id
    )
    add(by_day(posted, "posted_at", Sum("paid")), "dollars")
    recovered = Denial.objects.filter(practice_id__in=ids, owner_id=user_id, outcome__in=RECOVERED)
    add(by_day(recovered, "closed_at", Sum("amount_recovered")), "dollars")

    overdue = []
    for item_type in registry.types():
        count = (
            item_type.model._default_manager.filter(
                practice_id__in=ids, owner_id=user_id, next_action_due__lt=today
            )
            .filter(item_type.open_condition)
            .count()
        )
        if count:
            overdue.append((item_type.label, count))
    return Throughput(
        start=start,
        end=end,
        days=sorted(days.values(), key=lambda d: d.day, reverse=True),
        overdue=overdue,
    )
