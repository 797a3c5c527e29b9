"""The denial item type and the Denials queue, registered with the work core.

The queue ranks by the stored priority (amount x urgency of the appeal deadline,
``denials.priority``) and filters by category, payer, route and CARC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from billing_ops.access import holders_among, visible_practice_ids
from denials.choices import DenialCategory, DenialStatus, NextAction, Route
from denials.models import MONEY, Denial
from denials.services import log_activity
from practices import permissions as perms
from practices.models import Payer, Practice
from work.registry import ItemType, Queue, registry

User = get_user_model()


class DenialQueueFilter(django_filters.FilterSet):
    """Queue filters; choices only offer what the user may see."""

    practice = django_filters.ModelChoiceFilter(queryset=Practice.objects.none())
    category = django_filters.MultipleChoiceFilter(choices=DenialCategory.choices, distinct=False)
    payer = django_filters.ModelChoiceFilter(
        field_name="claim__payer", queryset=Payer.objects.none()
    )
    route = django_filters.ChoiceFilter(choices=Route.choices)
    carc = django_filters.CharFilter(label="CARC", method="filter_carc", max_length=10)
    next_action = django_filters.ChoiceFilter(choices=NextAction.choices)
    owner = django_filters.ModelChoiceFilter(queryset=User.objects.none())
    amount_min = django_filters.NumberFilter(field_name="amount", lookup_expr="gte", **MONEY)
    amount_max = django_filters.NumberFilter(field_name="amount", lookup_expr="lte", **MONEY)
    deadline_to = django_filters.DateFilter(field_name="appeal_deadline", lookup_expr="lte")

    class Meta:
        model = Denial
        fields: list[str] = []

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        practices = Practice.objects.visible_to(user, perms.WORK_CLAIMS)
        self.filters["practice"].queryset = practices
        self.filters["payer"].queryset = Payer.objects.filter(practice__in=practices)
        self.filters["owner"].queryset = holders_among(
            perms.WORK_CLAIMS, visible_practice_ids(user, perms.WORK_CLAIMS)
        ).order_by("username")

    def filter_carc(self, queryset: QuerySet[Denial], name: str, value: str) -> QuerySet[Denial]:
        return queryset.filter(carc=value.strip().upper()) if value.strip() else queryset


SORTS = {
    "priority": ("priority", True, "Priority"),
    "deadline": ("appeal_deadline", False, "Appeal deadline"),
    "amount": ("amount", True, "Amount"),
    "due": ("next_action_due", False, "Due date"),
}


def describe(denial: Denial) -> str:
    """``Denial D-12 on claim C123 (Delta Dental, CO-50, $240.00)``: no patient names."""
    return (
        f"Denial {denial.number} on claim {denial.claim.pms_claim_number} "
        f"({denial.claim.payer.name}, {denial.group_code}-{denial.carc}, ${denial.amount:,.2f})"
    )


DENIAL = ItemType(
    key="denial",
    model=Denial,
    label="Denial",
    permission=perms.WORK_CLAIMS,
    open_condition=Q(status=DenialStatus.OPEN),
    detail_url_name="denial-detail",
    describe=describe,
    log_activity=log_activity,
    row_template="denials/denial_row.html",
    select_related=("practice", "claim", "claim__payer", "owner"),
    billing_function="denial_follow_up",
)


def _all_open(denials: QuerySet[Denial], user: Any, today: dt.date) -> QuerySet[Denial]:
    return denials


DENIALS_QUEUE = Queue(
    "denials",
    "Denials",
    "Open denials: the most money nearest its appeal deadline first.",
    "denial",
    _all_open,
    DenialQueueFilter,
    SORTS,
    "denials/queue_table.html",
    15,
)


def register() -> None:
    """Called from ``DenialsConfig.ready``."""
    registry.register_type(DENIAL)
    registry.register_queue(DENIALS_QUEUE)
