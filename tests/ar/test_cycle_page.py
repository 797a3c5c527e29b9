"""Issue 13, 2: a practice manager sets the statement cycle (day of the month, minimum
balance) on /statements/cycle/, through ``ar.cycles.statement_cycle_update``; each change
is kept with who made it; invalid input is refused with the field's message and changes
nothing; the next run follows the new cycle."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from ar import cycles, ledger
from ar.statement_models import Statement, StatementCycle
from ar.statements import cycle_of, statement_cycle_run

pytestmark = pytest.mark.django_db


def test_a_manager_changes_the_cycle_and_the_change_is_kept(world):
    cycle = cycles.statement_cycle_update(
        actor=world.sam, practice=world.sunrise, day_of_month=15, minimum_balance="12.50"
    )
    assert (cycle.day_of_month, cycle.minimum_balance) == (15, Decimal("12.50"))
    cycles.statement_cycle_update(
        actor=world.sam, practice=world.sunrise, day_of_month=15, minimum_balance="12.50"
    )  # unchanged: no second history row
    cycles.statement_cycle_update(
        actor=world.sam, practice=world.sunrise, day_of_month=3, minimum_balance="12.50"
    )
    rows = list(StatementCycle.history.filter(practice_id=world.sunrise.pk).order_by("history_id"))
    assert [(r.day_of_month, r.minimum_balance, r.history_user) for r in rows] == [
        (15, Decimal("12.50"), world.sam),
        (3, Decimal("12.50"), world.sam),
    ]
    assert cycle_of(world.sunrise.pk).day_of_month == 3


@pytest.mark.parametrize(
    ("day", "minimum", "field"),
    [
        (0, "5.00", "day_of_month"),
        (29, "5.00", "day_of_month"),
        ("x", "5.00", "day_of_month"),
        (10, "0.00", "minimum_balance"),
        (10, "-1", "minimum_balance"),
        (10, "abc", "minimum_balance"),
        (10, "NaN", "minimum_balance"),
        (10, "20000", "minimum_balance"),
    ],
)
def test_invalid_values_are_refused_by_the_service(world, day, minimum, field):
    with pytest.raises(ValidationError) as caught:
        cycles.statement_cycle_update(
            actor=world.sam, practice=world.sunrise, day_of_month=day, minimum_balance=minimum
        )
    assert field in caught.value.message_dict
    assert not StatementCycle.objects.exists()


def test_only_a_manager_of_the_practice_changes_it(world):
    for user in (world.bill, world.fran, world.val, world.vera, world.mia):
        with pytest.raises(PermissionDenied):
            cycles.statement_cycle_update(
                actor=user, practice=world.sunrise, day_of_month=9, minimum_balance="5"
            )
    assert not StatementCycle.objects.exists()


def test_the_page_saves_and_shows_errors_by_field(world, client_for):
    sam = client_for(world.sam)
    page = sam.get("/statements/cycle/")
    assert page.status_code == 200 and 'id="cycle-form"' in page.text
    assert "Never changed" in page.text and "FINAL NOTICE" in page.text
    bad = sam.post("/statements/cycle/", {"day_of_month": "31", "minimum_balance": "0"})
    assert bad.status_code == 400
    assert 'id="day_of_month-errors"' in bad.text and 'id="minimum_balance-errors"' in bad.text
    assert "less than or equal to 28" in bad.text
    assert not StatementCycle.objects.exists()
    done = sam.post("/statements/cycle/", {"day_of_month": "20", "minimum_balance": "7.25"})
    assert done.status_code == 302 and done["Location"] == "/statements/cycle/"
    cycle = StatementCycle.objects.get(practice=world.sunrise)
    assert (cycle.day_of_month, cycle.minimum_balance) == (20, Decimal("7.25"))
    after = sam.get("/statements/cycle/")
    assert "Statement cycle saved" in after.text
    history = after.text[after.text.index('id="cycle-history"') :]
    assert "sam" in history and "$7.25" in history


def test_the_next_run_follows_the_new_cycle(world):
    owes = ledger.account_for(actor=world.bill, patient=world.sunrise_patient)
    ledger.ledger_post(actor=world.bill, account=owes, kind="charge", amount="8.00")
    cycles.statement_cycle_update(
        actor=world.sam, practice=world.sunrise, day_of_month=20, minimum_balance="10.00"
    )
    assert statement_cycle_run(actor=None, practice=world.sunrise, on=dt.date(2026, 12, 1)) == []
    assert statement_cycle_run(actor=None, practice=world.sunrise, on=dt.date(2026, 12, 20)) == []
    cycles.statement_cycle_update(
        actor=world.sam, practice=world.sunrise, day_of_month=20, minimum_balance="8.00"
    )
    made = statement_cycle_run(actor=None, practice=world.sunrise, on=dt.date(2026, 12, 20))
    assert [s.account_id for s in made] == [owes.pk]
    assert Statement.objects.count() == 1
