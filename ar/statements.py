"""Statement cycles: on each practice's day of the month, one statement per account that
owes at least the practice's minimum, with the dunning stage by the age of its oldest
unpaid charge (first, second, final notice) and that stage's wording. Each statement is an
immutable record; the PDF and the mailing batch are rendered from it. Running the same
cycle twice makes no second statement (one per account per cycle date, a unique
constraint, checked first). Accounts with an open dispute are held, and accounts paying
on a current payment plan are skipped.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string

from ar.account_choices import (
    STAGE_WORDING,
    AccountAction,
    DisputeStatus,
    DunningStage,
    dunning_stage,
)
from ar.ledger import log
from ar.ledger_models import LedgerEntry, PatientAccount
from ar.plans import accounts_on_current_plan
from ar.statement_models import DEFAULT_CYCLE_DAY, DEFAULT_MINIMUM, Statement, StatementCycle
from billing_ops.access import has_perm
from practices import permissions as perms
from work.choices import WAIT
from work.services import lock_for_update, save_checked

if TYPE_CHECKING:
    from billing_ops.access import Actor
    from practices.models import Practice

PAY_WITHIN_DAYS = 21
FINAL_PAY_WITHIN_DAYS = 14
MAX_LINES = 40


def cycle_of(practice_id: int) -> StatementCycle:
    """The practice's cycle, or the defaults (day 1, $5.00) when it has none saved."""
    cycle = StatementCycle.objects.filter(practice_id=practice_id).first()
    if cycle is None:
        return StatementCycle(
            practice_id=practice_id,
            day_of_month=DEFAULT_CYCLE_DAY,
            minimum_balance=DEFAULT_MINIMUM,
        )
    return cycle


def _lines(account: PatientAccount) -> list[dict[str, Any]]:
    """The entries a statement shows: every entry not cancelled by a reversal, newest last."""
    rows = list(LedgerEntry.objects.filter(account=account).order_by("entry_date", "pk"))
    cancelled = {e.reverses_id for e in rows if e.reverses_id} | {
        e.pk for e in rows if e.reverses_id
    }
    live = [e for e in rows if e.pk not in cancelled][-MAX_LINES:]
    return [
        {
            "date": e.entry_date.isoformat(),
            "kind": e.get_kind_display(),
            "memo": e.memo,
            "amount": str(e.amount),
        }
        for e in live
    ]


def _recipient(account: PatientAccount) -> dict[str, Any]:
    p = account.patient
    place = " ".join(part for part in (p.city, p.state, p.postal_code) if part)
    return {
        "name": f"{p.first_name} {p.last_name}",
        "account_number": p.account_number,
        "address": [line for line in (p.address_line, place) if line],
    }


def _statement(actor: Actor, account: PatientAccount, on: dt.date) -> Statement | None:
    """One account's statement for the cycle ``on`` (None: it already has one)."""
    account = lock_for_update(account, None, "patient")
    if Statement.objects.filter(account=account, cycle_date=on).exists():
        return None
    days = account.age_days(on) or 0
    stage = dunning_stage(days)
    within = FINAL_PAY_WITHIN_DAYS if stage == DunningStage.FINAL else PAY_WITHIN_DAYS
    statement = Statement.objects.create(
        practice_id=account.practice_id,
        account=account,
        cycle_date=on,
        due_date=on + dt.timedelta(days=within),
        stage=stage,
        balance=account.balance,
        oldest_unpaid_on=account.oldest_unpaid_on,
        wording=STAGE_WORDING[DunningStage(stage)],
        recipient=_recipient(account),
        lines=_lines(account),
        created_by=actor,
    )
    label = DunningStage(stage).label
    if account.is_open and account.next_action == AccountAction.SEND_STATEMENT:
        account.next_action, account.next_action_due = WAIT, statement.due_date
        account.wait_reason = f"payment after the {label.lower()} of {on:%m/%d/%Y}"
        save_checked(account, actor)
    log(account, actor, "statement", f"{label} sent for ${statement.balance:,.2f}")
    return statement


def statement_cycle_run(
    *, actor: Actor, practice: Practice, on: dt.date, force: bool = False
) -> list[Statement]:
    """Run the practice's cycle for the day ``on`` (only on its day of the month unless
    ``force``): the statements made now; none for accounts that already have one."""
    if actor is not None and not has_perm(actor, perms.WORK_PATIENT_BILLING, practice.pk):
        raise PermissionDenied("You may not run statements here.")
    cycle = cycle_of(practice.pk)
    if not force and on.day != cycle.day_of_month:
        return []
    done = set(
        Statement.objects.filter(practice=practice, cycle_date=on).values_list(
            "account_id", flat=True
        )
    )
    accounts = (
        PatientAccount.objects.filter(practice=practice, balance__gte=cycle.minimum_balance)
        .exclude(pk__in=done)
        .exclude(disputes__status=DisputeStatus.OPEN)  # held until the dispute is resolved
        .exclude(pk__in=accounts_on_current_plan(practice.pk, on))  # paying by plan
        .order_by("pk")
    )
    made = []
    for account in accounts:
        try:
            with transaction.atomic():
                statement = _statement(actor, account, on)
        except IntegrityError:  # a concurrent run made it first
            continue
        if statement is not None:
            made.append(statement)
    return made


def render_pdf(statement: Statement) -> bytes:
    """The statement as a PDF, from its own record (the text escaped by the template)."""
    from weasyprint import HTML  # type: ignore[import-untyped]  # heavy: loaded for PDFs only

    context = {"statement": statement, "practice": statement.practice}
    html = render_to_string("ar/statement_pdf.html", context)
    return bytes(HTML(string=html).write_pdf())
