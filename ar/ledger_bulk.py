"""The patient's share of many claim payments charged at once: the bulk sibling of
``ar.ledger.patient_share_posted`` for the remittance's bulk path (``ar.bulk_posting``).

Same rules and the same rows as calling ``patient_share_posted`` for each payment in
order: no charge for a zero share, a payment already charged, or a primary claim whose
patient has a secondary coverage; the account is opened (settled, empty, its "+" history
row) on first use; the charge entry and its timeline line; then the account's cached
balance and oldest unpaid charge, its work-item state (``ar.ledger.refresh``'s rules) and
its rank, version and "~" history row (``work.services.save_checked``'s).

In a constant number of queries: the existing accounts are locked and read in one query
(their entries in one more), the missing ones created in one INSERT (and one for their
history), the charges (ids reserved in one query) and the timeline lines written with one
``COPY`` each from plain tuples, the accounts in one UPDATE and their history in one
``INSERT ... SELECT``. An account charged twice in one call (one patient, two claims in
the file) takes ``patient_share_posted`` for its charges, one after the other, so that
each charge has its own history row as it would have.
``tests/ar/test_ledger_bulk.py`` posts files both ways and compares every ledger row and
account field. PostgreSQL (the UPDATE and the history copy); the caller keeps to it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from django.db import IntegrityError, transaction
from django.utils import timezone
from simple_history.utils import get_history_manager_for_model

from ar import ledger
from ar.account_choices import AccountAction, AccountStatus, EntryKind
from ar.bulk_sql import Copier, update_rows
from ar.ledger_models import ZERO, AccountActivity, LedgerEntry, PatientAccount
from ar.models import ClaimPayment
from billing_ops.bulk import any_of, copy_history, reserve_ids
from practices.choices import CobOrder
from practices.models import Coverage, Patient
from work.services import check_next_action, create_checked_bulk

if TYPE_CHECKING:
    from billing_ops.access import Actor
    from claims.models import Claim

ACCOUNT_FIELDS = [
    "balance",
    "oldest_unpaid_on",
    "status",
    "owner",
    "next_action",
    "next_action_due",
    "wait_reason",
    "locked_by",
    "locked_until",
    "priority",
    "priority_reasons",
    "version",
]


class Charge(NamedTuple):
    """What the bulk path knows of a claim payment it has just written (its id and share):
    enough for the charge, without a model instance per payment."""

    pk: int
    patient_responsibility: Decimal
    is_reversal: bool = False


Payment = ClaimPayment | Charge


@dataclass(frozen=True)
class _Entry:
    """What ``ledger.oldest_unpaid`` reads of an entry."""

    pk: int
    amount: Decimal
    entry_date: dt.date
    reverses_id: int | None


def _to_charge(
    charges: Sequence[tuple[Payment, Claim]], secondaries_checked: bool = False
) -> list[tuple[Payment, Claim]]:
    """The payments ``patient_share_posted`` would charge (reversals are not here).
    A ``Charge`` is a payment written in this transaction (its id just reserved): no
    entry can name it yet, so only model instances are looked up as charged already.
    ``secondaries_checked``: the caller left out the claims of a primary coverage whose
    patient has a secondary one (``ar.bulk_posting.split`` does), not read again here."""
    wanted = [(p, c) for p, c in charges if not p.is_reversal and p.patient_responsibility > 0]
    if not wanted:
        return []
    stored = [p.pk for p, _ in wanted if not isinstance(p, Charge)]
    charged = set(
        LedgerEntry.objects.filter(any_of("claim_payment_id", stored)).values_list(
            "claim_payment_id", flat=True
        )
        if stored
        else ()
    )
    if secondaries_checked:
        return [(p, c) for p, c in wanted if p.pk not in charged]
    primary = set(
        Coverage.objects.filter(
            any_of("pk", {c.coverage_id for _, c in wanted}), cob_order=CobOrder.PRIMARY
        ).values_list("pk", flat=True)
    )
    with_secondary = set(
        Coverage.objects.filter(
            any_of("patient_id", {c.patient_id for _, c in wanted if c.coverage_id in primary}),
            cob_order=CobOrder.SECONDARY,
        ).values_list("patient_id", flat=True)
    )
    return [
        (p, c)
        for p, c in wanted
        if p.pk not in charged and not (c.coverage_id in primary and c.patient_id in with_secondary)
    ]


def _accounts(
    actor: Actor, claims: list[Claim], late: Collection[int] = ()
) -> tuple[dict[int, PatientAccount], set[int], list[PatientAccount]]:
    """(patient id -> account, ids of the accounts opened here, accounts to open late):
    the existing ones locked and read in one query, the missing ones opened as
    ``ledger.account_for`` opens them (in the claims' order). When every missing account
    is of a patient in ``late`` (charged once), they are only checked and ranked as
    opening them would (``_opened``), not written: ``_post`` writes each once, in its
    state after the charge, with its "+" history row as opened (no UPDATE of new rows)."""
    patient_ids = list(dict.fromkeys(c.patient_id for c in claims))
    found = {
        a.patient_id: a
        for a in PatientAccount.objects.select_for_update(of=("self",))
        .filter(any_of("patient_id", patient_ids))
        .order_by("pk")
    }
    # The patients' practices (a claim in hand need not carry its patient: matching's don't).
    wanted = [pid for pid in patient_ids if pid not in found]
    practice_of = dict(
        Patient.objects.filter(any_of("pk", wanted)).values_list("pk", "practice_id")
        if wanted
        else ()
    )
    new: set[int] = set()
    missing = [_new_account(practice_of[pid], pid) for pid in wanted]
    if missing and all(a.patient_id in late for a in missing):
        today = timezone.localdate()
        for account in missing:
            _opened(account, today)
        found.update({a.patient_id: a for a in missing})
        return found, new, missing
    if missing:
        try:
            with transaction.atomic():
                created = create_checked_bulk(missing, actor)
            new = {a.pk for a in created}
        except IntegrityError:  # one opened by a concurrent request: one by one, theirs kept
            by_id = {c.patient_id: c for c in claims}
            created = [
                ledger.account_for(actor=actor, patient=by_id[a.patient_id].patient)
                for a in missing
            ]
            created = list(
                PatientAccount.objects.select_for_update(of=("self",))
                .filter(pk__in=[a.pk for a in created])
                .order_by("pk")
            )
        found.update({a.patient_id: a for a in created})
    return found, new, []


def _new_account(practice_id: int, patient_id: int) -> PatientAccount:
    """``PatientAccount(practice_id=..., patient_id=..., version=0)`` (``ledger.account_for``'s
    new account) built from its values in field order: Django's keyword path costs about
    1.6x the positional one (25,000 accounts a 25,000-claim file). Every other field
    holds its default: a callable default (``list``) called for this instance, as the
    keyword path does; the others are the same values ``get_default`` returns."""
    values = list(_DEFAULTS)
    for i, field in _CALLED:
        values[i] = field.get_default()
    values[_PRACTICE], values[_PATIENT], values[_VERSION] = practice_id, patient_id, 0
    build: Any = PatientAccount  # the stubs type keyword arguments only
    return cast(PatientAccount, build(*values))


_ACCOUNT_FIELDS = PatientAccount._meta.concrete_fields
_DEFAULTS = tuple(f.get_default() for f in _ACCOUNT_FIELDS)
_CALLED = [(i, f) for i, f in enumerate(_ACCOUNT_FIELDS) if callable(f.default)]
_ATTNAMES = [f.attname for f in _ACCOUNT_FIELDS]
_PRACTICE, _PATIENT = _ATTNAMES.index("practice_id"), _ATTNAMES.index("patient_id")
_VERSION = _ATTNAMES.index("version")


def _opened(account: PatientAccount, today: dt.date) -> None:
    """``work.services.create_checked_bulk``'s check of a new account (as ``save_checked``
    on ``ledger.account_for``'s new one): invariant, rank, version."""
    if not account.is_open:
        account.locked_by, account.locked_until = None, None
    check_next_action(account)
    rank = account.compute_priority(today)
    account.priority, account.priority_reasons = rank.score, list(rank.reasons)
    account.version += 1


def _refresh(
    account: PatientAccount,
    entries: list[_Entry],
    owner_of: dict[int, Any],
    actor: Actor,
    today: dt.date,
) -> None:
    """``ledger.refresh`` then ``work.services._checked`` on a locked account in hand, from
    its entries (read before, the new charge included)."""
    balance = sum((e.amount for e in entries), ZERO)
    account.balance = balance
    oldest = ledger.oldest_unpaid(cast("list[LedgerEntry]", entries)) if balance > 0 else None
    account.oldest_unpaid_on = oldest
    if balance == 0:
        if account.is_open:
            account.status = AccountStatus.SETTLED
            account.next_action, account.next_action_due, account.wait_reason = "", None, ""
            account.locked_by, account.locked_until = None, None
    else:
        owner_id = account.owner_id
        if owner_id is None:
            if account.practice_id not in owner_of:
                found = ledger.owner_for(actor, account.practice_id)
                owner_of[account.practice_id] = found.pk if found is not None else None
            owner_id = owner_of[account.practice_id]
        if owner_id is not None:
            wanted = AccountAction.REFUND_CREDIT if balance < 0 else None
            if not account.is_open:
                account.status, account.owner_id = AccountStatus.OPEN, owner_id
                account.next_action = wanted or AccountAction.SEND_STATEMENT
                days = 0 if wanted else ledger.STATEMENT_DAYS
                account.next_action_due = today + dt.timedelta(days=days)
                account.wait_reason = ""
            elif wanted and account.next_action != wanted:
                account.next_action, account.next_action_due = wanted, today
                account.wait_reason = ""
            elif not wanted and account.next_action == AccountAction.REFUND_CREDIT:
                account.next_action = AccountAction.SEND_STATEMENT
                account.next_action_due = today + dt.timedelta(days=ledger.STATEMENT_DAYS)
    # save_checked's part: the invariant, the rank and the version.
    if not account.is_open:
        account.locked_by, account.locked_until = None, None
    check_next_action(account)
    rank = account.compute_priority(None)
    account.priority, account.priority_reasons = rank.score, list(rank.reasons)
    account.version += 1


def patient_shares_posted(
    *,
    actor: Actor,
    charges: Sequence[tuple[Payment, Claim]],
    secondaries_checked: bool = False,
) -> list[int]:
    """``ledger.patient_share_posted`` for many (payment, claim) pairs at once, in the
    caller's transaction (a payment: the model or its ``Charge``); returns the ids of the
    charges written. ``secondaries_checked``: no claim given is of a primary coverage
    whose patient has a secondary one (the caller has read it)."""
    todo = _to_charge(charges, secondaries_checked)
    if not todo:
        return []
    # One account per patient: an account charged twice is a patient charged twice.
    per_patient = Counter(c.patient_id for _, c in todo)
    once = {pid for pid, n in per_patient.items() if n == 1}
    claims = [c for _, c in todo]
    accounts, new, late = _accounts(actor, claims, once)
    charged_once = [(p, c) for p, c in todo if c.patient_id in once]
    if late:
        try:
            with transaction.atomic():
                written = _post(actor, accounts, new, charged_once, late)
        except IntegrityError:
            # An account a concurrent request opened meanwhile (its INSERT committed
            # before our COPY): read again, the missing ones opened first, as before.
            accounts, new, _ = _accounts(actor, claims)
            written = _post(actor, accounts, new, charged_once)
    else:
        written = _post(actor, accounts, new, charged_once)
    one_by_one = [(p, c) for p, c in todo if c.patient_id not in once]
    if one_by_one:
        stored = ClaimPayment.objects.in_bulk([p.pk for p, _ in one_by_one])
        for payment, claim in one_by_one:
            entries = ledger.patient_share_posted(
                actor=actor, payment=stored[payment.pk], claim=claim
            )
            written += [e.pk for e in entries]
    return written


ENTRY_COLUMNS = [
    "id",
    "practice_id",
    "account_id",
    "kind",
    "amount",
    "entry_date",
    "method",
    "reference",
    "memo",
    "claim_payment_id",
    "claim_id",
    "reverses_id",
    "posted_by_id",
]
ACTIVITY_COLUMNS = ["account_id", "actor_id", "kind", "text"]


def _post(
    actor: Actor,
    accounts: dict[int, PatientAccount],
    new: set[int],
    todo: list[tuple[Payment, Claim]],
    late: Sequence[PatientAccount] = (),
) -> list[int]:
    """One charge per account: the entries and the timeline (``COPY`` from tuples, the
    entries' ids reserved), the accounts and their history. ``late``: accounts opened
    here and not yet written (``_accounts``): their ids reserved, each written once in its
    state after the charge, its "+" history row holding its state as opened."""
    if not todo:
        return []
    today = timezone.localdate()
    now = timezone.now()
    label = EntryKind(EntryKind.CHARGE).label
    actor_id = getattr(actor, "pk", None)
    opened: list[tuple[Any, ...]] = []
    if late:
        for account, pk in zip(late, reserve_ids(PatientAccount, len(late)), strict=True):
            account.pk, account.created_at = pk, now
            opened.append(tuple(getattr(account, name) for name in _tracked()))
        new = new | {a.pk for a in late}
    touched = [accounts[c.patient_id] for _, c in todo]
    history: dict[int, list[_Entry]] = {a.pk: [] for a in touched}
    # The entries the accounts had before (an account opened here had none).
    earlier = LedgerEntry.objects.filter(
        any_of("account_id", [pk for pk in history if pk not in new])
    )
    for pk, account_id, amount, day, reverses_id in earlier.values_list(
        "pk", "account_id", "amount", "entry_date", "reverses_id"
    ).order_by("pk"):
        history[account_id].append(_Entry(pk, amount, day, reverses_id))
    ids = reserve_ids(LedgerEntry, len(todo))
    entries, activities = [], []
    owner_of: dict[int, Any] = {}
    for entry_id, (payment, claim), account in zip(ids, todo, touched, strict=True):
        memo = f"Patient responsibility on claim {claim.pms_claim_number}"[:300]
        share = payment.patient_responsibility
        entries.append(
            (
                entry_id,
                account.practice_id,
                account.pk,
                EntryKind.CHARGE,
                share,
                today,
                "",
                "",
                memo,
                payment.pk,
                claim.pk,
                None,
                actor_id,
            )
        )
        text = f"{label} ${share:,.2f}: {memo}"
        activities.append((account.pk, actor_id, EntryKind.CHARGE, text[:2000]))
        rows = [*history[account.pk], _Entry(entry_id, share, today, None)]
        _refresh(account, rows, owner_of, actor, today)
    if late:
        _write_opened(late, opened, actor_id, now)
    Copier(LedgerEntry, ENTRY_COLUMNS, now).write(entries)
    Copier(AccountActivity, ACTIVITY_COLUMNS, now).write(activities)
    opened_ids = {a.pk for a in late}
    update_rows(PatientAccount, [a for a in touched if a.pk not in opened_ids], ACCOUNT_FIELDS)
    copy_history(PatientAccount, [a.pk for a in touched], actor, now, history_type="~")
    return ids


@functools.cache
def _tracked() -> tuple[str, ...]:
    """The attnames of the account's fields its history rows hold (its own names)."""
    history = get_history_manager_for_model(PatientAccount).model
    return tuple(f.attname for f in history.tracked_fields)


def _write_opened(
    late: Sequence[PatientAccount], opened: list[tuple[Any, ...]], actor_id: Any, now: dt.datetime
) -> None:
    """The accounts opened here, each in its state after the charge (one ``COPY``, ids
    given), and their "+" history rows as opened (one ``COPY``): what ``account_for``'s
    INSERT and history row, then the charge's UPDATE, leave in the table and the history."""
    columns = [f.attname for f in PatientAccount._meta.concrete_fields]
    Copier(PatientAccount, columns, now).write(
        [tuple(getattr(a, name) for name in columns) for a in late]
    )
    history = get_history_manager_for_model(PatientAccount).model
    hopts = history._meta
    names = [hopts.get_field(f.name).attname for f in history.tracked_fields]
    extra = ["history_date", "history_user_id", "history_type", "history_change_reason"]
    Copier(history, [*names, *extra], now).write(
        [(*values, now, actor_id, "+", None) for values in opened]
    )
