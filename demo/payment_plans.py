"""Demo payment plans (issue 13): per practice, one plan that is current (its first
installment paid, the next ones ahead) and one whose first installment was missed five
days ago (a "Missed installment" work item, inside its grace period). Built on the demo's
patient balances; idempotent: a practice that has the demo's plans is left alone."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from ar import ledger, plans
from ar.ledger_models import PatientAccount
from ar.plan_models import Installment, PaymentPlan
from demo.patient_accounts import MEMO, WORKERS
from practices.models import Practice

TERMS = "Demo: agreed by phone"


def seed_payment_plans(
    practice: Practice, users: dict[str, Any], today: dt.date | None = None
) -> int:
    """The practice's two demo plans; how many were made (0 when they exist)."""
    today = today or timezone.localdate()
    if PaymentPlan.objects.filter(practice=practice, terms__startswith="Demo:").exists():
        return 0
    worker = users[WORKERS.get(practice.slug, "val.vendorlead")]
    owing = list(
        PatientAccount.objects.filter(
            practice=practice, balance__gt=0, entries__memo=MEMO, payment_plans__isnull=True
        )
        .distinct()
        .order_by("patient__account_number")
    )
    if len(owing) < 3:
        return 0
    current, missed = owing[1], owing[2]
    # Current: four monthly installments from 25 days ago, the first one paid.
    plan = plans.plan_create(
        actor=worker,
        account=current,
        total=current.balance,
        count=4,
        first_due=today - dt.timedelta(days=25),
        interval="monthly",
        terms=f"{TERMS}: monthly by check",
        today=today - dt.timedelta(days=30),
    )
    first = Installment.objects.get(plan=plan, number=1)
    ledger.ledger_post(
        actor=worker,
        account=PatientAccount.objects.get(pk=current.pk),
        kind="payment",
        amount=first.amount,
        method="check",
        reference="PLAN-1",
        entry_date=first.due_date,
    )
    # Missed: the first of three installments fell due five days ago, unpaid.
    plans.plan_create(
        actor=worker,
        account=missed,
        total=missed.balance,
        count=3,
        first_due=today - dt.timedelta(days=5),
        interval="monthly",
        terms=f"{TERMS}: three monthly payments",
        today=today - dt.timedelta(days=20),
    )
    plans.mark_missed(today)
    return 2


def reset_payment_plans(practices: list[Practice]) -> None:
    """Remove the practices' plans (``seed_demo --reset``), before their accounts go."""
    Installment.history.filter(practice__in=practices).delete()
    Installment.objects.filter(practice__in=practices).delete()
    PaymentPlan.history.filter(practice__in=practices).delete()
    PaymentPlan.objects.filter(practice__in=practices).delete()
