"""The claim item type and its queues, registered with the work core.

Every queue starts from the claims the user may work (``work_claims``); the core adds the
practice, filters, sorting and keyset pages.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone

from billing_ops.access import holders_among, visible_practice_ids
from claims.choices import OPEN_STATUSES, PAYER_AR_STATUSES, ClaimStatus, NextAction
from claims.models import MONEY, Claim
from claims.services import log_activity
from claims.teeth import attach_teeth
from claims.unassigned import unassigned_condition
from practices import permissions as perms
from practices.models import Payer, Practice
from work.registry import ItemType, Queue, registry

User = get_user_model()


AGE_BUCKETS = {
    "0-30": (0, 30),
    "31-60": (31, 60),
    "61-90": (61, 90),
    "91-120": (91, 120),
    "120+": (121, None),
    "91+": (91, None),  # the dashboard's "% of A/R over 90 days" links here
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
    # Bounded like the column: ``1e999999`` is a number to Python but overflows PostgreSQL's
    # numeric (a 500); here it is a field error (400 in the API, ignored on the pages).
    amount_min = django_filters.NumberFilter(field_name="total_billed", lookup_expr="gte", **MONEY)
    amount_max = django_filters.NumberFilter(field_name="total_billed", lookup_expr="lte", **MONEY)
    due_from = django_filters.DateFilter(field_name="next_action_due", lookup_expr="gte")
    due_to = django_filters.DateFilter(field_name="next_action_due", lookup_expr="lte")

    class Meta:
        model = Claim
        fields: list[str] = []

    # The model choices' querysets (practice, payer, owner) depend on nothing but the
    # practices where the user works claims: the queue pages keep their statements per
    # user, day and those practices (``work.views._listed_choices``).
    choices_permission = perms.WORK_CLAIMS

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        practices = Practice.objects.visible_to(user, perms.WORK_CLAIMS)
        self.filters["practice"].queryset = practices
        self.filters["payer"].queryset = Payer.objects.filter(practice__in=practices)
        self.filters["owner"].queryset = holders_among(
            perms.WORK_CLAIMS, visible_practice_ids(user, perms.WORK_CLAIMS)
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
    "amount": ("total_billed", True, "Billed amount"),
    "age": ("service_date_from", False, "Oldest first"),
}


def describe(claim: Claim) -> str:
    """``Claim C123 (Delta Dental, $1,240.00)``: what a reminder may say about a claim."""
    return f"Claim {claim.pms_claim_number} ({claim.payer.name}, ${claim.total_billed:,.2f})"


# Each row's teeth (dental lines) are read in one query for the whole page
# (``claims.teeth.attach_teeth``), not one per row.
CLAIM = ItemType(
    key="claim",
    model=Claim,
    label="Claim",
    permission=perms.WORK_CLAIMS,
    open_condition=Q(status__in=OPEN_STATUSES),
    detail_url_name="claim-detail",
    describe=describe,
    log_activity=log_activity,
    row_template="claims/claim_row.html",
    select_related=("patient", "payer", "owner"),
    billing_function="claim_follow_up",
    load_rows=attach_teeth,
    # What claims/_queue_rows.html (claims.queue_rows) shows of them.
    page_related_fields=(
        "patient__first_name",
        "patient__last_name",
        "payer__name",
        "owner__username",
        "owner__first_name",
        "owner__last_name",
    ),
)


def _payer_ar(claims: QuerySet[Claim], user: Any, today: dt.date) -> QuerySet[Claim]:
    return claims.filter(status__in=PAYER_AR_STATUSES)


def _rejections(claims: QuerySet[Claim], user: Any, today: dt.date) -> QuerySet[Claim]:
    return claims.filter(status=ClaimStatus.REJECTED)


def _unassigned(claims: QuerySet[Claim], user: Any, today: dt.date) -> QuerySet[Claim]:
    """Owner missing, or no longer able to work the claim's practice (``claims`` are of
    the practices where the user works claims, as every queue's)."""
    return claims.filter(unassigned_condition(visible_practice_ids(user, perms.WORK_CLAIMS)))


def _all_open(claims: QuerySet[Claim], user: Any, today: dt.date) -> QuerySet[Claim]:
    return claims


# Payer AR, rejections and all open narrow by fixed conditions, so their unfiltered pages
# are read by kept statements (``Queue.compiled_pages``); unassigned reads the practices'
# holders first, so its pages stay the ORM's.
CLAIM_QUEUES = [
    Queue(
        "payer-ar",
        "Payer AR",
        "Open claims the payer has: follow up by priority.",
        "claim",
        _payer_ar,
        ClaimQueueFilter,
        SORTS,
        "claims/queue_table.html",
        10,
        compiled_pages=True,
    ),
    Queue(
        "rejections",
        "Rejections",
        "Claims the payer or clearinghouse rejected.",
        "claim",
        _rejections,
        ClaimQueueFilter,
        SORTS,
        "claims/queue_table.html",
        20,
        compiled_pages=True,
    ),
    Queue(
        "unassigned",
        "Unassigned",
        "Open claims whose owner can no longer work them.",
        "claim",
        _unassigned,
        ClaimQueueFilter,
        SORTS,
        "claims/queue_table.html",
        30,
    ),
    Queue(
        "all-open",
        "All open claims",
        "Every open claim you may work.",
        "claim",
        _all_open,
        ClaimQueueFilter,
        SORTS,
        "claims/queue_table.html",
        40,
        compiled_pages=True,
    ),
]


def register() -> None:
    """Called from ``ClaimsConfig.ready``."""
    registry.register_type(CLAIM)
    for queue in CLAIM_QUEUES:
        registry.register_queue(queue)


# The API's ``?queue=`` names: my day (claims only) and the claim queues.
API_QUEUES = ["my-day", *(queue.slug for queue in CLAIM_QUEUES)]


def claims_in_queue(
    slug: str, user: Any, claims: QuerySet[Claim], today: dt.date | None = None
) -> QuerySet[Claim]:
    """The claims of one queue by name, for the API, narrowing ``claims`` (already scoped to
    what the user may see) in place: no ``pk IN (subquery)`` over the whole practice."""
    today = today or timezone.localdate()
    claims = claims.filter(CLAIM.open_condition)
    if slug == "my-day":
        return claims.filter(owner=user, next_action_due__lte=today)
    queue = next(queue for queue in CLAIM_QUEUES if queue.slug == slug)
    return queue.select(claims, user, today)
