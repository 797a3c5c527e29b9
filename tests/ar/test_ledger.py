"""The patient ledger (issue 13, 1): entries are appended, never changed; balance = sum of
entries; the account opens and settles as a work item; a batch is all or nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ar import ledger
from ar.account_choices import AccountAction, AccountStatus, EntryKind
from ar.ledger_models import AccountActivity, LedgerEntry, PatientAccount

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(world: Any) -> PatientAccount:
    return ledger.account_for(actor=world.fran, patient=world.sunrise_patient)


def post(world: Any, account: PatientAccount, kind: str, amount: str, **kw: Any) -> LedgerEntry:
    return ledger.ledger_post(actor=world.fran, account=account, kind=kind, amount=amount, **kw)


def test_a_charge_opens_the_account_and_a_payment_settles_it(world, account):
    assert account.status == AccountStatus.SETTLED and account.next_action == ""
    charge = post(world, account, EntryKind.CHARGE, "80.00", memo="Self-pay visit")
    account.refresh_from_db()
    assert charge.amount == Decimal("80.00") and charge.posted_by == world.fran
    assert account.balance == Decimal("80.00") and account.status == AccountStatus.OPEN
    assert account.owner == world.fran and account.next_action == AccountAction.SEND_STATEMENT
    assert account.oldest_unpaid_on == charge.entry_date
    payment = post(world, account, EntryKind.PAYMENT, "80", method="card", reference="4242")
    account.refresh_from_db()
    assert payment.amount == Decimal("-80.00") and payment.reference == "4242"
    assert account.balance == 0 and account.status == AccountStatus.SETTLED
    assert account.next_action == "" and account.oldest_unpaid_on is None
    texts = list(AccountActivity.objects.filter(account=account).values_list("text", flat=True))
    assert "Patient payment $-80.00" in texts and "Charge $80.00: Self-pay visit" in texts


def test_rules_of_each_kind(world, account):
    with pytest.raises(ValidationError, match="above"):
        post(world, account, EntryKind.CHARGE, "-5")
    with pytest.raises(ValidationError, match="cash, check or card"):
        post(world, account, EntryKind.PAYMENT, "5")
    with pytest.raises(ValidationError, match="reversing"):
        post(world, account, EntryKind.REVERSAL, "5")
    with pytest.raises(ValidationError, match="dollars"):
        post(world, account, EntryKind.CHARGE, "abc")
    # A refund returns a credit only.
    post(world, account, EntryKind.CHARGE, "20")
    post(world, account, EntryKind.PAYMENT, "50", method="cash")
    with pytest.raises(ValidationError, match=r"at most the \$30.00 credit"):
        post(world, account, EntryKind.REFUND, "30.01")
    account.refresh_from_db()
    assert account.balance == Decimal("-30.00")
    assert account.next_action == AccountAction.REFUND_CREDIT
    post(world, account, EntryKind.REFUND, "30")
    account.refresh_from_db()
    assert account.balance == 0 and not account.is_open
    assert LedgerEntry.objects.filter(account=account).count() == 3


def test_a_reversal_cancels_an_entry_once(world, account):
    charge = post(world, account, EntryKind.CHARGE, "45.50")
    reversal = ledger.ledger_reverse(actor=world.bill, entry=charge, reason="Posted twice")
    account.refresh_from_db()
    assert reversal.amount == Decimal("-45.50") and reversal.reverses == charge
    assert reversal.posted_by == world.bill and "Posted twice" in reversal.memo
    assert account.balance == 0 and account.status == AccountStatus.SETTLED
    with pytest.raises(ValidationError, match="already reversed"):
        ledger.ledger_reverse(actor=world.bill, entry=charge, reason="again")
    with pytest.raises(ValidationError, match="not reversed"):
        ledger.ledger_reverse(actor=world.bill, entry=reversal, reason="undo")
    with pytest.raises(ValidationError, match="why"):
        ledger.ledger_reverse(
            actor=world.bill, entry=post(world, account, "charge", "1"), reason=""
        )


def test_only_the_patient_billing_area_posts(world, account):
    # vera works insurance billing only; mia is another practice's manager.
    for user in (world.vera, world.vic, world.mia):
        with pytest.raises(PermissionDenied):
            ledger.ledger_post(actor=user, account=account, kind="charge", amount="5")
    assert not LedgerEntry.objects.exists()


def test_aging_starts_at_the_oldest_charge_not_yet_paid(world, account):
    today = dt.date(2026, 12, 1)
    post(world, account, EntryKind.CHARGE, "100", entry_date=today - dt.timedelta(days=95))
    second = post(world, account, EntryKind.CHARGE, "50", entry_date=today - dt.timedelta(days=40))
    account.refresh_from_db()
    assert account.aging_bucket(today) == "91-120"
    post(world, account, EntryKind.PAYMENT, "100", method="check", reference="1001")
    account.refresh_from_db()
    assert account.oldest_unpaid_on == second.entry_date
    assert account.aging_bucket(today) == "31-60"
    rank = account.compute_priority(today)
    assert rank.score == 50 * 40 and "$50.00 owed" in rank.reasons


def test_the_applications_database_user_cannot_change_a_posted_entry(world, account):
    assert connection.vendor == "postgresql"
    entry = post(world, account, EntryKind.CHARGE, "70")
    attempts = [
        lambda: LedgerEntry.objects.filter(pk=entry.pk).update(amount=Decimal("1.00")),
        lambda: LedgerEntry.objects.filter(pk=entry.pk).delete(),
        lambda: connection.cursor().execute(
            "UPDATE ar_ledgerentry SET amount = 0.01 WHERE id = %s", [entry.pk]
        ),
        lambda: connection.cursor().execute("DELETE FROM ar_ledgerentry WHERE id = %s", [entry.pk]),
    ]
    for attempt in attempts:
        with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
            attempt()
    row = LedgerEntry.objects.get(pk=entry.pk)
    assert row.amount == Decimal("70.00")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == connection.settings_dict["USER"]


def test_a_batch_that_fails_half_way_leaves_nothing(world, account):
    postings = [
        ledger.Posting(EntryKind.CHARGE, "100"),
        ledger.Posting(EntryKind.PAYMENT, "40", method="cash"),
        ledger.Posting(EntryKind.REFUND, "10"),  # no credit: refused
        ledger.Posting(EntryKind.ADJUSTMENT, "5"),
    ]
    with pytest.raises(ValidationError):
        ledger.ledger_post_batch(actor=world.fran, account=account, postings=postings)
    account.refresh_from_db()
    assert not LedgerEntry.objects.exists() and not AccountActivity.objects.exists()
    assert account.balance == 0 and account.status == AccountStatus.SETTLED


# --- properties ------------------------------------------------------------------------

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("charge"), amounts),
        st.tuples(st.just("payment"), amounts),
        st.tuples(st.just("adjustment"), amounts),
        st.tuples(st.just("transfer"), amounts, st.booleans()),
        st.tuples(st.just("refund"), amounts),
        st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=50)),
    ),
    max_size=12,
)
PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def apply(world: Any, account: PatientAccount, op: tuple[Any, ...]) -> None:
    """One operation; a refused one (a refund over the credit, a second reversal) raises."""
    kind = op[0]
    if kind == "reverse":
        entries = list(LedgerEntry.objects.filter(account=account).order_by("pk"))
        if not entries:
            raise ValidationError("nothing to reverse")
        entry = entries[op[1] % len(entries)]
        ledger.ledger_reverse(actor=world.fran, entry=entry, reason="property")
        return
    amount = op[1] if kind != "transfer" or op[2] else -op[1]
    method = "cash" if kind == "payment" else ""
    ledger.ledger_post(actor=world.fran, account=account, kind=kind, amount=amount, method=method)


@PROPERTY
@given(ops=operations)
def test_any_sequence_keeps_balance_equal_to_the_sum_of_entries(world, ops):
    with transaction.atomic():
        account = ledger.account_for(actor=world.fran, patient=world.sunrise_patient)
        for op in ops:
            posted = True
            try:
                with transaction.atomic():
                    apply(world, account, op)
            except ValidationError:
                posted = False
            account.refresh_from_db()
            assert account.balance == ledger.entries_sum(account)
            assert account.is_open == (account.balance != 0)
            if op[0] == "refund" and posted:
                assert account.balance <= 0  # a refund never returns more than the credit
        # Every reversal cancels exactly the entry it names.
        for reversal in LedgerEntry.objects.filter(account=account, kind=EntryKind.REVERSAL):
            assert reversal.amount == -reversal.reverses.amount
        transaction.set_rollback(True)


@PROPERTY
@given(ops=operations, fail_at=st.integers(min_value=0, max_value=12))
def test_a_batch_is_all_or_nothing(world, ops, fail_at):
    with transaction.atomic():
        account = ledger.account_for(actor=world.fran, patient=world.sunrise_patient)
        ledger.ledger_post(actor=world.fran, account=account, kind="charge", amount="10")
        before = (LedgerEntry.objects.count(), ledger.entries_sum(account))
        postings = [
            ledger.Posting(
                op[0],
                op[1] if op[0] != "transfer" or op[2] else -op[1],
                method="check" if op[0] == "payment" else "",
            )
            for op in ops
            if op[0] != "reverse"
        ]
        # A line no ledger accepts, somewhere in the batch.
        postings.insert(min(fail_at, len(postings)), ledger.Posting("charge", "0"))
        with pytest.raises(ValidationError):
            ledger.ledger_post_batch(actor=world.fran, account=account, postings=postings)
        account.refresh_from_db()
        assert (LedgerEntry.objects.count(), ledger.entries_sum(account)) == before
        assert account.balance == before[1]
        transaction.set_rollback(True)


def test_an_amount_over_the_hand_entry_limit_is_refused_and_changes_nothing(
    world, account, client_for
):
    """A payment, adjustment or plan of a million or more (a slip of the keyboard) is refused
    with the limit named, through the service and through the patient page; nothing is posted
    and the balance (12 digits) cannot overflow."""
    post(world, account, EntryKind.CHARGE, "999999.99")
    for amount in ("1000000.00", "-1000000", "9999999999.99"):
        with pytest.raises(ValidationError, match=r"at most \$999,999.99"):
            post(world, account, EntryKind.PAYMENT, amount, method="cash")
    with pytest.raises(ValidationError, match=r"at most \$999,999.99"):
        ledger.money("1e30")
    session_client = client_for(world.fran)
    session = session_client.session
    session["practice_id"] = world.sunrise.pk
    session.save()
    page = session_client.post(
        f"/patients/{world.sunrise_patient.pk}/payments/",
        {"amount": "1000000.00", "method": "cash"},
        follow=True,
    )
    assert page.status_code == 200 and "at most $999,999.99" in page.text
    account.refresh_from_db()
    assert account.balance == Decimal("999999.99")
    assert list(LedgerEntry.objects.filter(account=account).values_list("kind", flat=True)) == [
        EntryKind.CHARGE
    ]
