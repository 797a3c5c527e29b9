"""Payment plans (issue 13, section 3): set-up and its validation, patient payments applied
to installments oldest first, reminders, missed installments as work items (once each),
plans broken after the grace period, and statements skipping a current plan only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from ar import ledger, plans, statements
from ar.account_choices import AccountAction
from ar.ledger_models import AccountActivity, PatientAccount
from ar.plan_models import Installment, InstallmentStatus, PaymentPlan, PlanStatus
from ar.plan_tasks import run_payment_plans
from ar.statement_models import Statement
from work.choices import WAIT, NotificationKind
from work.models import Notification
from work.registry import registry
from work.selectors import my_day_of_type

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture
def account(world: Any) -> PatientAccount:
    account = ledger.account_for(actor=world.fran, patient=world.sunrise_patient)
    ledger.ledger_post(actor=world.fran, account=account, kind="charge", amount="300")
    account.refresh_from_db()
    return account


def three_monthly(world: Any, account: PatientAccount, today: dt.date, **kw: Any) -> PaymentPlan:
    return plans.plan_create(
        actor=world.fran,
        account=account,
        total="300",
        count=3,
        first_due=today + dt.timedelta(days=7),
        interval="monthly",
        terms="$100 a month by check",
        **kw,
    )


def pay(world: Any, account: PatientAccount, amount: str) -> Any:
    return ledger.ledger_post(
        actor=world.fran, account=account, kind="payment", amount=amount, method="cash"
    )


def installments(plan: PaymentPlan) -> list[Installment]:
    return list(Installment.objects.filter(plan=plan).order_by("number"))


def test_a_schedule_splits_the_total_to_the_cent_and_keeps_month_ends():
    rows = plans.schedule(D("100.00"), 3, dt.date(2027, 1, 31), "monthly")
    assert rows == [
        (dt.date(2027, 1, 31), D("33.33")),
        (dt.date(2027, 2, 28), D("33.33")),
        (dt.date(2027, 3, 31), D("33.34")),
    ]
    weekly = plans.schedule(D("50.00"), 2, dt.date(2027, 1, 1), "biweekly")
    assert [due for due, _ in weekly] == [dt.date(2027, 1, 1), dt.date(2027, 1, 15)]


def test_a_plan_is_set_up_and_the_account_waits_on_it(world, account, today):
    plan = three_monthly(world, account, today)
    assert plan.status == PlanStatus.ACTIVE and plan.created_by == world.fran
    assert plan.total == D("300.00") and plan.grace_days == 10
    rows = installments(plan)
    assert [i.amount for i in rows] == [D("100.00")] * 3
    assert [i.status for i in rows] == [InstallmentStatus.PENDING] * 3
    account.refresh_from_db()
    assert account.next_action == WAIT and f"PP-{plan.pk}" in account.wait_reason
    assert account.next_action_due == rows[-1].due_date + dt.timedelta(days=11)
    assert AccountActivity.objects.filter(account=account, kind="plan").count() == 1
    assert plan.history.first().history_user == world.fran


def test_given_installments_must_add_up_to_the_total(world, account, today):
    later = today + dt.timedelta(days=30)
    plan = plans.plan_create(
        actor=world.bill,
        account=account,
        total="250.00",
        installments=[
            {"due_date": later.isoformat(), "amount": "200"},
            (later + dt.timedelta(days=31), "50"),
        ],
    )
    assert [i.amount for i in installments(plan)] == [D("200.00"), D("50.00")]


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"total": "300", "installments": "sum"}, "installments", "add up to $250.00, not"),
        ({"total": "300.01", "count": 3}, "total", "more than the $300.00 balance"),
        ({"total": "0", "count": 3}, "total", "above $0.00"),
        ({"total": "abc", "count": 3}, "total", "dollars and cents"),
        ({"total": "300", "count": 3, "past": True}, "installments", "in the past"),
        ({"total": "300", "count": 0}, "count", "1 to 60"),
        ({"total": "300", "count": 3, "grace_days": 99}, "grace_days", "0 to 60"),
        ({"total": "300", "count": 3, "interval": "yearly"}, "interval", "weekly, biweekly"),
    ],
)
def test_refused_plans_say_why_and_change_nothing(world, account, today, kwargs, field, message):
    kwargs = dict(kwargs)
    first = today - dt.timedelta(days=1) if kwargs.pop("past", False) else today
    if kwargs.get("installments") == "sum":
        kwargs["installments"] = [(first, "200"), (first + dt.timedelta(days=30), "50")]
    else:
        kwargs["first_due"] = first
    version = PatientAccount.objects.get(pk=account.pk).version
    with pytest.raises(ValidationError) as refused:
        plans.plan_create(actor=world.fran, account=account, **kwargs)
    assert message in " ".join(refused.value.message_dict[field])
    assert not PaymentPlan.objects.exists() and not Installment.objects.exists()
    assert PatientAccount.objects.get(pk=account.pk).version == version


def test_one_active_plan_per_account_and_only_for_patient_billing(world, account, today):
    plan = three_monthly(world, account, today)
    with pytest.raises(ValidationError, match=f"already has an active plan \\(PP-{plan.pk}\\)"):
        three_monthly(world, account, today)
    with pytest.raises(PermissionDenied):  # vera: insurance billing only
        plans.plan_create(actor=world.vera, account=account, total="10", count=1, first_due=today)
    with pytest.raises(PermissionDenied):  # mia: another practice
        plans.plan_cancel(actor=world.mia, plan=plan, reason="x")
    assert PaymentPlan.objects.count() == 1


def test_payments_apply_oldest_first_and_complete_the_plan(world, account, today):
    plan = three_monthly(world, account, today)
    pay(world, account, "150")
    first, second, third = installments(plan)
    assert (first.status, first.paid_amount) == (InstallmentStatus.PAID, D("100.00"))
    assert (second.status, second.paid_amount) == (InstallmentStatus.PENDING, D("50.00"))
    assert third.paid_amount == D("0.00")
    payment = pay(world, account, "150")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.COMPLETED and plan.ended_by == world.fran
    assert all(i.status == InstallmentStatus.PAID for i in installments(plan))
    account.refresh_from_db()
    assert account.balance == D("0.00") and not account.is_open
    # A payment after completion changes nothing on the plan (it is no longer active).
    ledger.ledger_reverse(actor=world.fran, entry=payment, reason="check bounced")
    assert PaymentPlan.objects.get(pk=plan.pk).status == PlanStatus.COMPLETED


def test_a_reversed_payment_is_taken_back_from_the_installments(world, account, today):
    plan = three_monthly(world, account, today)
    payment = pay(world, account, "120")
    ledger.ledger_reverse(actor=world.fran, entry=payment, reason="check bounced")
    first, second, _ = installments(plan)
    assert (first.status, first.paid_amount) == (InstallmentStatus.PENDING, D("0.00"))
    assert second.paid_amount == D("0.00")
    assert PaymentPlan.objects.get(pk=plan.pk).status == PlanStatus.ACTIVE


def test_completing_with_other_charges_left_sends_the_account_back_to_statements(
    world, account, today
):
    plans.plan_create(actor=world.fran, account=account, total="100", count=1, first_due=today)
    pay(world, account, "100")
    account.refresh_from_db()
    assert account.balance == D("200.00")
    assert account.next_action == AccountAction.SEND_STATEMENT and account.wait_reason == ""


def test_a_reminder_goes_out_once_before_the_due_date(world, account, today):
    plan = three_monthly(world, account, today)
    first = installments(plan)[0]
    assert plans.send_reminders(first.due_date - dt.timedelta(days=6)) == 0
    on = first.due_date - dt.timedelta(days=5)
    assert plans.send_reminders(on) == 1
    assert plans.send_reminders(on) == 0
    assert plans.send_reminders(on + dt.timedelta(days=1)) == 0
    note = Notification.objects.get(kind=NotificationKind.PLAN_DUE)
    assert note.user == world.fran and note.item_id == first.pk
    assert note.item_type == "missed_installment"
    number = world.sunrise_patient.account_number
    assert note.message.startswith(f"Installment 1 of plan PP-{plan.pk} (account {number})")
    assert "$100.00 due" in note.message and "(in 5 days)" in note.message
    assert world.sunrise_patient.last_name not in note.message


def test_a_missed_installment_becomes_one_work_item_ranked_by_amount_and_days(
    world, account, today
):
    plan = three_monthly(world, account, today)
    pay(world, account, "40")
    first = installments(plan)[0]
    day_after = first.due_date + dt.timedelta(days=1)
    assert run_payment_plans.apply(kwargs={"on": day_after.isoformat()}).get()["missed"] == 1
    assert run_payment_plans.apply(kwargs={"on": day_after.isoformat()}).get()["missed"] == 0
    item = Installment.objects.get(pk=first.pk)
    assert item.status == InstallmentStatus.LATE and item.is_open
    assert item.owner == world.fran and item.next_action_due == day_after
    assert Installment.objects.filter(status=InstallmentStatus.LATE).count() == 1
    assert AccountActivity.objects.filter(account=account, text__contains="missed").count() == 1
    item_type = registry.type("missed_installment")
    assert list(my_day_of_type(item_type, world.fran, day_after)) == [item]
    three_days = first.due_date + dt.timedelta(days=3)
    rank = item.compute_priority(three_days)
    assert rank.score == 60 * 3 and rank.reasons == ("$60.00 installment", "3 day(s) late")
    # Paying the rest closes the item.
    pay(world, account, "60")
    item.refresh_from_db()
    assert item.status == InstallmentStatus.PAID and not item.is_open and item.next_action == ""


def test_the_plan_breaks_after_the_grace_period(world, account, today):
    plan = three_monthly(world, account, today, grace_days=5)
    first = installments(plan)[0]
    last_grace_day = first.due_date + dt.timedelta(days=5)
    assert plans.run_daily(last_grace_day) == {"reminders": 0, "missed": 1, "broken": 0}
    assert PaymentPlan.objects.get(pk=plan.pk).status == PlanStatus.ACTIVE
    after = last_grace_day + dt.timedelta(days=1)
    assert plans.run_daily(after)["broken"] == 1
    assert plans.run_daily(after)["broken"] == 0
    plan.refresh_from_db()
    assert plan.status == PlanStatus.BROKEN and plan.ended_by is None
    assert "installment 1" in plan.end_reason and "5 days grace" in plan.end_reason
    assert plan.history.first().history_user is None
    first, second, third = installments(plan)
    assert first.status == InstallmentStatus.MISSED and not first.is_open
    assert {second.status, third.status} == {InstallmentStatus.VOID}
    account.refresh_from_db()
    assert account.next_action == AccountAction.SEND_STATEMENT and account.wait_reason == ""
    assert account.next_action_due == after


def test_the_job_does_not_break_a_plan_paid_after_it_read_it(world, account, today):
    """The job reads lapsed plans before it locks them: a payment posted in between (the
    front desk, an 835) pays the installment, and the break is checked again under the
    locks and refused; the plan stays active."""
    plan = three_monthly(world, account, today, grace_days=5)
    first = installments(plan)[0]
    after = first.due_date + dt.timedelta(days=6)
    read_by_job = PaymentPlan.objects.prefetch_related("installments").get(pk=plan.pk)
    assert plans.lapsed(read_by_job, after) is not None

    pay(world, account, str(first.amount))

    with pytest.raises(ValidationError, match="no installment unpaid past its grace period"):
        plans.plan_break(actor=None, plan=read_by_job, reason="lapsed", today=after)
    assert PaymentPlan.objects.get(pk=plan.pk).status == PlanStatus.ACTIVE
    assert plans.run_daily(after)["broken"] == 0


def test_cancel_needs_a_reason_and_puts_the_account_back_on_statements(world, account, today):
    plan = three_monthly(world, account, today)
    with pytest.raises(ValidationError, match="Say why"):
        plans.plan_cancel(actor=world.fran, plan=plan, reason=" ")
    assert PaymentPlan.objects.get(pk=plan.pk).status == PlanStatus.ACTIVE
    plans.plan_cancel(actor=world.bill, plan=plan, reason="new agreement")
    assert plan.status == PlanStatus.CANCELLED and plan.ended_by == world.bill
    account.refresh_from_db()
    assert account.next_action == AccountAction.SEND_STATEMENT
    with pytest.raises(ValidationError, match="already cancelled"):
        plans.plan_cancel(actor=world.bill, plan=plan, reason="again")


def test_statements_skip_a_current_plan_but_not_a_lapsed_or_broken_one(world, account, today):
    plan = three_monthly(world, account, today, grace_days=5)
    first = installments(plan)[0]
    within = first.due_date + dt.timedelta(days=5)
    run = statements.statement_cycle_run
    assert run(actor=None, practice=world.sunrise, on=within, force=True) == []
    lapsed = within + dt.timedelta(days=1)  # past grace, the job has not run yet
    assert [
        s.account_id for s in run(actor=None, practice=world.sunrise, on=lapsed, force=True)
    ] == [account.pk]
    plans.run_daily(lapsed)
    assert PaymentPlan.objects.get(pk=plan.pk).status == PlanStatus.BROKEN
    later = lapsed + dt.timedelta(days=1)
    made = run(actor=None, practice=world.sunrise, on=later, force=True)
    assert [s.account_id for s in made] == [account.pk]
    assert Statement.objects.filter(account=account).count() == 2


def test_the_beat_runs_the_plan_job_every_day():
    from billing_ops.celery import app

    tasks = [entry["task"] for entry in app.conf.beat_schedule.values()]
    assert tasks.count("ar.plan_tasks.run_payment_plans") == 1
    assert "ar.plan_tasks.run_payment_plans" in app.tasks
