"""Every patient account page in the permission matrix: the patient billing area
(WORK_PATIENT_BILLING: sam, fran, bill, val at Sunrise) and, for approvals, managers
(APPROVE_ADJUSTMENTS: sam only; vendor staff never). Vera (insurance billing) and vic
(verification) see no balances; mia (Maple) nothing of Sunrise's."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ar import adjustments, disputes, ledger
from ar.account_choices import AdjustmentStatus, EntryKind
from ar.ledger_models import AdjustmentRequest, FollowUp, LedgerEntry
from ar.statement_models import Dispute, Statement
from ar.statements import statement_cycle_run
from tests import factories
from tests.permission_matrix import Case, Endpoint, PermissionMatrixMixin

BILLING = frozenset({"sam", "fran", "bill", "val"})
APPROVERS = frozenset({"sam"})


def _status(c: Case) -> str:
    return AdjustmentRequest.objects.get(pk=c.world.pending.pk).status


class TestPatientAccountMatrix(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        world.account = ledger.account_for(actor=world.bill, patient=world.sunrise_patient)
        world.charge = ledger.ledger_post(
            actor=world.bill, account=world.account, kind="charge", amount="300"
        )
        world.account.refresh_from_db()
        statement_cycle_run(actor=None, practice=world.sunrise, on=dt.date(2026, 12, 1))
        world.statement = Statement.objects.get(account=world.account)
        disputed = ledger.account_for(
            actor=world.bill, patient=factories.PatientFactory(practice=world.sunrise)
        )
        ledger.ledger_post(actor=world.bill, account=disputed, kind="charge", amount="75")
        world.dispute = disputes.dispute_open(actor=world.bill, account=disputed, reason="no")
        world.pending = adjustments.adjustment_request(
            actor=world.fran,
            account=world.account,
            kind="hardship",
            amount="150",
            reason="Lost job",
        )

    endpoints = [
        Endpoint(
            "balances page",
            "get",
            lambda w: "/patient-accounts/",
            BILLING,
            marker=lambda w: w.sunrise_patient.account_number,
            route="patient-account-list",
        ),
        Endpoint(
            "balances export",
            "get",
            lambda w: "/patient-accounts/export/",
            BILLING,
            marker=lambda w: w.sunrise_patient.account_number,
            route="patient-account-export",
        ),
        Endpoint(
            "account page",
            "get",
            lambda w: f"/patient-accounts/{w.account.pk}/",
            BILLING,
            route="patient-account-detail",
        ),
        Endpoint(
            "account follow-up",
            "post",
            lambda w: f"/patient-accounts/{w.account.pk}/follow-up/",
            BILLING,
            ok_status=302,
            data=lambda w: {
                "channel": "phone",
                "contact": "patient",
                "discussed": "the balance",
                "agreed": "pays Friday",
                "next_step": "call_patient",
                "next_date": "2099-01-01",
            },
            route="patient-account-follow-up",
            done=lambda c: FollowUp.objects.filter(actor=c.user, contact="patient").exists(),
        ),
        Endpoint(
            "account adjustment",
            "post",
            lambda w: f"/patient-accounts/{w.account.pk}/adjustments/",
            BILLING,
            ok_status=302,
            data=lambda w: {"kind": "small_balance", "amount": "10", "reason": "courtesy"},
            route="patient-account-adjustment",
            done=lambda c: AdjustmentRequest.objects.filter(
                requested_by=c.user, kind="small_balance", status=AdjustmentStatus.POSTED
            ).exists(),
        ),
        Endpoint(
            "patient payment",
            "post",
            lambda w: f"/patients/{w.sunrise_patient.pk}/payments/",
            BILLING,
            ok_status=302,
            data=lambda w: {"amount": "25.00", "method": "check", "reference": "1042"},
            route="patient-payment",
            done=lambda c: LedgerEntry.objects.filter(
                posted_by=c.user, kind=EntryKind.PAYMENT, reference="1042"
            ).exists(),
        ),
        Endpoint(
            "ledger entry reverse",
            "post",
            lambda w: f"/ledger-entries/{w.charge.pk}/reverse/",
            BILLING,
            ok_status=302,
            data=lambda w: {"reason": "posted twice"},
            route="ledger-entry-reverse",
            done=lambda c: LedgerEntry.objects.filter(
                reverses=c.world.charge, posted_by=c.user
            ).exists(),
        ),
        Endpoint(
            "account dispute",
            "post",
            lambda w: f"/patient-accounts/{w.account.pk}/disputes/",
            BILLING,
            ok_status=302,
            data=lambda w: {"reason": "billed twice"},
            route="patient-account-dispute",
            done=lambda c: Dispute.objects.filter(opened_by=c.user, reason="billed twice").exists(),
        ),
        Endpoint(
            "dispute resolve",
            "post",
            lambda w: f"/disputes/{w.dispute.pk}/resolve/",
            BILLING,
            ok_status=302,
            data=lambda w: {"resolution": "explained the EOB"},
            route="dispute-resolve",
            done=lambda c: Dispute.objects.filter(
                pk=c.world.dispute.pk, status="resolved", resolved_by=c.user
            ).exists(),
        ),
        Endpoint(
            "statements page",
            "get",
            lambda w: "/statements/",
            BILLING,
            marker=lambda w: w.sunrise_patient.account_number,
            route="statement-list",
        ),
        Endpoint(
            "statement batch",
            "get",
            lambda w: "/statements/batch/?cycle=2026-12-01",
            BILLING,
            marker=lambda w: w.sunrise_patient.account_number,
            route="statement-batch",
        ),
        Endpoint(
            "statement pdf",
            "get",
            lambda w: f"/statements/{w.statement.pk}/pdf/",
            BILLING,
            route="statement-pdf",
        ),
        Endpoint(
            "api patient accounts",
            "get",
            lambda w: "/api/v1/patient-accounts/",
            BILLING,
            api=True,
            marker=lambda w: w.account.pk,
            route="api:api-patient-account-list",
        ),
        Endpoint(
            "api patient account",
            "get",
            lambda w: f"/api/v1/patient-accounts/{w.account.pk}/",
            BILLING,
            api=True,
            route="api:api-patient-account-detail",
        ),
        Endpoint(
            "api patient account ledger",
            "get",
            lambda w: f"/api/v1/patient-accounts/{w.account.pk}/ledger/",
            BILLING,
            api=True,
            route="api:api-patient-account-ledger",
        ),
        Endpoint(
            "api adjustment requests",
            "get",
            lambda w: "/api/v1/adjustment-requests/",
            BILLING,
            api=True,
            marker=lambda w: w.pending.pk,
            route="api:api-adjustment-request-list",
        ),
        Endpoint(
            "api adjustment request",
            "get",
            lambda w: f"/api/v1/adjustment-requests/{w.pending.pk}/",
            BILLING,
            api=True,
            route="api:api-adjustment-request-detail",
        ),
        Endpoint(
            "api statements",
            "get",
            lambda w: "/api/v1/statements/",
            BILLING,
            api=True,
            marker=lambda w: w.statement.pk,
            route="api:api-statement-list",
        ),
        Endpoint(
            "api statement",
            "get",
            lambda w: f"/api/v1/statements/{w.statement.pk}/",
            BILLING,
            api=True,
            route="api:api-statement-detail",
        ),
        Endpoint(
            "adjustment request page",
            "get",
            lambda w: f"/adjustment-requests/{w.pending.pk}/",
            APPROVERS,
            route="adjustment-request-detail",
        ),
        Endpoint(
            "adjustment request approve",
            "post",
            lambda w: f"/adjustment-requests/{w.pending.pk}/approve/",
            APPROVERS,
            ok_status=302,
            route="adjustment-request-approve",
            done=lambda c: _status(c) == AdjustmentStatus.POSTED,
        ),
        Endpoint(
            "adjustment request refuse",
            "post",
            lambda w: f"/adjustment-requests/{w.pending.pk}/refuse/",
            APPROVERS,
            ok_status=302,
            data=lambda w: {"note": "offer a plan"},
            route="adjustment-request-refuse",
            done=lambda c: _status(c) == AdjustmentStatus.REFUSED,
        ),
    ]
