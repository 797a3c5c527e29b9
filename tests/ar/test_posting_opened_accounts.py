"""Patient accounts opened by the bulk path (``ar.ledger_bulk``, issue 11 speed): when
every account a chunk opens is charged once, it is written once, in its state after the
charge, with a "+" history row holding it as opened (no INSERT then UPDATE). The ledger,
the accounts, their history rows in order and every other stored row equal the row-by-row
path's; an account a concurrent request opened meanwhile takes the charge (the chunk's
accounts then opened first, as before)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ar import ledger, ledger_bulk, services
from ar.account_choices import AccountStatus, EntryKind
from ar.ledger_models import LedgerEntry, PatientAccount
from tests import factories
from tests.ar.test_ledger_bulk import claim_for, ledger_state, paid_with_share
from tests.ar.test_posting_bulk import post_and_snapshot
from tests.ar.test_x12_835 import era

D = Decimal
pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the bulk path runs on PostgreSQL"
)


def scene(world: Any, payer: Any, trace: str = "OPENED-1") -> str:
    """Three patients without an account, one with an account that owes, each charged
    once (so every account opened here is opened late)."""
    patient: dict[str, Any] = {
        name: factories.PatientFactory(practice=world.sunrise, last_name=name)
        for name in ("Newman", "Nolan", "Nash", "Owens")
    }
    owes = ledger.account_for(actor=None, patient=patient["Owens"])
    ledger.ledger_post(
        actor=None,
        account=owes,
        kind=EntryKind.CHARGE,
        amount="35.00",
        entry_date=timezone.localdate() - dt.timedelta(days=40),
    )
    body = ["N1*PR*EXAMPLE HEALTH PLAN", "N1*PE*SUNRISE DENTAL*XX*1234567893", "LX*1"]
    paid = 0
    for number, name, charge, share in [
        ("OA1", "Newman", 100, 20),
        ("OA2", "Owens", 150, 30),
        ("OA3", "Nolan", 120, 45),
        ("OA4", "Nash", 70, 5),
    ]:
        claim_for(world, payer, patient[name], number, charge)
        body += paid_with_share(number, charge, share)
        paid += charge - share
    return era(body, f"{paid}.00", trace=trace)


def post(world: Any, text: str, *, bulk: bool) -> tuple[dict[str, Any], list[str]]:
    savepoint = transaction.savepoint_create()
    batch = services.remittance_upload(
        actor=world.bill,
        practice=world.sunrise,
        content=text.encode(),
        filename="era.835",
        enqueue=False,
    )
    with CaptureQueriesContext(connection) as queries:
        ran = services.remittance_run(batch.pk, bulk=bulk)
    assert ran is not None and ran.posted_count == 4, ran and ran.entries
    state = ledger_state()
    transaction.savepoint_rollback(savepoint)
    return state, [q["sql"] for q in queries.captured_queries]


def test_accounts_opened_late_hold_what_the_row_path_leaves(world, payer):
    text = scene(world, payer)

    by_row, _ = post(world, text, bulk=False)
    by_bulk, sql = post(world, text, bulk=True)

    assert by_bulk.keys() == by_row.keys()
    for key in by_row:
        assert by_bulk[key] == by_row[key], key
    opened = [
        (fields["balance"], fields["status"], fields["version"], [h[0] for h in history])
        for fields, _entries, _timeline, history in by_bulk.values()
    ]
    # Three opened here: "+" as opened (settled, version 1), "~" after the charge.
    assert sorted(opened, key=repr) == sorted(
        [
            (D("20.00"), AccountStatus.OPEN, 2, ["+", "~"]),
            (D("45.00"), AccountStatus.OPEN, 2, ["+", "~"]),
            (D("5.00"), AccountStatus.OPEN, 2, ["+", "~"]),
            (D("65.00"), AccountStatus.OPEN, 3, ["+", "~", "~"]),
        ],
        key=repr,
    )
    for _fields, _entries, _timeline, history in by_bulk.values():
        assert history[0][2] == AccountStatus.SETTLED and history[0][3] == D("0.00")
    # Written once: the UPDATE names only the account that existed before.
    updates = [s for s in sql if s.startswith('UPDATE "ar_patientaccount"')]
    assert len(updates) == 1


def test_every_row_matches_too(world, payer):
    text = scene(world, payer)
    _, by_row = post_and_snapshot(world, text, bulk=False)
    _, by_bulk = post_and_snapshot(world, text, bulk=True)
    by_row.pop("_queries"), by_bulk.pop("_queries")
    for label in by_row:
        assert by_bulk[label] == by_row[label], label


def test_an_account_opened_meanwhile_takes_the_charge(world, payer, monkeypatch):
    text = scene(world, payer, trace="OPENED-2")
    newman = PatientAccount.objects.none()
    real = ledger_bulk._accounts

    def opened_meanwhile(actor: Any, claims: list[Any], late: Any = ()) -> Any:
        found, new, opened = real(actor, claims, late)
        if opened:  # what a concurrent request does between our read and our write
            patient = next(c.patient for c in claims if c.patient_id == opened[0].patient_id)
            nonlocal newman
            newman = PatientAccount.objects.filter(
                pk=ledger.account_for(actor=None, patient=patient).pk
            )
        return found, new, opened

    monkeypatch.setattr(ledger_bulk, "_accounts", opened_meanwhile)
    batch = services.remittance_upload(
        actor=world.bill,
        practice=world.sunrise,
        content=text.encode(),
        filename="era.835",
        enqueue=False,
    )
    ran = services.remittance_run(batch.pk)

    assert ran is not None and ran.posted_count == 4, ran and ran.entries
    account = newman.get()
    assert account.balance == D("20.00") and account.status == AccountStatus.OPEN
    assert list(account.entries.values_list("amount", flat=True)) == [D("20.00")]
    assert [h.history_type for h in account.history.order_by("history_id")] == ["+", "~"]
    charged = PatientAccount.objects.filter(patient__last_name__in=["Newman", "Nolan", "Nash"])
    assert charged.count() == 3
    for each in charged:
        assert each.history.filter(history_type="+").count() == 1
    assert LedgerEntry.objects.filter(memo__startswith="Patient responsibility").count() == 4
