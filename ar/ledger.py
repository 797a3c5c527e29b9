"""Ledger services: post an entry, reverse one, post a batch all-or-nothing, charge a
remittance's patient responsibility, and keep the account's cached balance, aging start
and work-item state in step, in the same transaction as the entry.

The account is locked (``work.services.lock_for_update``) for every write, so two
postings to one account serialise and the cached balance is always the sum of entries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from ar.account_choices import SIGN, AccountAction, AccountStatus, EntryKind, PaymentMethod
from ar.ledger_models import ZERO, AccountActivity, LedgerEntry, PatientAccount
from billing_ops.access import has_perm, holders
from practices import permissions as perms
from practices.choices import CobOrder
from practices.models import Coverage
from work.services import lock_for_update, save_checked

if TYPE_CHECKING:
    from ar.models import ClaimPayment
    from billing_ops.access import Actor
    from claims.models import Claim
    from practices.models import Patient

CENT = Decimal("0.01")

# What else follows an account's entries inside ``refresh`` (the account locked, its
# balance just recomputed): payment plans build on the ledger, so they register here
# (``ArConfig.ready``) rather than being imported by it.
LedgerFollower = Callable[[PatientAccount, "Actor", dt.date], None]
_followers: list[LedgerFollower] = []


def register_follower(follow: LedgerFollower) -> None:
    if follow not in _followers:
        _followers.append(follow)


STATEMENT_DAYS = 3  # a new balance's first next action: send a statement within days


# The most one hand-entered amount may be (a payment, an adjustment, a plan or one of its
# installments): far below the 12 digits of an account's balance, so no entry can overflow it
# and a slip of the keyboard (a million instead of a hundred) is refused with a clear message.
MAX_AMOUNT = Decimal("999999.99")


def money(value: Any, field: str = "amount") -> Decimal:
    """A Decimal to the cent, at most ``MAX_AMOUNT`` either way, or a ValidationError naming
    the field. Every amount a person enters in ar (page, API, service) comes through here."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({field: "Enter an amount in dollars and cents."}) from None
    if not amount.is_finite():
        raise ValidationError({field: "Enter an amount in dollars and cents."})
    if abs(amount) > MAX_AMOUNT:
        raise ValidationError({field: f"Enter an amount of at most ${MAX_AMOUNT:,}."})
    return amount.quantize(CENT)


def require_billing(actor: Actor, practice_id: int) -> None:
    """Patient billing area only (None: the system itself)."""
    if actor is not None and not has_perm(actor, perms.WORK_PATIENT_BILLING, practice_id):
        raise PermissionDenied("You may not work patient balances here.")


def log(account: PatientAccount, actor: Actor, kind: str, text: str) -> None:
    """One timeline entry of the account (the work core's ``log_activity`` too)."""
    AccountActivity.objects.create(account=account, actor=actor, kind=kind, text=text[:2000])


def owner_for(actor: Actor, practice_id: int) -> Any:
    """Who works a balance that just opened: the actor when they work patient balances,
    else the first person at the practice who does."""
    if actor is not None and has_perm(actor, perms.WORK_PATIENT_BILLING, practice_id):
        return actor
    return (
        holders(perms.WORK_PATIENT_BILLING, practice_id)
        .order_by("is_superuser", "username")
        .first()
    )


def account_for(*, actor: Actor, patient: Patient) -> PatientAccount:
    """The patient's account, opened (settled, empty) on first use."""
    existing = PatientAccount.objects.filter(patient=patient).first()
    if existing is not None:
        return existing
    account = PatientAccount(practice_id=patient.practice_id, patient=patient, version=0)
    try:
        with transaction.atomic():
            return save_checked(account, actor)
    except IntegrityError:  # opened by a concurrent request: use theirs
        return PatientAccount.objects.get(patient=patient)


def oldest_unpaid(entries: Iterable[LedgerEntry]) -> dt.date | None:
    """The date of the oldest charge not yet covered by payments and credits (applied
    oldest first); a reversed entry and its reversal cancel out and are left aside."""
    rows = list(entries)
    cancelled = {e.reverses_id for e in rows if e.reverses_id} | {
        e.pk for e in rows if e.reverses_id
    }
    live = [e for e in rows if e.pk not in cancelled]
    credit = -sum((e.amount for e in live if e.amount < 0), ZERO)
    for entry in sorted((e for e in live if e.amount > 0), key=lambda e: (e.entry_date, e.pk)):
        if credit >= entry.amount:
            credit -= entry.amount
            continue
        return entry.entry_date
    return None


def refresh(account: PatientAccount, actor: Actor, today: dt.date | None = None) -> None:
    """Recompute the cached balance and aging start of a locked account and open or settle
    it as a work item; the caller's transaction saves it with ``save_checked``."""
    today = today or timezone.localdate()
    total = account.entries.aggregate(total=Sum("amount"))["total"]
    account.balance = total if total is not None else ZERO
    account.oldest_unpaid_on = oldest_unpaid(account.entries.all()) if account.balance > 0 else None
    for follow in _followers:  # e.g. payments apply to an active payment plan (ar.plans)
        follow(account, actor, today)
    if account.balance == 0:
        if account.is_open:
            account.status = AccountStatus.SETTLED
            account.next_action, account.next_action_due, account.wait_reason = "", None, ""
            account.locked_by, account.locked_until = None, None
        return
    owner = account.owner or owner_for(actor, account.practice_id)
    if owner is None:  # nobody at the practice works patient balances: nothing to assign
        return
    wanted = AccountAction.REFUND_CREDIT if account.balance < 0 else None
    if not account.is_open:
        account.status, account.owner = AccountStatus.OPEN, owner
        account.next_action = wanted or AccountAction.SEND_STATEMENT
        account.next_action_due = today + dt.timedelta(days=0 if wanted else STATEMENT_DAYS)
        account.wait_reason = ""
    elif wanted and account.next_action != wanted:
        account.next_action, account.next_action_due, account.wait_reason = wanted, today, ""
    elif not wanted and account.next_action == AccountAction.REFUND_CREDIT:
        account.next_action = AccountAction.SEND_STATEMENT
        account.next_action_due = today + dt.timedelta(days=STATEMENT_DAYS)


def signed(kind: str, amount: Decimal, account: PatientAccount) -> Decimal:
    """The entry's signed amount, with the ledger's rules for each kind."""
    if kind == EntryKind.REVERSAL:
        raise ValidationError({"kind": "A reversal is posted by reversing an entry."})
    if kind not in EntryKind.values:
        raise ValidationError({"kind": f"Unknown entry kind {kind!r}."})
    if kind == EntryKind.TRANSFER:
        if amount == 0:
            raise ValidationError({"amount": "A transfer moves a non-zero amount."})
        return amount
    if amount <= 0:
        raise ValidationError({"amount": "Enter an amount above $0.00."})
    return amount * SIGN[EntryKind(kind)]


def _append(
    actor: Actor,
    account: PatientAccount,
    *,
    kind: str,
    amount: Decimal,
    entry_date: dt.date | None = None,
    method: str = "",
    reference: str = "",
    memo: str = "",
    claim_payment: ClaimPayment | None = None,
    claim: Claim | None = None,
    reverses: LedgerEntry | None = None,
) -> LedgerEntry:
    """Insert one entry on a locked account (its rules already checked) and log it."""
    entry = LedgerEntry.objects.create(
        practice_id=account.practice_id,
        account=account,
        kind=kind,
        amount=amount,
        entry_date=entry_date or timezone.localdate(),
        method=method,
        reference=reference[:80],
        memo=memo[:300],
        claim_payment=claim_payment,
        claim=claim,
        reverses=reverses,
        posted_by=actor,
    )
    label = EntryKind(kind).label
    log(account, actor, kind, f"{label} ${amount:,.2f}" + (f": {memo}" if memo else ""))
    return entry


def _check(
    account: PatientAccount, kind: str, amount: Decimal, method: str, balance: Decimal
) -> Decimal:
    value = signed(kind, amount, account)
    if kind == EntryKind.PAYMENT and method not in PaymentMethod.values:
        raise ValidationError({"method": "Say how the patient paid: cash, check or card."})
    if kind != EntryKind.PAYMENT and method:
        raise ValidationError({"method": "Only a payment has a payment method."})
    if kind == EntryKind.REFUND and value > -balance:
        credit = max(-balance, ZERO)
        raise ValidationError({"amount": f"A refund can return at most the ${credit:,.2f} credit."})
    return value


@transaction.atomic
def ledger_post(
    *,
    actor: Actor,
    account: PatientAccount,
    kind: str,
    amount: Decimal | str,
    method: str = "",
    reference: str = "",
    memo: str = "",
    entry_date: dt.date | None = None,
) -> LedgerEntry:
    """Post one entry (charge, payment, transfer, adjustment, refund) to a patient's account.

    Amounts are given as positive dollars; the kind gives the sign (a transfer's own sign
    says which way it moves). A refund returns at most the account's credit."""
    require_billing(actor, account.practice_id)
    account = lock_for_update(account, None, "patient")
    return post_locked(
        actor,
        account,
        kind=kind,
        amount=money(amount),
        method=method,
        reference=reference.strip(),
        memo=memo.strip(),
        entry_date=entry_date,
    )


def post_locked(
    actor: Actor,
    account: PatientAccount,
    *,
    kind: str,
    amount: Decimal,
    method: str = "",
    reference: str = "",
    memo: str = "",
    entry_date: dt.date | None = None,
) -> LedgerEntry:
    """For services that hold the account's lock (approvals, plans): check the kind's
    rules, append the entry, refresh and save the account."""
    value = _check(account, kind, amount, method, account.balance)
    entry = _append(
        actor,
        account,
        kind=kind,
        amount=value,
        entry_date=entry_date,
        method=method,
        reference=reference,
        memo=memo,
    )
    refresh(account, actor)
    save_checked(account, actor)
    return entry


@dataclass(frozen=True)
class Posting:
    """One line of a batch for ``ledger_post_batch``."""

    kind: str
    amount: Decimal | str
    method: str = ""
    reference: str = ""
    memo: str = ""


@transaction.atomic
def ledger_post_batch(
    *, actor: Actor, account: PatientAccount, postings: Sequence[Posting]
) -> list[LedgerEntry]:
    """Post several entries at once: all of them, or (any refused) none."""
    entries = [
        ledger_post(
            actor=actor,
            account=account,
            kind=p.kind,
            amount=p.amount,
            method=p.method,
            reference=p.reference,
            memo=p.memo,
        )
        for p in postings
    ]
    return entries


def _reverse(actor: Actor, entry: LedgerEntry, reason: str, **source: Any) -> LedgerEntry:
    if entry.kind == EntryKind.REVERSAL:
        raise ValidationError("A reversal is not reversed: post the entry again instead.")
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise ValidationError("This entry is already reversed.")
    account = lock_for_update(entry.account, None, "patient")
    reversal = _append(
        actor,
        account,
        kind=EntryKind.REVERSAL,
        amount=-entry.amount,
        entry_date=entry.entry_date,
        memo=f"Reverses {entry.get_kind_display().lower()} #{entry.pk}: {reason}",
        reverses=entry,
        claim=entry.claim,
        **source,
    )
    refresh(account, actor)
    save_checked(account, actor)
    return reversal


@transaction.atomic
def ledger_reverse(*, actor: Actor, entry: LedgerEntry, reason: str) -> LedgerEntry:
    """Cancel a posted entry with a reversing one (the entry itself never changes)."""
    require_billing(actor, entry.practice_id)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the entry is reversed."})
    return _reverse(actor, entry, reason.strip())


def patient_share_posted(*, actor: Actor, payment: ClaimPayment, claim: Claim) -> list[Any]:
    """Called by remittance posting, in its transaction: the payer's patient responsibility
    becomes a charge on the patient's account; a payer's reversal of that payment reverses
    the charge. Idempotent per claim payment. While a primary claim's patient has a
    secondary coverage, the share goes to the secondary claim, not to the patient."""
    if payment.is_reversal:
        if payment.reversal_of_id is None:
            return []
        charged = LedgerEntry.objects.filter(
            claim_payment_id=payment.reversal_of_id, reverses__isnull=True, reversal__isnull=True
        )
        reason = f"the payer reversed its payment (claim payment {payment.pk})"
        return [_reverse(actor, entry, reason, claim_payment=payment) for entry in charged]
    share = payment.patient_responsibility
    if share <= 0 or LedgerEntry.objects.filter(claim_payment=payment).exists():
        return []
    if claim.coverage.cob_order == CobOrder.PRIMARY and (
        Coverage.objects.filter(patient_id=claim.patient_id, cob_order=CobOrder.SECONDARY).exists()
    ):
        return []
    account = account_for(actor=actor, patient=claim.patient)
    account = lock_for_update(account, None, "patient")
    entry = _append(
        actor,
        account,
        kind=EntryKind.CHARGE,
        amount=share,
        memo=f"Patient responsibility on claim {claim.pms_claim_number}",
        claim_payment=payment,
        claim=claim,
    )
    refresh(account, actor)
    save_checked(account, actor)
    return [entry]


def entries_sum(account: PatientAccount) -> Decimal:
    """The sum of the account's entries, read from the ledger itself."""
    total = LedgerEntry.objects.filter(account=account).aggregate(total=Sum("amount"))["total"]
    return total if total is not None else ZERO
