"""Statement cycles and disputes (issue 13, 2 and 4): on the practice's day, one immutable
statement per account over the minimum, the dunning stage by age with its wording, a PDF
and a mailing CSV; the same cycle twice (or the beat job run twice) makes no second
statement; an open dispute holds the account's statements."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction

from ar import disputes, ledger, statements
from ar.account_choices import DunningStage
from ar.account_tasks import run_statement_cycles
from ar.ledger_models import PatientAccount
from ar.statement_models import Statement, StatementCycle
from practices.choices import AccessAction
from practices.models import PhiAccessLog
from tests import factories

pytestmark = pytest.mark.django_db

CYCLE = dt.date(2026, 12, 1)  # day 1: the default cycle day


def owing(world: Any, amount: str, days: int, **patient: Any) -> PatientAccount:
    person = factories.PatientFactory(practice=world.sunrise, **patient)
    account = ledger.account_for(actor=world.bill, patient=person)
    ledger.ledger_post(
        actor=world.bill,
        account=account,
        kind="charge",
        amount=amount,
        entry_date=CYCLE - dt.timedelta(days=days),
    )
    account.refresh_from_db()
    return account


@pytest.fixture
def accounts(world: Any) -> dict[str, PatientAccount]:
    return {
        "new": owing(world, "80", 10),
        "past_due": owing(world, "120", 65),
        "final": owing(
            world, "300", 130, first_name="=cmd|x", last_name="Doe", address_line="1 Main St"
        ),
        "tiny": owing(world, "3", 40),  # under the $5 minimum
    }


def test_a_cycle_makes_one_statement_per_account_over_the_minimum(world, accounts):
    made = statements.statement_cycle_run(actor=None, practice=world.sunrise, on=CYCLE)
    by_account = {s.account_id: s for s in made}
    assert set(by_account) == {accounts[k].pk for k in ("new", "past_due", "final")}
    stages = {k: by_account[accounts[k].pk].stage for k in ("new", "past_due", "final")}
    assert stages == {
        "new": DunningStage.FIRST,
        "past_due": DunningStage.SECOND,
        "final": DunningStage.FINAL,
    }
    final = by_account[accounts["final"].pk]
    assert final.balance == Decimal("300.00") and "FINAL NOTICE" in final.wording
    assert final.due_date == CYCLE + dt.timedelta(days=14)
    assert final.recipient["address"][0] == "1 Main St"
    assert [line["amount"] for line in final.lines] == ["300.00"]
    account = PatientAccount.objects.get(pk=accounts["new"].pk)
    assert account.next_action == "wait" and "first notice" in account.wait_reason
    # The same cycle again, and the beat job for that day: nothing new.
    assert statements.statement_cycle_run(actor=None, practice=world.sunrise, on=CYCLE) == []
    assert run_statement_cycles.apply(kwargs={"on": CYCLE.isoformat()}).get() == 0
    assert Statement.objects.count() == 3


def test_the_cycle_runs_on_the_practices_day_only(world, accounts):
    StatementCycle.objects.create(
        practice=world.sunrise, day_of_month=15, minimum_balance=Decimal("100")
    )
    assert run_statement_cycles.apply(kwargs={"on": CYCLE.isoformat()}).get() == 0
    on = dt.date(2026, 12, 15)
    assert run_statement_cycles.apply(kwargs={"on": on.isoformat()}).get() == 2  # >= $100
    assert set(Statement.objects.values_list("account_id", flat=True)) == {
        accounts["past_due"].pk,
        accounts["final"].pk,
    }
    with pytest.raises(PermissionDenied):
        statements.statement_cycle_run(actor=world.vera, practice=world.sunrise, on=on, force=True)


def test_a_statement_is_never_changed(world, accounts):
    (statement, *_rest) = statements.statement_cycle_run(
        actor=None, practice=world.sunrise, on=CYCLE
    )
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        Statement.objects.filter(pk=statement.pk).update(balance=Decimal("1"))
    assert Statement.objects.get(pk=statement.pk).balance == statement.balance


def test_pdf_and_mailing_batch(world, accounts, client_for):
    statements.statement_cycle_run(actor=None, practice=world.sunrise, on=CYCLE)
    final = Statement.objects.get(account=accounts["final"])
    fran = client_for(world.fran)
    session = fran.session
    session["practice_id"] = world.sunrise.pk
    session.save()
    pdf = fran.get(f"/statements/{final.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    page = fran.get("/statements/")
    assert "Final notice" in page.text and "?cycle=2026-12-01" in page.text
    batch = fran.get("/statements/batch/?cycle=2026-12-01")
    rows = list(csv.reader(io.StringIO(batch.content.decode())))
    assert len(rows) == 4
    by_stage = {row[5]: row for row in rows[1:]}
    assert by_stage["Final notice"][2] == "'=cmd|x Doe"
    assert by_stage["Final notice"][6] == "300.00"
    assert PhiAccessLog.objects.filter(
        user=world.fran, what="statement batch", action=AccessAction.EXPORT
    ).exists()
    # The patient page shows the last statement.
    page = fran.get(f"/patients/{accounts['final'].patient_id}/")
    assert 'id="panel-statement"' in page.text and "final notice" in page.text


def test_a_dispute_holds_statements_until_it_is_resolved(world, accounts):
    held = accounts["past_due"]
    dispute = disputes.dispute_open(actor=world.fran, account=held, reason="Already paid at visit")
    held.refresh_from_db()
    assert held.next_action == "wait" and "Already paid at visit" in held.wait_reason
    with pytest.raises(ValidationError, match="already has an open dispute"):
        disputes.dispute_open(actor=world.fran, account=held, reason="again")
    with pytest.raises(PermissionDenied):
        disputes.dispute_open(actor=world.vera, account=accounts["new"], reason="x")
    made = statements.statement_cycle_run(actor=None, practice=world.sunrise, on=CYCLE)
    assert held.pk not in {s.account_id for s in made} and len(made) == 2
    disputes.dispute_resolve(actor=world.bill, dispute=dispute, resolution="Receipt not found")
    dispute.refresh_from_db()
    held.refresh_from_db()
    assert dispute.status == "resolved" and dispute.resolved_by == world.bill
    assert held.next_action == "call_patient"
    later = dt.date(2027, 1, 1)
    made = statements.statement_cycle_run(actor=None, practice=world.sunrise, on=later)
    assert held.pk in {s.account_id for s in made}
