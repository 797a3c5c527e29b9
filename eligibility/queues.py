"""The eligibility check item type and the Eligibility queue, registered with the work core.

The queue ranks by the stored priority (the nearer the appointment, the higher; past the
T-24 h target and problems found rank up, ``eligibility.priority``) and filters by
practice, payer, outcome, next action, owner and appointment date.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from billing_ops.access import holders_among, visible_practice_ids
from eligibility.choices import CheckOutcome, NextAction
from eligibility.models import EligibilityCheck
from eligibility.services import log_activity
from practices import permissions as perms
from practices.models import Payer, Practice
from work.registry import ItemType, Queue, registry

User = get_user_model()


class CheckQueueFilter(django_filters.FilterSet):
    """Queue filters; choices only offer what the user may see."""

    practice = django_filters.ModelChoiceFilter(queryset=Practice.objects.none())
    payer = django_filters.ModelChoiceFilter(queryset=Payer.objects.none())
    status = django_filters.ChoiceFilter(label="Outcome", choices=CheckOutcome.choices)
    next_action = django_filters.ChoiceFilter(choices=NextAction.choices)
    owner = django_filters.ModelChoiceFilter(queryset=User.objects.none())
    appointment_date = django_filters.DateFilter(
        field_name="appointment__starts_at", lookup_expr="date"
    )

    class Meta:
        model = EligibilityCheck
        fields: list[str] = []

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        practices = Practice.objects.visible_to(user, perms.VERIFY_ELIGIBILITY)
        self.filters["practice"].queryset = practices
        self.filters["payer"].queryset = Payer.objects.filter(practice__in=practices)
        self.filters["owner"].queryset = holders_among(
            perms.VERIFY_ELIGIBILITY, visible_practice_ids(user, perms.VERIFY_ELIGIBILITY)
        ).order_by("username")


SORTS = {
    "priority": ("priority", True, "Priority"),
    "due": ("next_action_due", False, "Due date"),
    "target": ("target_at", False, "Target (T-24 h)"),
}


def describe(check: EligibilityCheck) -> str:
    """``Eligibility check E-12 (Delta Dental, appointment 12/03 09:00)``: no patient names."""
    return f"Eligibility check {check.number} ({check.payer.name}, due {check.due_at:%m/%d %H:%M})"


CHECK = ItemType(
    key="eligibility",
    model=EligibilityCheck,
    label="Eligibility check",
    permission=perms.VERIFY_ELIGIBILITY,
    open_condition=Q(closed_at__isnull=True),
    detail_url_name="eligibility-check",
    describe=describe,
    log_activity=log_activity,
    row_template="eligibility/check_row.html",
    select_related=(
        "practice",
        "payer",
        "owner",
        "appointment",
        "appointment__patient",
        "appointment__provider",
    ),
    billing_function="eligibility",
)


def _all_open(checks: QuerySet[EligibilityCheck], user: Any, today: dt.date) -> QuerySet[Any]:
    return checks


ELIGIBILITY_QUEUE = Queue(
    "eligibility",
    "Eligibility",
    "Open eligibility checks: the nearest appointments and the problems found first.",
    "eligibility",
    _all_open,
    CheckQueueFilter,
    SORTS,
    "eligibility/queue_table.html",
    30,
)


def register() -> None:
    """Called from ``EligibilityConfig.ready``."""
    registry.register_type(CHECK)
    registry.register_queue(ELIGIBILITY_QUEUE)
