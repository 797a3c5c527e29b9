"""The patient share in the bulk path (``ar.ledger_bulk``): one file posted both ways (row
by row: ``ledger.patient_share_posted`` per payment; bulk) from the same database state
stores the same ledger: every entry, timeline line, account field and account history row
(in order), and every other row of the ar, claims, denials and work tables; in a number of
queries that does not grow with the payments that carry a patient share."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ar import ledger, ledger_bulk, services
from ar.account_choices import AccountStatus, EntryKind, PaymentMethod
from ar.ledger_models import AccountActivity, LedgerEntry, PatientAccount
from ar.models import ClaimPayment
from claims.choices import NextAction
from tests import claim_factory, factories
from tests.ar.test_posting_bulk import post_and_snapshot
from tests.ar.test_x12_835 import era

D = Decimal
pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the bulk path runs on PostgreSQL"
)


def paid_with_share(
    number: str, charge: int, share: int, *, clp05: bool = True, code: str = "D0120"
) -> list[str]:
    """A claim paid in full but for the patient's share (PR-2): a plain payment."""
    paid = charge - share
    given = str(share) if clp05 else ""
    return [
        f"CLP*{number}*1*{charge}*{paid}*{given}*12*P{number}",
        f"SVC*HC:{code}*{charge}*{paid}**1",
        f"CAS*PR*2*{share}",
    ]


def claim_for(
    world: Any, payer: Any, patient: Any, number: str, charge: int, code: str = "D0120"
) -> Any:
    coverage = patient.coverages.first() or factories.CoverageFactory(patient=patient, payer=payer)
    return claim_factory.make(
        actor=world.bill,
        patient=patient,
        coverage=coverage,
        provider=factories.ProviderFactory(practice=world.sunrise),
        number=number,
        owner=world.bill,
        status="submitted",
        service_date_from=timezone.localdate() - dt.timedelta(days=20),
        lines=[{"procedure_code": code, "charge": D(charge)}],
        next_action=NextAction.WAIT,
        wait_reason="payer answer",
    )


def scene(world: Any, payer: Any) -> str:
    """Accounts in every state a charge meets, and the file that charges them."""
    patient = {
        name: factories.PatientFactory(practice=world.sunrise, last_name=name)
        for name in ("Newman", "Owens", "Credit", "Twice", "Settled", "Blank")
    }
    # Owens owes $35 since 40 days; Credit has a $500 credit; Settled has an empty account.
    today = timezone.localdate()
    owes = ledger.account_for(actor=None, patient=patient["Owens"])
    ledger.ledger_post(
        actor=None,
        account=owes,
        kind=EntryKind.CHARGE,
        amount="35.00",
        entry_date=today - dt.timedelta(days=40),
    )
    credit = ledger.account_for(actor=None, patient=patient["Credit"])
    ledger.ledger_post(
        actor=None,
        account=credit,
        kind=EntryKind.PAYMENT,
        amount="500.00",
        method=PaymentMethod.CASH,
    )
    ledger.account_for(actor=None, patient=patient["Settled"])
    claims = [
        ("LB1", "Newman", 100, 20),
        ("LB2", "Owens", 150, 30),
        ("LB3", "Credit", 120, 45),
        ("LB4", "Twice", 90, 10),
        ("LB5", "Twice", 60, 15),
        ("LB6", "Settled", 80, 25),
        ("LB7", "Blank", 70, 5),
    ]
    body = ["N1*PR*EXAMPLE HEALTH PLAN", "N1*PE*SUNRISE DENTAL*XX*1234567893", "LX*1"]
    paid = 0
    for number, name, charge, share in claims:
        code = "D0274" if number == "LB5" else "D0120"  # not a duplicate of LB4
        claim_for(world, payer, patient[name], number, charge, code)
        body += paid_with_share(number, charge, share, clp05=number != "LB7", code=code)
        paid += charge - share
    return era(body, f"{paid}.00", trace="LEDGER-BULK-1")


def ledger_state() -> dict[str, Any]:
    """Every account (by patient) with its fields, entries, timeline and history in order."""
    segment = dict(ClaimPayment.objects.values_list("pk", "segment"))
    result: dict[str, Any] = {}
    for account in PatientAccount.objects.order_by("patient_id"):
        fields = {
            f.attname: getattr(account, f.attname)
            for f in PatientAccount._meta.concrete_fields
            if f.attname not in ("id", "created_at")
        }
        entries = [
            (e.kind, e.amount, e.entry_date, e.memo, segment.get(e.claim_payment_id), e.claim_id)
            + (e.posted_by_id, e.practice_id, e.method, e.reference, e.reverses_id is None)
            for e in LedgerEntry.objects.filter(account=account).order_by("pk")
        ]
        timeline = list(
            AccountActivity.objects.filter(account=account)
            .order_by("pk")
            .values_list("actor_id", "kind", "text")
        )
        history = [
            (h.history_type, h.history_user_id, h.status, h.balance, h.owner_id, h.version)
            + (h.next_action, h.next_action_due, h.oldest_unpaid_on, tuple(h.priority_reasons))
            for h in account.history.order_by("history_id")
        ]
        result[f"patient {account.patient_id}"] = (fields, entries, timeline, history)
    return result


def post_and_read(world: Any, text: str, *, bulk: bool) -> tuple[dict[str, Any], int]:
    savepoint = transaction.savepoint_create()
    batch = services.remittance_upload(
        actor=world.bill,
        practice=world.sunrise,
        content=text.encode(),
        filename="era.835",
        enqueue=False,
    )
    with CaptureQueriesContext(connection) as queries:
        batch = services.remittance_run(batch.pk, bulk=bulk)
    assert batch is not None and batch.posted_count == 7, batch and batch.entries
    state = ledger_state()
    transaction.savepoint_rollback(savepoint)
    return state, len(queries)


def test_bulk_charges_are_the_ledgers_own(world, payer):
    text = scene(world, payer)

    by_row, row_queries = post_and_read(world, text, bulk=False)
    by_bulk, bulk_queries = post_and_read(world, text, bulk=True)

    assert by_bulk.keys() == by_row.keys()
    for key in by_row:
        assert by_bulk[key] == by_row[key], key
    assert bulk_queries < row_queries
    # The scene reached every case: an account opened, a balance raised (aging kept), a
    # credit reduced, two charges to one account, a settled account opened, CLP05 blank.
    charged = {
        fields["patient_id"]: (fields["balance"], fields["status"], len(entries))
        for fields, entries, _timeline, _history in by_bulk.values()
    }
    assert sorted(charged.values(), key=repr) == sorted(
        [
            (D("20.00"), AccountStatus.OPEN, 1),
            (D("65.00"), AccountStatus.OPEN, 2),
            (D("-455.00"), AccountStatus.OPEN, 2),
            (D("25.00"), AccountStatus.OPEN, 2),
            (D("25.00"), AccountStatus.OPEN, 1),
            (D("5.00"), AccountStatus.OPEN, 1),
        ],
        key=repr,
    )
    aged = [f for f, *_ in by_bulk.values() if f["balance"] == D("65.00")][0]
    assert aged["oldest_unpaid_on"] == timezone.localdate() - dt.timedelta(days=40)


def test_the_whole_store_matches_too(world, payer):
    text = scene(world, payer)
    _, by_row = post_and_snapshot(world, text, bulk=False)
    _, by_bulk = post_and_snapshot(world, text, bulk=True)
    by_row.pop("_queries"), by_bulk.pop("_queries")
    for label in by_row:
        assert by_bulk[label] == by_row[label], label


def test_queries_do_not_grow_with_the_charges(world, payer, make_claim):
    def run(count: int, start: int) -> int:
        body, paid = ["N1*PR*EXAMPLE HEALTH PLAN", "LX*1"], 0
        for n in range(start, start + count):
            make_claim(f"Q{n}", f"Q{n}", [("D0120", "100.00")])
            body += paid_with_share(f"Q{n}", 100, 20)
            paid += 80
        batch = services.remittance_upload(
            actor=world.bill,
            practice=world.sunrise,
            content=era(body, f"{paid}.00", trace=f"Q{start}").encode(),
            filename="era.835",
            enqueue=False,
        )
        with CaptureQueriesContext(connection) as queries:
            batch = services.remittance_run(batch.pk)
        assert batch is not None and batch.posted_count == count
        return len(queries)

    few, many = run(2, 100), run(9, 200)
    assert few == many
    assert LedgerEntry.objects.filter(memo__startswith="Patient responsibility").count() == 11


def test_a_payment_charged_already_or_with_a_secondary_is_left_alone(world, payer, post):
    claim = claim_for(world, payer, factories.PatientFactory(practice=world.sunrise), "S1", 100)
    body = ["N1*PR*EXAMPLE HEALTH PLAN", "LX*1", *paid_with_share("S1", 100, 20)]
    post(era(body, "80.00", trace="S-1"))
    payment = ClaimPayment.objects.get(claim=claim)
    assert LedgerEntry.objects.filter(claim_payment=payment).count() == 1
    # Again through the bulk service: nothing new.
    assert ledger_bulk.patient_shares_posted(actor=world.bill, charges=[(payment, claim)]) == []
    second = factories.PayerFactory(practice=world.sunrise, name="Second")
    factories.CoverageFactory(patient=claim.patient, payer=second, cob_order=2)
    twin = ClaimPayment.objects.create(
        remittance=payment.remittance,
        practice_id=payment.practice_id,
        segment=999,
        patient_control_number="S1",
        payer_claim_number="OTHER",
        status_code="1",
        charge=D("100"),
        paid=D("80"),
        patient_responsibility=D("20"),
        claim=claim,
        state="posted",
    )
    assert ledger_bulk.patient_shares_posted(actor=world.bill, charges=[(twin, claim)]) == []
    assert LedgerEntry.objects.filter(account__patient=claim.patient).count() == 1


def test_a_new_account_is_built_as_the_keyword_path_builds_it():
    """``ledger_bulk._new_account`` (positional, for speed) gives what
    ``PatientAccount(practice_id=..., patient_id=..., version=0)`` gives: every field's
    value, a fresh list of reasons for each, a new unsaved row."""

    def state(account: PatientAccount) -> dict[str, Any]:
        return {k: v for k, v in account.__dict__.items() if k != "_state"}

    by_keywords = PatientAccount(practice_id=3, patient_id=7, version=0)
    built, other = ledger_bulk._new_account(3, 7), ledger_bulk._new_account(3, 8)

    assert state(built) == state(by_keywords)
    assert built._state.adding and built._state.db is None
    assert built.priority_reasons is not other.priority_reasons
    assert (other.patient_id, other.practice_id, other.version) == (8, 3, 0)
