"""Work-queue selectors: which claims each queue holds, filters, sorting, keyset pages.

Every queue starts from ``Claim.objects.visible_to(user, work_claims)``; a page costs the
same handful of queries however many rows it shows (related rows are joined, and the
keyset cursor replaces OFFSET so deep pages stay cheap on large queues).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import django_filters
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import BooleanField, Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.utils import timezone

from claims.choices import OPEN_STATUSES, PAYER_AR_STATUSES, ClaimStatus, NextAction
from claims.models import Claim
from practices import permissions as perms
from practices.models import Payer, Practice, PracticeUserPermission

User = get_user_model()


@dataclass(frozen=True)
class Queue:
    slug: str
    title: str
    description: str


QUEUES = {
    q.slug: q
    for q in [
        Queue("my-day", "My day", "Everything of mine due today or overdue."),
        Queue("payer-ar", "Payer AR", "Open claims the payer has: follow up by priority."),
        Queue("rejections", "Rejections", "Claims the payer or clearinghouse rejected."),
        Queue("unassigned", "Unassigned", "Open claims whose owner can no longer work them."),
        Queue("all-open", "All open claims", "Every open claim you may work."),
    ]
}


def base_queryset(user: Any) -> QuerySet[Claim]:
    return Claim.objects.visible_to(user, perms.WORK_CLAIMS).select_related(
        "patient", "payer", "owner"
    )


def queue_queryset(slug: str, user: Any, today: dt.date | None = None) -> QuerySet[Claim]:
    """The claims of one queue, before filters."""
    today = today or timezone.localdate()
    claims = base_queryset(user).filter(status__in=OPEN_STATUSES)
    if slug == "my-day":
        return claims.filter(owner=user, next_action_due__lte=today)
    if slug == "payer-ar":
        return claims.filter(status__in=PAYER_AR_STATUSES)
    if slug == "rejections":
        return claims.filter(status=ClaimStatus.REJECTED)
    if slug == "unassigned":
        can_work = PracticeUserPermission.objects.filter(
            user_id=OuterRef("owner_id"),
            content_object_id=OuterRef("practice_id"),
            permission__codename=perms.WORK_CLAIMS,
        )
        return claims.filter(Q(owner__isnull=True) | Q(owner__is_active=False) | ~Exists(can_work))
    return claims


AGE_BUCKETS = {
    "0-30": (0, 30),
    "31-60": (31, 60),
    "61-90": (61, 90),
    "91-120": (91, 120),
    "120+": (121, None),
}


class ClaimQueueFilter(django_filters.FilterSet):
    """Composable queue filters; choices only offer what the user may see."""

    practice = django_filters.ModelChoiceFilter(queryset=Practice.objects.none())
    payer = django_filters.ModelChoiceFilter(queryset=Payer.objects.none())
    # No join here can repeat a claim, so no DISTINCT (it sorted every column).
    status = django_filters.MultipleChoiceFilter(choices=ClaimStatus.choices, distinct=False)
    next_action = django_filters.ChoiceFilter(choices=NextAction.choices)
    owner = django_filters.ModelChoiceFilter(queryset=User.objects.none())
    age = django_filters.ChoiceFilter(
        label="Age (days)", choices=[(k, k) for k in AGE_BUCKETS], method="filter_age"
    )
    amount_min = django_filters.NumberFilter(field_name="total_billed", lookup_expr="gte")
    amount_max = django_filters.NumberFilter(field_name="total_billed", lookup_expr="lte")
    due_from = django_filters.DateFilter(field_name="next_action_due", lookup_expr="gte")
    due_to = django_filters.DateFilter(field_name="next_action_due", lookup_expr="lte")

    class Meta:
        model = Claim
        fields: list[str] = []

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        practices = Practice.objects.visible_to(user, perms.WORK_CLAIMS)
        self.filters["practice"].queryset = practices
        self.filters["payer"].queryset = Payer.objects.filter(practice__in=practices)
        self.filters["owner"].queryset = User.objects.filter(
            pk__in=PracticeUserPermission.objects.filter(
                content_object__in=practices, permission__codename=perms.WORK_CLAIMS
            ).values("user_id")
        ).order_by("username")

    def filter_age(self, queryset: QuerySet[Claim], name: str, value: str) -> QuerySet[Claim]:
        low, high = AGE_BUCKETS[value]
        today = timezone.localdate()
        queryset = queryset.filter(service_date_from__lte=today - dt.timedelta(days=low))
        if high is not None:
            queryset = queryset.filter(service_date_from__gte=today - dt.timedelta(days=high))
        return queryset


SORTS = {
    "priority": ("priority", True, "Priority"),
    "due": ("next_action_due", False, "Due date"),
    "amount": ("total_billed", True, "Amount"),
    "age": ("service_date_from", False, "Oldest first"),
}


def _encode(value: Any, pk: int) -> str:
    raw = json.dumps([str(value), pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, field: str) -> tuple[Any, int] | None:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, pk = json.loads(base64.urlsafe_b64decode(padded))
        if field == "next_action_due" or field == "service_date_from":
            value = dt.date.fromisoformat(value)
        elif field == "total_billed":
            value = Decimal(value)
        else:
            value = int(value)
        return value, int(pk)
    except (ValueError, TypeError, ArithmeticError):
        return None


@dataclass
class Page:
    rows: list[Claim]
    next_cursor: str | None
    sort: str


def keyset_page(queryset: QuerySet[Claim], sort: str, cursor: str | None, size: int) -> Page:
    """One page after ``cursor`` in the order of ``sort`` (ties broken by id)."""
    field, descending, _label = SORTS.get(sort, SORTS["priority"])
    if cursor:
        decoded = _decode(cursor, field)
        if decoded is not None:
            value, pk = decoded
            # A row-value comparison, so PostgreSQL starts the index scan at the cursor
            # (an OR of two conditions made it walk the index from the top: 17 ms vs
            # 0.4 ms at row 17,000 of 100,000). Column names come from SORTS only.
            table = connection.ops.quote_name(Claim._meta.db_table)
            column = connection.ops.quote_name(Claim._meta.get_field(field).column)
            op = "<" if descending else ">"
            queryset = queryset.filter(
                RawSQL(
                    f"({table}.{column}, {table}.id) {op} (%s, %s)",
                    (value, pk),
                    output_field=BooleanField(),
                )
            )
    order = [f"-{field}", "-pk"] if descending else [field, "pk"]
    rows = list(queryset.order_by(*order)[: size + 1])
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = _encode(getattr(last, field), last.pk)
    return Page(rows, next_cursor, sort if sort in SORTS else "priority")


def my_day_counts(user: Any, today: dt.date | None = None) -> dict[str, int]:
    """How much of my day is overdue and how much is due today (one query)."""
    today = today or timezone.localdate()
    return queue_queryset("my-day", user, today).aggregate(
        total=Count("pk"),
        overdue=Count("pk", filter=Q(next_action_due__lt=today)),
        due_today=Count("pk", filter=Q(next_action_due=today)),
    )


def owner_summary(user: Any, practice: Practice, today: dt.date | None = None) -> list[dict]:
    """Per-owner counts for managers and vendor leads (one grouped query)."""
    today = today or timezone.localdate()
    return list(
        base_queryset(user)
        .filter(practice=practice, status__in=OPEN_STATUSES)
        .values("owner_id", "owner__username", "owner__first_name", "owner__last_name")
        .annotate(
            open=Count("pk"),
            overdue=Count("pk", filter=Q(next_action_due__lt=today)),
            due_today=Count("pk", filter=Q(next_action_due=today)),
            dollars=Sum("total_billed"),
        )
        .order_by("-overdue", "owner__username")
    )
