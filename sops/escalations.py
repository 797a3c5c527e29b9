"""Escalations: items overdue beyond their billing function's turnaround reach the
practice's primary contact (or the backup), for every registered item type.

Idempotent like every reminder job (``work.notifications``); only people who can still
see the practice hear of it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator

from django.db.models import Q

from billing_ops.access import holders_by_practice
from practices.choices import Role
from practices.models import Engagement, Membership
from sops.choices import BillingFunctionKind
from sops.models import BillingFunction
from work.choices import NotificationKind
from work.models import Notification
from work.notifications import BATCH, insert_new
from work.registry import ItemType, registry
from work.reminders import due_phrase, notification_for, person, plural

# Overdue by more than this many days escalates when a practice has no governing function
# (sops.BillingFunction.turnaround_days has the same default).
DEFAULT_TURNAROUND_DAYS = 2
VIEW_PRACTICE = "view_practice"


def _overdue_condition(today: dt.date, turnaround: dict[int, int]) -> Q:
    """next_action_due earlier than today minus each practice's turnaround."""
    by_days: dict[int, list[int]] = defaultdict(list)
    for practice_id, days in turnaround.items():
        by_days[days].append(practice_id)
    condition = Q(next_action_due__lt=today - dt.timedelta(days=DEFAULT_TURNAROUND_DAYS)) & ~Q(
        practice_id__in=list(turnaround)
    )
    for days, practice_ids in by_days.items():
        condition |= Q(
            practice_id__in=practice_ids,
            next_action_due__lt=today - dt.timedelta(days=days),
        )
    return condition


def escalation_recipients(
    practice_ids: set[int], functions: dict[int, BillingFunction], today: dt.date
) -> dict[int, list[int]]:
    """Who hears of a practice's escalations: practice id -> user ids.

    The primary contact is the vendor engagement's (the earliest live one), else the claim
    follow-up function's escalation contact or owner; a primary who is away (membership
    ``away_until`` today or later) hands over to the backup (engagement backup, else the
    function's). Without either, the practice's active managers. Only people who can still
    see the practice are chosen; when everyone chosen is away, the primary still hears.
    """
    engagements: dict[int, Engagement] = {}
    live = Engagement.objects.filter(practice_id__in=practice_ids).in_force(today)
    for engagement in live.order_by("practice_id", "starts_on", "pk"):
        engagements.setdefault(engagement.practice_id, engagement)

    chains: dict[int, list[int]] = {}
    for practice_id in practice_ids:
        engagement, function = engagements.get(practice_id), functions.get(practice_id)
        function_backup = function.backup_id if function else None
        if engagement is not None:
            chain = [engagement.primary_contact_id, engagement.backup_contact_id or function_backup]
        elif function is not None:
            chain = [function.escalation_contact_id or function.owner_id, function_backup]
        else:
            chain = []
        chains[practice_id] = [user_id for user_id in chain if user_id is not None]

    away: set[tuple[int, int]] = set()
    managers: dict[int, list[int]] = defaultdict(list)
    rows = Membership.objects.filter(practice_id__in=practice_ids).filter(
        Q(away_until__gte=today) | Q(role=Role.PRACTICE_MANAGER, is_active=True)
    )
    for practice_id, user_id, role, is_active, away_until in rows.order_by("pk").values_list(
        "practice_id", "user_id", "role", "is_active", "away_until"
    ):
        if away_until is not None and away_until >= today:
            away.add((practice_id, user_id))
        if role == Role.PRACTICE_MANAGER and is_active:
            managers[practice_id].append(user_id)

    candidates = {u for chain in chains.values() for u in chain}
    candidates |= {u for users in managers.values() for u in users}
    can_see = holders_by_practice(VIEW_PRACTICE, practice_ids, candidates)

    def may_see(practice_id: int, user_id: int) -> bool:
        return user_id in can_see[practice_id]

    recipients: dict[int, list[int]] = {}
    for practice_id in practice_ids:
        chain = [u for u in dict.fromkeys(chains[practice_id]) if may_see(practice_id, u)]
        present = [u for u in chain if (practice_id, u) not in away]
        if chain:
            recipients[practice_id] = [(present or chain)[0]]
            continue
        fallback = [u for u in managers[practice_id] if may_see(practice_id, u)]
        present = [u for u in fallback if (practice_id, u) not in away]
        recipients[practice_id] = present or fallback
    return recipients


def escalate_overdue(today: dt.date) -> dict[str, int]:
    """Tell each practice's primary contact (or backup) of items overdue beyond the
    turnaround of the billing function that governs their type (types registered with
    ``escalate_when_overdue=False`` are left out).

    One escalation per item, missed due date and recipient: the hourly runs repeat nothing,
    a new due date that is missed again escalates again, and a handover to the backup
    (primary away) reaches the backup too.
    """
    counts = {"overdue": 0, "unrouted": 0, "created": 0}
    for item_type in registry.types():
        if not item_type.escalate_when_overdue:
            continue
        for key, value in _escalate_type(item_type, today).items():
            counts[key] += value
    return counts


def _escalate_type(item_type: ItemType, today: dt.date) -> dict[str, int]:
    kind = item_type.billing_function or BillingFunctionKind.CLAIM_FOLLOW_UP
    functions = {
        function.practice_id: function
        for function in BillingFunction.objects.filter(kind=kind, practice__is_active=True)
    }
    turnaround = {pk: function.turnaround_days for pk, function in functions.items()}
    items = (
        item_type.open_items()
        .filter(practice__is_active=True, next_action_due__isnull=False)
        .filter(_overdue_condition(today, turnaround))
        .select_related(*item_type.select_related)
        .order_by("practice_id", "next_action_due", "pk")
    )
    practice_ids = set(items.order_by().values_list("practice_id", flat=True).distinct())
    if not practice_ids:
        return {"overdue": 0, "unrouted": 0, "created": 0}
    recipients = escalation_recipients(practice_ids, functions, today)
    counts = {"overdue": 0, "unrouted": 0}

    def build() -> Iterator[Notification]:
        for item in items.iterator(chunk_size=BATCH):
            counts["overdue"] += 1
            to = recipients.get(item.practice_id, [])
            if not to:
                counts["unrouted"] += 1
                continue
            days = turnaround.get(item.practice_id, DEFAULT_TURNAROUND_DAYS)
            message = (
                f"{item_type.describe(item)}: {item.next_action_label()} — "
                f"{due_phrase(item.next_action_due, today)} "
                f"(turnaround {plural(days, 'day')}); owner {person(item.owner)}"
            )
            for user_id in to:
                yield notification_for(
                    item_type,
                    item,
                    NotificationKind.ESCALATION,
                    message,
                    today,
                    f"{NotificationKind.ESCALATION}:{item_type.key}:{item.pk}:"
                    f"{item.next_action_due.isoformat()}:{user_id}",
                    user_id=user_id,
                )

    created = insert_new(build())
    return {**counts, "created": created}
