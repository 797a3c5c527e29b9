"""Payment plan services: set a plan up, apply the ledger's patient payments to it, cancel
it, break it, and the daily job (reminders before each due date, missed installments as
work items, plans broken after the grace period).

Payments: ``ar.ledger.refresh`` (every write to an account, under the account's lock)
calls ``follow_ledger``, which applies the patient payments posted since the plan began
to its installments oldest first, recomputed from the ledger each time, so a reversed
payment is taken back as well. The plan completes when every installment is paid (or
nothing is owed any more).

While a plan is active the account waits on it (its next action ``wait``, the reason
naming the plan), so the balance leaves My day; a missed installment is the work item.
When a plan breaks or is cancelled the account goes back to normal dunning.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from ar.account_choices import AccountAction, EntryKind
from ar.ledger import STATEMENT_DAYS, log, money, owner_for, require_billing
from ar.ledger_models import LedgerEntry, PatientAccount
from ar.plan_models import (
    DEFAULT_GRACE_DAYS,
    ZERO,
    Installment,
    InstallmentAction,
    InstallmentStatus,
    PaymentPlan,
    PlanStatus,
)
from ar.plan_queues import INSTALLMENT, describe_installment
from billing_ops.access import has_perm
from practices import permissions as perms
from work.choices import WAIT, NotificationKind
from work.models import Notification
from work.notifications import BATCH, insert_new
from work.reminders import notification_for, plural
from work.services import create_checked_bulk, lock_for_update, save_checked

if TYPE_CHECKING:
    from billing_ops.access import Actor

PLAN_MARK = "the payment plan"  # how an account's wait reason names its plan
INTERVALS = {"weekly": 7, "biweekly": 14, "monthly": 0}  # 0: the same day each month
MAX_INSTALLMENTS = 60
MAX_GRACE_DAYS = 60
FIRST_DUE_WITHIN_DAYS = 366
LAST_DUE_WITHIN_DAYS = 3653
UNPAID = (InstallmentStatus.PENDING, InstallmentStatus.LATE)


def reminder_days() -> int:
    """How many days before a due date the reminder goes out (setting, default 5)."""
    return int(getattr(settings, "PAYMENT_PLAN_REMINDER_DAYS", 5))


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, the month's last day when it has no such day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def schedule(
    total: Decimal, count: int, first_due: dt.date, interval: str
) -> list[tuple[dt.date, Decimal]]:
    """``count`` installments from ``first_due``, equal to the cent, the last one taking the
    remainder: $100.00 in 3 is 33.33, 33.33, 33.34."""
    if interval not in INTERVALS:
        raise ValidationError({"interval": "Choose weekly, biweekly or monthly."})
    if not 1 <= count <= MAX_INSTALLMENTS:
        raise ValidationError({"count": f"Choose 1 to {MAX_INSTALLMENTS} installments."})
    share = (total / count).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    if share <= 0:
        raise ValidationError({"count": "Too many installments for this total."})
    amounts = [share] * (count - 1) + [total - share * (count - 1)]
    days = INTERVALS[interval]
    dates = [
        add_months(first_due, i) if days == 0 else first_due + dt.timedelta(days=days * i)
        for i in range(count)
    ]
    return list(zip(dates, amounts, strict=True))


def _rows(
    total: Decimal,
    installments: Sequence[Any] | None,
    count: int | None,
    first_due: dt.date | None,
    interval: str,
    today: dt.date,
) -> list[tuple[dt.date, Decimal]]:
    """The schedule as (due date, amount): given row by row, or count + first due."""
    if installments:
        if count is not None or first_due is not None:
            raise ValidationError("Give the installments, or a count and a first due date.")
        rows = []
        for index, row in enumerate(installments, start=1):
            due, amount = (row["due_date"], row["amount"]) if isinstance(row, dict) else row
            if isinstance(due, str):
                try:
                    due = dt.date.fromisoformat(due)
                except ValueError:
                    raise ValidationError(
                        {"installments": f"Installment {index}: enter the due date."}
                    ) from None
            rows.append((due, money(amount, "installments")))
        return rows
    if count is None or first_due is None:
        raise ValidationError("Give the installments, or a count and a first due date.")
    if first_due > today + dt.timedelta(days=FIRST_DUE_WITHIN_DAYS):
        raise ValidationError({"first_due": "The first installment falls due within a year."})
    return schedule(total, count, first_due, interval)


def _check_rows(
    rows: list[tuple[dt.date, Decimal]], total: Decimal, today: dt.date
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if rows[0][0] > today + dt.timedelta(days=FIRST_DUE_WITHIN_DAYS):
        errors["installments"] = "The first installment falls due within a year."
    elif rows[-1][0] > today + dt.timedelta(days=LAST_DUE_WITHIN_DAYS):
        errors["installments"] = "A plan ends within ten years."
    elif len(rows) > MAX_INSTALLMENTS:
        errors["installments"] = f"A plan has at most {MAX_INSTALLMENTS} installments."
    elif any(amount <= 0 for _due, amount in rows):
        errors["installments"] = "Every installment is above $0.00."
    elif any(b[0] <= a[0] for a, b in zip(rows, rows[1:], strict=False)):
        errors["installments"] = "Each installment falls due after the one before."
    elif rows[0][0] < today:
        errors["installments"] = "The first installment falls due in the past."
    else:
        summed = sum((amount for _due, amount in rows), ZERO)
        if summed != total:
            errors["installments"] = (
                f"The installments add up to ${summed:,.2f}, not the plan's ${total:,.2f}."
            )
    return errors


def _wait_on(account: PatientAccount, plan: PaymentPlan, last_due: dt.date) -> None:
    """The account waits on its plan until after the last installment's grace period."""
    if not account.is_open:
        return
    account.next_action = WAIT
    account.next_action_due = last_due + dt.timedelta(days=plan.grace_days + 1)
    account.wait_reason = f"{PLAN_MARK} PP-{plan.pk} (installments to {last_due:%m/%d/%Y})"


def _waits_on_plan(account: PatientAccount) -> bool:
    return (
        account.is_open
        and account.next_action == WAIT
        and account.wait_reason.startswith(PLAN_MARK)
    )


@transaction.atomic
def plan_create(
    *,
    actor: Actor,
    account: PatientAccount,
    total: Decimal | str,
    installments: Sequence[Any] | None = None,
    count: int | None = None,
    first_due: dt.date | None = None,
    interval: str = "monthly",
    terms: str = "",
    grace_days: int = DEFAULT_GRACE_DAYS,
    today: dt.date | None = None,
) -> PaymentPlan:
    """Set up a plan on the account: ``installments`` as (due date, amount) pairs (or dicts
    with ``due_date`` and ``amount``), or ``count`` equal ones from ``first_due`` every
    ``interval``. The amounts add up to the total to the cent, the total is at most the
    balance, and an account has one active plan."""
    today = today or timezone.localdate()
    require_billing(actor, account.practice_id)
    account = lock_for_update(account, None, "patient")
    total = money(total, "total")
    if total <= 0:
        raise ValidationError({"total": "Enter a plan total above $0.00."})
    if total > account.balance:
        raise ValidationError(
            {
                "total": f"The plan's ${total:,.2f} is more than the "
                f"${max(account.balance, ZERO):,.2f} balance."
            }
        )
    active = PaymentPlan.objects.filter(account=account, status=PlanStatus.ACTIVE).first()
    if active is not None:
        raise ValidationError(f"This account already has an active plan (PP-{active.pk}).")
    if not 0 <= int(grace_days) <= MAX_GRACE_DAYS:
        raise ValidationError({"grace_days": f"Allow 0 to {MAX_GRACE_DAYS} days of grace."})
    rows = _rows(total, installments, count, first_due, interval, today)
    if not rows:
        raise ValidationError({"installments": "Give at least one installment."})
    errors = _check_rows(rows, total, today)
    if errors:
        raise ValidationError(errors)
    plan = PaymentPlan(
        practice_id=account.practice_id,
        account=account,
        total=total,
        terms=terms.strip()[:500],
        grace_days=int(grace_days),
        created_by=actor,
    )
    plan._history_user = actor  # type: ignore[attr-defined]
    plan.save()
    create_checked_bulk(
        [
            Installment(
                practice_id=account.practice_id,
                plan=plan,
                number=number,
                amount=amount,
                due_date=due,
                version=0,
            )
            for number, (due, amount) in enumerate(rows, start=1)
        ],
        actor,
        today,
    )
    _wait_on(account, plan, rows[-1][0])
    save_checked(account, actor, today)
    log(
        account,
        actor,
        "plan",
        f"Payment plan {plan} set up: ${total:,.2f} in {plural(len(rows), 'installment')}, "
        f"{rows[0][0]:%m/%d/%Y} to {rows[-1][0]:%m/%d/%Y}"
        + (f". Terms: {plan.terms}" if plan.terms else ""),
    )
    return plan


def _paid_toward(plan: PaymentPlan) -> Decimal:
    """Patient payments posted on the account since the plan began, less any reversed."""
    paid = (
        LedgerEntry.objects.filter(
            account_id=plan.account_id,
            kind=EntryKind.PAYMENT,
            posted_at__gte=plan.created_at,
            reversal__isnull=True,
        ).aggregate(total=Sum("amount"))["total"]
        or ZERO
    )
    return -paid


def _close(item: Installment, status: str, actor: Actor, today: dt.date) -> None:
    item.status = status
    item.next_action, item.next_action_due, item.wait_reason = "", None, ""
    save_checked(item, actor, today)


def follow_ledger(account: PatientAccount, actor: Actor, today: dt.date | None = None) -> None:
    """Called by ``ar.ledger.refresh`` (the account locked, its balance just recomputed):
    the active plan's installments take the payments posted since it began, oldest first."""
    plan = PaymentPlan.objects.filter(account=account, status=PlanStatus.ACTIVE).first()
    if plan is None:
        return
    today = today or timezone.localdate()
    plan = PaymentPlan.objects.select_for_update().get(pk=plan.pk)
    left = _paid_toward(plan)
    newly_paid = []
    items = list(plan.installments.select_for_update().order_by("number"))
    for item in items:
        share = min(item.amount, left)
        left -= share
        if share == item.paid_amount:
            continue
        item.paid_amount = share
        if share == item.amount and item.status in UNPAID:
            newly_paid.append(str(item.number))
            _close(item, InstallmentStatus.PAID, actor, today)
        elif share < item.amount and item.status == InstallmentStatus.PAID:
            item.status = InstallmentStatus.PENDING  # a payment was reversed
            save_checked(item, actor, today)
        else:
            save_checked(item, actor, today)
    if newly_paid:
        log(account, actor, "plan", f"{plan}: installment(s) {', '.join(newly_paid)} paid")
    if all(i.status == InstallmentStatus.PAID for i in items):
        _end(plan, actor, PlanStatus.COMPLETED, "every installment paid", today)
    elif account.balance <= 0:
        _end(plan, actor, PlanStatus.COMPLETED, "nothing left to pay", today)
    else:
        return
    if _waits_on_plan(account) and account.balance > 0:
        account.next_action = AccountAction.SEND_STATEMENT
        account.next_action_due = today + dt.timedelta(days=STATEMENT_DAYS)
        account.wait_reason = ""


def _end(plan: PaymentPlan, actor: Actor, status: str, reason: str, today: dt.date) -> None:
    """Close a locked plan: its unpaid installments are no longer due (a missed one closes
    as missed); recorded with who did it (None: the system)."""
    plan.status, plan.end_reason = status, reason[:500]
    plan.ended_by, plan.ended_at = actor, timezone.now()
    plan._history_user = actor  # type: ignore[attr-defined]
    plan.save()
    for item in plan.installments.select_for_update().filter(status__in=UNPAID):
        missed = item.status == InstallmentStatus.LATE or (
            item.due_date < today and item.remaining > 0
        )
        _close(item, InstallmentStatus.MISSED if missed else InstallmentStatus.VOID, actor, today)
    label = PlanStatus(status).label.lower()
    log(plan.account, actor, "plan", f"Payment plan {plan} {label}: {plan.end_reason}")


def _end_locked(
    plan: PaymentPlan,
    actor: Actor,
    status: str,
    reason: str,
    today: dt.date,
    *,
    only_if_lapsed: bool = False,
) -> None:
    """Lock account and plan (in that order, as payments do), end the plan, and put the
    account back on normal dunning (a statement due ``due_days`` from today).

    ``only_if_lapsed`` (the daily job's break): what the job read before the locks may be
    stale; a payment posted meanwhile (it holds the account's lock while it applies) may
    have paid the lapsed installment, so the lapse is checked again under the locks."""
    account = lock_for_update(plan.account, None, "patient")
    locked = PaymentPlan.objects.select_for_update().get(pk=plan.pk)
    if locked.status != PlanStatus.ACTIVE:
        raise ValidationError(f"{locked} is already {locked.get_status_display().lower()}.")
    if only_if_lapsed and lapsed(locked, today) is None:
        raise ValidationError(f"{locked} has no installment unpaid past its grace period now.")
    _end(locked, actor, status, reason, today)
    if _waits_on_plan(account):
        account.next_action = AccountAction.SEND_STATEMENT
        account.next_action_due = today
        account.wait_reason = ""
        save_checked(account, actor, today)
    plan.refresh_from_db()


@transaction.atomic
def plan_cancel(
    *, actor: Actor, plan: PaymentPlan, reason: str, today: dt.date | None = None
) -> PaymentPlan:
    """Cancel an active plan (the patient asked, a new agreement replaces it): the account
    goes back to statements."""
    require_billing(actor, plan.practice_id)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the plan is cancelled."})
    _end_locked(plan, actor, PlanStatus.CANCELLED, reason.strip(), today or timezone.localdate())
    return plan


@transaction.atomic
def plan_break(
    *, actor: Actor = None, plan: PaymentPlan, reason: str, today: dt.date | None = None
) -> PaymentPlan:
    """Break an active plan (the daily job, actor None: an installment unpaid after the
    grace period): the account goes back to normal dunning at once."""
    require_billing(actor, plan.practice_id)
    _end_locked(
        plan,
        actor,
        PlanStatus.BROKEN,
        reason,
        today or timezone.localdate(),
        only_if_lapsed=actor is None,
    )
    return plan


# --- the daily job ---------------------------------------------------------------------


def _worker(account: PatientAccount) -> Any:
    """Whoever works the account's balance: its owner while they may, else the first
    person at the practice who works patient balances."""
    owner = account.owner
    if owner is not None and has_perm(owner, perms.WORK_PATIENT_BILLING, account.practice_id):
        return owner
    return owner_for(None, account.practice_id)


def send_reminders(today: dt.date) -> int:
    """One notification per installment due within ``reminder_days`` (to whoever works
    the balance), however often the job runs; no patient names in the text."""
    horizon = today + dt.timedelta(days=reminder_days())
    due = (
        Installment.objects.filter(
            practice__is_active=True,
            plan__status=PlanStatus.ACTIVE,
            status=InstallmentStatus.PENDING,
            due_date__gte=today,
            due_date__lte=horizon,
        )
        .select_related("plan__account__patient", "plan__account__owner")
        .order_by("due_date", "pk")
    )

    def build() -> Iterator[Notification]:
        for item in due.iterator(chunk_size=BATCH):
            user = _worker(item.plan.account)
            if user is None:
                continue
            left = (item.due_date - today).days
            when = "today" if left == 0 else f"in {plural(left, 'day')}"
            yield notification_for(
                INSTALLMENT,
                item,
                NotificationKind.PLAN_DUE,
                f"{describe_installment(item)}: ${item.remaining:,.2f} due "
                f"{item.due_date:%m/%d/%Y} ({when})",
                today,
                f"plan_due:{item.pk}:{item.due_date:%Y%m%d}",
                user_id=user.pk,
            )

    return insert_new(build())


def mark_missed(today: dt.date) -> int:
    """Installments past due and not fully paid become work items (once each)."""
    opened = 0
    late = Installment.objects.filter(
        practice__is_active=True,
        plan__status=PlanStatus.ACTIVE,
        status=InstallmentStatus.PENDING,
        due_date__lt=today,
    ).order_by("pk")
    for pk in list(late.values_list("pk", flat=True)):
        with transaction.atomic():
            item = lock_for_update(Installment(pk=pk), None, "plan__account__owner")
            plan = item.plan
            if item.status != InstallmentStatus.PENDING or plan.status != PlanStatus.ACTIVE:
                continue
            owner = _worker(plan.account)
            if owner is None:  # nobody at the practice works patient balances
                continue
            item.status, item.missed_on, item.owner = InstallmentStatus.LATE, today, owner
            item.next_action, item.next_action_due = InstallmentAction.CALL_PATIENT, today
            save_checked(item, None, today)
            breaks_on = item.due_date + dt.timedelta(days=plan.grace_days + 1)
            log(
                plan.account,
                None,
                "plan",
                f"{plan}: installment {item.number} (${item.remaining:,.2f}, due "
                f"{item.due_date:%m/%d/%Y}) missed; the plan breaks on {breaks_on:%m/%d/%Y} "
                "unless it is paid",
            )
            opened += 1
    return opened


def lapsed(plan: PaymentPlan, today: dt.date) -> Installment | None:
    """The plan's first installment still unpaid after its grace period, if any."""
    cutoff = today - dt.timedelta(days=plan.grace_days)
    return next(
        (i for i in plan.installments.all() if i.status in UNPAID and i.due_date < cutoff),
        None,
    )


def break_lapsed(today: dt.date) -> int:
    """Break every active plan with an installment unpaid past its grace period."""
    broken = 0
    plans = (
        PaymentPlan.objects.filter(practice__is_active=True, status=PlanStatus.ACTIVE)
        .filter(installments__status__in=UNPAID, installments__due_date__lt=today)
        .distinct()
        .prefetch_related("installments")
        .order_by("pk")
    )
    for plan in plans:
        item = lapsed(plan, today)
        if item is None:
            continue
        reason = (
            f"installment {item.number} (due {item.due_date:%m/%d/%Y}) unpaid after the "
            f"{plural(plan.grace_days, 'day')} grace period"
        )
        try:
            plan_break(actor=None, plan=plan, reason=reason, today=today)
        except ValidationError:  # paid or ended meanwhile
            continue
        broken += 1
    return broken


def run_daily(today: dt.date) -> dict[str, int]:
    """The beat job: reminders, missed installments, broken plans (each idempotent)."""
    return {
        "reminders": send_reminders(today),
        "missed": mark_missed(today),
        "broken": break_lapsed(today),
    }


def accounts_on_current_plan(practice_id: int, on: dt.date) -> set[int]:
    """Accounts whose active plan is current on ``on`` (no installment unpaid past its
    grace period): the statement cycle skips them."""
    plans = PaymentPlan.objects.filter(
        practice_id=practice_id, status=PlanStatus.ACTIVE
    ).prefetch_related("installments")
    return {plan.account_id for plan in plans if lapsed(plan, on) is None}
