"""Notifications: the reminder jobs that create them and the writes that mark them read.

Every job takes the date it runs for and can run any number of times: each notification
has a ``dedupe_key`` (unique in the database), rows whose key exists are skipped and the
insert ignores conflicts, so two overlapping runs still leave one row per key. Each job
returns counts (plain ints, so Celery can serialise them).

Messages and e-mails name the claim by its PMS number, payer, billed amount and next
action only: no patient names (minimum necessary), and only to people who may still work
the claim's practice (or, for escalations, still see it).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from ar import selectors
from ar.choices import NotificationKind
from ar.models import Notification
from claims.choices import NextAction
from claims.models import Claim
from practices import permissions as perms
from practices.choices import Role
from practices.models import Engagement, Membership, PracticeUserPermission
from sops.choices import BillingFunctionKind
from sops.models import BillingFunction

# Overdue by more than this many days escalates when a practice has no claim follow-up
# function (sops.BillingFunction.turnaround_days has the same default).
DEFAULT_TURNAROUND_DAYS = 2
# Timely-filing alerts, tightest last; each fires at most once per claim and owner.
FILING_THRESHOLDS = {
    30: NotificationKind.FILING_30,
    14: NotificationKind.FILING_14,
    3: NotificationKind.FILING_3,
}
# A digest lists at most this many claims; the rest are counted.
DIGEST_MAX_ITEMS = 100
BATCH = 500
MESSAGE_MAX = Notification._meta.get_field("message").max_length


# --- formatting ------------------------------------------------------------------------


def _money(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def claim_label(claim: Claim) -> str:
    """``Claim C123 (Delta Dental, $1,240.00)``: what a reminder may say about a claim."""
    return f"Claim {claim.pms_claim_number} ({claim.payer.name}, {_money(claim.total_billed)})"


def due_phrase(due: dt.date, today: dt.date) -> str:
    """``due today``, ``1 day overdue``, ``3 days overdue``."""
    late = (today - due).days
    return "due today" if late <= 0 else f"{_plural(late, 'day')} overdue"


def _action(claim: Claim) -> str:
    if claim.next_action in NextAction.values:
        return str(NextAction(claim.next_action).label)
    return "No next action"


def _person(user: Any) -> str:
    if user is None:
        return "nobody"
    return user.get_full_name() or user.get_username()


def _clip(message: str) -> str:
    return message if len(message) <= MESSAGE_MAX else message[: MESSAGE_MAX - 1] + "…"


# --- idempotent inserts ----------------------------------------------------------------


def _insert_new(notifications: Iterable[Notification]) -> int:
    """Insert the notifications whose dedupe key is new; how many this run inserted.

    A concurrent run inserting the same key at the same moment is absorbed by the unique
    constraint (``ignore_conflicts``); the count may then include a row the other run won.
    """
    created = 0
    iterator: Iterator[Notification] = iter(notifications)
    while batch := list(itertools.islice(iterator, BATCH)):
        keys = [n.dedupe_key for n in batch]
        existing = set(
            Notification.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True)
        )
        fresh = {n.dedupe_key: n for n in batch if n.dedupe_key not in existing}
        Notification.objects.bulk_create(fresh.values(), ignore_conflicts=True)
        created += len(fresh)
    return created


# --- next-action reminders -------------------------------------------------------------


def send_next_action_reminders(today: dt.date) -> dict[str, int]:
    """In-app reminder to each owner of an open claim whose next action is due or overdue."""
    counts = {"due_today": 0, "overdue": 0}

    def build() -> Iterator[Notification]:
        for claim in selectors.claims_due_for_owners(today).iterator(chunk_size=BATCH):
            kind = (
                NotificationKind.DUE_TODAY
                if claim.next_action_due >= today
                else NotificationKind.OVERDUE
            )
            counts[str(kind)] += 1
            yield Notification(
                user_id=claim.owner_id,
                practice_id=claim.practice_id,
                claim_id=claim.pk,
                kind=kind,
                message=_clip(
                    f"{claim_label(claim)}: {_action(claim)} — "
                    f"{due_phrase(claim.next_action_due, today)}"
                ),
                for_date=today,
                dedupe_key=f"{kind}:{claim.pk}:{claim.owner_id}:{today.isoformat()}",
            )

    created = _insert_new(build())
    return {**counts, "created": created}


# --- daily digest ----------------------------------------------------------------------


def _digest_item(claim: Claim, today: dt.date) -> dict[str, Any]:
    return {
        "number": claim.pms_claim_number,
        "payer": claim.payer.name,
        "amount": _money(claim.total_billed),
        "action": _action(claim),
        "when": due_phrase(claim.next_action_due, today),
        "overdue": claim.next_action_due < today,
        "practice": claim.practice.name,
    }


def _digest_email(owner: Any, claims: list[Claim], today: dt.date) -> tuple[str, str, str]:
    """(subject, body, one-line summary) of one owner's digest."""
    items = [_digest_item(claim, today) for claim in claims]
    overdue = sum(1 for item in items if item["overdue"])
    due_today = len(items) - overdue
    shown = items[:DIGEST_MAX_ITEMS]
    practices: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for item in shown:
        section = practices.setdefault(item["practice"], {"overdue": [], "due_today": []})
        section["overdue" if item["overdue"] else "due_today"].append(item)
    summary = f"{_plural(overdue, 'claim')} overdue, {due_today} due today"
    body = render_to_string(
        "ar/digest_email.txt",
        {
            "name": _person(owner),
            "today": today,
            "summary": summary,
            "practices": practices,
            "more": len(items) - len(shown),
        },
    )
    subject = f"billing-ops: {summary} ({today:%m/%d/%Y})"
    return subject, body, summary


def send_daily_digests(today: dt.date) -> dict[str, int]:
    """One e-mail per owner listing their due and overdue claims, at most once a day.

    The DIGEST notification is the "sent" marker: it is inserted and the e-mail sent in
    one transaction, so a failed send leaves no marker (the retry sends it) and a second
    run finds the marker and sends nothing. A concurrent run blocks on the marker's unique
    key until the first commits, then skips.
    """
    claims = list(selectors.claims_due_for_owners(today))
    already = set(
        Notification.objects.filter(kind=NotificationKind.DIGEST, for_date=today).values_list(
            "dedupe_key", flat=True
        )
    )
    counts = {"owners": 0, "sent": 0, "already_sent": 0, "no_email": 0}
    for _owner_id, group in itertools.groupby(claims, key=lambda claim: claim.owner_id):
        owned = list(group)
        owner = owned[0].owner
        counts["owners"] += 1
        key = f"{NotificationKind.DIGEST}:{owner.pk}:{today.isoformat()}"
        if key in already:
            counts["already_sent"] += 1
            continue
        if not owner.email:
            counts["no_email"] += 1
            continue
        subject, body, summary = _digest_email(owner, owned, today)
        with transaction.atomic():
            _, created = Notification.objects.get_or_create(
                dedupe_key=key,
                defaults={
                    "user": owner,
                    "practice_id": owned[0].practice_id,
                    "kind": NotificationKind.DIGEST,
                    "message": _clip(f"Daily digest e-mailed: {summary}."),
                    "for_date": today,
                },
            )
            if not created:
                counts["already_sent"] += 1
                continue
            EmailMessage(subject=subject, body=body, to=[owner.email]).send()
        counts["sent"] += 1
    return counts


# --- escalation ------------------------------------------------------------------------


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
    live = Engagement.objects.filter(practice_id__in=practice_ids, starts_on__lte=today).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=today)
    )
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
    users = {
        pk: (is_active, is_superuser)
        for pk, is_active, is_superuser in get_user_model()
        .objects.filter(pk__in=candidates)
        .values_list("pk", "is_active", "is_superuser")
    }
    granted = set(
        PracticeUserPermission.objects.filter(
            user_id__in=candidates,
            content_object_id__in=practice_ids,
            permission__codename=perms.VIEW_PRACTICE,
            permission__content_type__app_label="practices",
        ).values_list("content_object_id", "user_id")
    )

    def may_see(practice_id: int, user_id: int) -> bool:
        is_active, is_superuser = users.get(user_id, (False, False))
        return is_active and (is_superuser or (practice_id, user_id) in granted)

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
    """Tell the practice's primary contact (or backup) of claims overdue beyond turnaround.

    One escalation per claim, missed due date and recipient: the hourly runs repeat
    nothing, a new due date that is missed again escalates again, and a handover to the
    backup (primary away) reaches the backup too.
    """
    functions = {
        function.practice_id: function
        for function in BillingFunction.objects.filter(
            kind=BillingFunctionKind.CLAIM_FOLLOW_UP, practice__is_active=True
        )
    }
    turnaround = {pk: function.turnaround_days for pk, function in functions.items()}
    claims = selectors.claims_overdue_since(_overdue_condition(today, turnaround))
    practice_ids = set(claims.order_by().values_list("practice_id", flat=True).distinct())
    if not practice_ids:
        return {"overdue": 0, "unrouted": 0, "created": 0}
    recipients = escalation_recipients(practice_ids, functions, today)
    counts = {"overdue": 0, "unrouted": 0}

    def build() -> Iterator[Notification]:
        for claim in claims.iterator(chunk_size=BATCH):
            counts["overdue"] += 1
            to = recipients.get(claim.practice_id, [])
            if not to:
                counts["unrouted"] += 1
                continue
            days = turnaround.get(claim.practice_id, DEFAULT_TURNAROUND_DAYS)
            message = _clip(
                f"{claim_label(claim)}: {_action(claim)} — "
                f"{due_phrase(claim.next_action_due, today)} "
                f"(turnaround {_plural(days, 'day')}); owner {_person(claim.owner)}"
            )
            for user_id in to:
                yield Notification(
                    user_id=user_id,
                    practice_id=claim.practice_id,
                    claim_id=claim.pk,
                    kind=NotificationKind.ESCALATION,
                    message=message,
                    for_date=today,
                    dedupe_key=(
                        f"{NotificationKind.ESCALATION}:{claim.pk}:"
                        f"{claim.next_action_due.isoformat()}:{user_id}"
                    ),
                )

    created = _insert_new(build())
    return {**counts, "created": created}


# --- timely filing ---------------------------------------------------------------------


def _filing_phrase(deadline: dt.date, today: dt.date) -> str:
    left = (deadline - today).days
    if left > 0:
        return f"{_plural(left, 'day')} left"
    if left == 0:
        return "the deadline is today"
    return f"the deadline passed {_plural(-left, 'day')} ago"


def send_timely_filing_alerts(today: dt.date) -> dict[str, int]:
    """Alert owners of unsubmitted claims at 30, 14 and 3 days before timely filing ends.

    A claim gets the tightest threshold it has reached (so a missed run still alerts the
    next day), once per threshold and owner, ever: the key has no date.
    """
    counts = {str(kind): 0 for kind in FILING_THRESHOLDS.values()}

    def build() -> Iterator[Notification]:
        widest = max(FILING_THRESHOLDS)
        for claim in selectors.claims_near_filing_deadline(today, widest).iterator(
            chunk_size=BATCH
        ):
            left = (claim.timely_filing_deadline - today).days
            threshold = min(days for days in FILING_THRESHOLDS if left <= days)
            kind = FILING_THRESHOLDS[threshold]
            counts[str(kind)] += 1
            yield Notification(
                user_id=claim.owner_id,
                practice_id=claim.practice_id,
                claim_id=claim.pk,
                kind=kind,
                message=_clip(
                    f"{claim_label(claim)}: timely filing by "
                    f"{claim.timely_filing_deadline:%m/%d/%Y} — "
                    f"{_filing_phrase(claim.timely_filing_deadline, today)}, "
                    f"still {claim.get_status_display().lower()}"
                ),
                for_date=today,
                dedupe_key=f"{kind}:{claim.pk}:{claim.owner_id}",
            )

    created = _insert_new(build())
    return {**counts, "created": created}


# --- reading notifications -------------------------------------------------------------


def notification_mark_read(*, actor: Any, notification: Notification) -> Notification:
    """Mark one of the actor's own notifications read (again: no change)."""
    if notification.user_id != actor.pk:
        raise PermissionDenied("Not your notification.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, actor: Any) -> int:
    """Mark every unread notification the actor can see read; how many changed."""
    unread = selectors.notifications_for(actor).filter(read_at__isnull=True)
    return unread.update(read_at=timezone.now())
