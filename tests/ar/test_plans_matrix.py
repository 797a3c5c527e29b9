"""Every payment plan page and endpoint in the permission matrix: the patient billing area
(WORK_PATIENT_BILLING: sam, fran, bill, val at Sunrise). Vera (insurance billing) and vic
(verification) see no plans; mia (Maple) nothing of Sunrise's."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from ar import ledger, plans
from ar.plan_models import Installment, InstallmentStatus, PaymentPlan, PlanStatus
from tests import factories
from tests.permission_matrix import Case, Endpoint, PermissionMatrixMixin

BILLING = frozenset({"sam", "fran", "bill", "val"})


def owing(world: Any, amount: str, patient: Any = None) -> Any:
    patient = patient or factories.PatientFactory(practice=world.sunrise)
    account = ledger.account_for(actor=world.bill, patient=patient)
    ledger.ledger_post(actor=world.bill, account=account, kind="charge", amount=amount)
    account.refresh_from_db()
    return account


def first_due() -> str:
    return (timezone.localdate() + dt.timedelta(days=14)).isoformat()


def _plan_status(c: Case) -> tuple[str, Any]:
    plan = PaymentPlan.objects.get(pk=c.world.plan.pk)
    return plan.status, plan.ended_by


def _created(c: Case) -> bool:
    return PaymentPlan.objects.filter(created_by=c.user, account=c.world.free).exists()


class TestPaymentPlanMatrix(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        today = timezone.localdate()
        world.account = owing(world, "300", world.sunrise_patient)
        world.plan = plans.plan_create(
            actor=world.bill, account=world.account, total="300", count=3, first_due=today
        )
        world.free = owing(world, "120")  # no plan yet: one is set up here
        late = owing(world, "90")
        late_plan = plans.plan_create(
            actor=world.bill, account=late, total="90", count=3, first_due=today
        )
        plans.mark_missed(today + dt.timedelta(days=1))
        world.item = Installment.objects.get(plan=late_plan, number=1)
        assert world.item.status == InstallmentStatus.LATE

    endpoints = [
        Endpoint(
            "plan list",
            "get",
            lambda w: "/payment-plans/",
            BILLING,
            marker=lambda w: w.sunrise_patient.account_number,
            route="payment-plan-list",
        ),
        Endpoint(
            "plan page",
            "get",
            lambda w: f"/payment-plans/{w.plan.pk}/",
            BILLING,
            route="payment-plan-detail",
        ),
        Endpoint(
            "plan cancel",
            "post",
            lambda w: f"/payment-plans/{w.plan.pk}/cancel/",
            BILLING,
            ok_status=302,
            data=lambda w: {"reason": "new agreement"},
            route="payment-plan-cancel",
            done=lambda c: _plan_status(c) == (PlanStatus.CANCELLED, c.user),
        ),
        Endpoint(
            "plan set up",
            "post",
            lambda w: f"/patient-accounts/{w.free.pk}/plans/",
            BILLING,
            ok_status=302,
            data=lambda w: {
                "total": "120.00",
                "count": "2",
                "first_due": first_due(),
                "interval": "monthly",
                "grace_days": "10",
                "terms": "two checks",
            },
            route="payment-plan-create",
            done=_created,
        ),
        Endpoint(
            "missed installment page",
            "get",
            lambda w: f"/installments/{w.item.pk}/",
            BILLING,
            route="installment-detail",
        ),
        Endpoint(
            "missed installment next action",
            "post",
            lambda w: f"/installments/{w.item.pk}/next-action/",
            BILLING,
            ok_status=302,
            data=lambda w: {
                "next_action": "wait",
                "next_action_due": first_due(),
                "wait_reason": "patient pays Friday",
            },
            route="installment-next-action",
            done=lambda c: (
                Installment.objects.filter(
                    pk=c.world.item.pk, wait_reason="patient pays Friday"
                ).exists()
                and Installment.history.filter(id=c.world.item.pk).first().history_user == c.user
            ),
        ),
        Endpoint(
            "api plans",
            "get",
            lambda w: "/api/v1/payment-plans/",
            BILLING,
            api=True,
            marker=lambda w: w.plan.pk,
            route="api:api-payment-plan-list",
        ),
        Endpoint(
            "api plan",
            "get",
            lambda w: f"/api/v1/payment-plans/{w.plan.pk}/",
            BILLING,
            api=True,
            route="api:api-payment-plan-detail",
        ),
        Endpoint(
            "api plan set up",
            "post",
            lambda w: "/api/v1/payment-plans/",
            BILLING,
            api=True,
            ok_status=201,
            data=lambda w: {
                "account": w.free.pk,
                "total": "120.00",
                "count": 2,
                "first_due": first_due(),
            },
            route="api:api-payment-plan-list",
            denied_status=400,  # an account they cannot see "does not exist"
            done=_created,
        ),
        Endpoint(
            "api plan cancel",
            "post",
            lambda w: f"/api/v1/payment-plans/{w.plan.pk}/cancel/",
            BILLING,
            api=True,
            data=lambda w: {"reason": "new agreement"},
            route="api:api-payment-plan-cancel",
            done=lambda c: _plan_status(c) == (PlanStatus.CANCELLED, c.user),
        ),
    ]
