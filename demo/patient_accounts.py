"""Demo patient accounts (issue 13): balances in every aging bucket, a credit to refund,
statements in each dunning stage from this month's cycle, follow-ups, and adjustment
requests waiting for the practice manager (sam.manager at Sunrise). Idempotent: a
practice that already has the demo's charges is left alone."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from ar import adjustments, followups, ledger
from ar.account_choices import AccountAction
from ar.ledger_models import (
    AccountActivity,
    AdjustmentRequest,
    FollowUp,
    LedgerEntry,
    PatientAccount,
)
from ar.statement_models import Statement, StatementCycle
from ar.statements import statement_cycle_run
from practices.models import Practice

MEMO = "Demo: self-pay visit"
# (days since the charge, amount, a payment on it): one or more per aging bucket.
BALANCES = [
    (8, "65.00", None),
    (22, "140.00", "40.00"),
    (44, "220.00", None),
    (58, "95.50", None),
    (75, "310.00", "60.00"),
    (88, "48.00", None),
    (104, "180.00", None),
    (116, "420.00", "100.00"),
    (150, "260.00", None),
    (210, "540.00", None),
]
# Who works patient balances in the demo at each practice, and who asks for adjustments.
WORKERS = {"sunrise-dental": "fran.frontdesk", "maple-family-medicine": "mia.manager"}
REQUESTERS = {"sunrise-dental": "val.vendorlead", "maple-family-medicine": "val.vendorlead"}


def seed_patient_accounts(
    practice: Practice, users: dict[str, Any], today: dt.date | None = None
) -> int:
    """The practice's demo balances, statements and requests; the number of accounts made
    (0 when the demo's charges are already there)."""
    today = today or timezone.localdate()
    if LedgerEntry.objects.filter(practice=practice, memo=MEMO).exists():
        return 0
    worker = users[WORKERS.get(practice.slug, "val.vendorlead")]
    patients = list(
        practice.patients.filter(billing_account__isnull=True).order_by("account_number")[
            : len(BALANCES) + 1
        ]
    )
    if len(patients) < len(BALANCES) + 1:
        return 0
    accounts = []
    for patient, (days, amount, paid) in zip(patients, BALANCES, strict=False):
        account = ledger.account_for(actor=worker, patient=patient)
        ledger.ledger_post(
            actor=worker,
            account=account,
            kind="charge",
            amount=amount,
            memo=MEMO,
            entry_date=today - dt.timedelta(days=days),
        )
        if paid:
            ledger.ledger_post(
                actor=worker,
                account=account,
                kind="payment",
                amount=paid,
                method="check",
                reference=f"{1000 + days}",
                entry_date=today - dt.timedelta(days=days - 5),
            )
        account.refresh_from_db()
        accounts.append(account)
    # A patient who paid twice: a credit to refund.
    credit = ledger.account_for(actor=worker, patient=patients[-1])
    ledger.ledger_post(
        actor=worker,
        account=credit,
        kind="charge",
        amount="50.00",
        memo=MEMO,
        entry_date=today - dt.timedelta(days=30),
    )
    ledger.ledger_post(
        actor=worker,
        account=credit,
        kind="payment",
        amount="100.00",
        method="card",
        reference="R-7731",
    )
    # This month's cycle: statements in each dunning stage (ages 8 to 210 days).
    StatementCycle.objects.get_or_create(practice=practice)
    statement_cycle_run(actor=None, practice=practice, on=today, force=True)
    # A call on the oldest balance.
    oldest = PatientAccount.objects.get(pk=accounts[-1].pk)
    followups.account_follow_up(
        actor=worker,
        account=oldest,
        channel="phone",
        contact="patient",
        discussed="Final notice balance; patient lost their job in the spring.",
        agreed="Patient asks for a hardship reduction.",
        next_step=AccountAction.CALL_PATIENT,
        next_date=today + dt.timedelta(days=3),
    )
    # Approvals waiting for the manager (above the engagement's $100 threshold).
    requester = users[REQUESTERS.get(practice.slug, "val.vendorlead")]
    adjustments.adjustment_request(
        actor=requester,
        account=PatientAccount.objects.get(pk=accounts[-1].pk),
        kind="hardship",
        amount="270.00",
        reason="Hardship: lost job, documents on file",
    )
    adjustments.adjustment_request(
        actor=requester,
        account=PatientAccount.objects.get(pk=accounts[-2].pk),
        kind="write_off",
        amount="260.00",
        reason="Uncollectible after three notices",
    )
    adjustments.adjustment_request(
        actor=worker,
        account=PatientAccount.objects.get(pk=credit.pk),
        kind="refund",
        amount="50.00",
        reason="Paid twice (card and check)",
    )
    # One small balance written off at once (under the threshold).
    adjustments.adjustment_request(
        actor=requester,
        account=PatientAccount.objects.get(pk=accounts[3].pk),
        kind="small_balance",
        amount="5.50",
        reason="Small balance after payment",
    )
    return len(accounts) + 1


def reset_patient_accounts(practices: list[Practice]) -> None:
    """Remove the practices' accounts, ledgers, statements and requests (``seed_demo
    --reset``; the caller steps past the append-only triggers), before remittances,
    claims and patients go."""
    Statement.objects.filter(practice__in=practices).delete()
    StatementCycle.objects.filter(practice__in=practices).delete()
    AdjustmentRequest.history.filter(practice__in=practices).delete()
    AdjustmentRequest.objects.filter(practice__in=practices).delete()
    FollowUp.objects.filter(account__practice__in=practices).delete()
    AccountActivity.objects.filter(account__practice__in=practices).delete()
    LedgerEntry.objects.filter(practice__in=practices, reverses__isnull=False).delete()
    LedgerEntry.objects.filter(practice__in=practices).delete()
    PatientAccount.history.filter(practice__in=practices).delete()
    PatientAccount.objects.filter(practice__in=practices).delete()
