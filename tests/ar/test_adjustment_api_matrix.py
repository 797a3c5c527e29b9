"""The patient account API's writes in the permission matrix: asking for an adjustment,
taking a payment and recording a dispute (the patient billing area: sam, fran, bill, val),
approving and refusing (APPROVE_ADJUSTMENTS: sam only; vendor staff never). Vera
(insurance billing), vic (verification) and mia (Maple) change nothing."""

from __future__ import annotations

from typing import Any

from ar import adjustments, ledger
from ar.account_choices import AdjustmentStatus, EntryKind
from ar.ledger_models import AdjustmentRequest, LedgerEntry
from ar.statement_models import Dispute
from tests.permission_matrix import Case, Endpoint, PermissionMatrixMixin

BILLING = frozenset({"sam", "fran", "bill", "val"})
APPROVERS = frozenset({"sam"})
# An id the caller cannot see is an invalid choice (400), like a missing one.
INVALID_ACCOUNT = {p: 400 for p in ("vera", "vic", "mia")}


def _status(c: Case) -> str:
    return AdjustmentRequest.objects.get(pk=c.world.pending.pk).status


class TestAdjustmentApiMatrix(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        world.account = ledger.account_for(actor=world.bill, patient=world.sunrise_patient)
        ledger.ledger_post(actor=world.bill, account=world.account, kind="charge", amount="300")
        world.account.refresh_from_db()
        world.pending = adjustments.adjustment_request(
            actor=world.val, account=world.account, kind="hardship", amount="150", reason="x"
        )

    endpoints = [
        Endpoint(
            "api adjustment request create",
            "post",
            lambda w: "/api/v1/adjustment-requests/",
            BILLING,
            api=True,
            ok_status=201,
            data=lambda w: {
                "account": w.account.pk,
                "kind": "small_balance",
                "amount": "10.00",
                "reason": "courtesy",
            },
            denied_status=INVALID_ACCOUNT,
            route="api:api-adjustment-request-list",
            done=lambda c: AdjustmentRequest.objects.filter(
                requested_by=c.user, kind="small_balance", status=AdjustmentStatus.POSTED
            ).exists(),
        ),
        Endpoint(
            "api adjustment request approve",
            "post",
            lambda w: f"/api/v1/adjustment-requests/{w.pending.pk}/approve/",
            APPROVERS,
            api=True,
            route="api:api-adjustment-request-approve",
            done=lambda c: _status(c) == AdjustmentStatus.POSTED,
        ),
        Endpoint(
            "api adjustment request refuse",
            "post",
            lambda w: f"/api/v1/adjustment-requests/{w.pending.pk}/refuse/",
            APPROVERS,
            api=True,
            data=lambda w: {"note": "offer a plan"},
            route="api:api-adjustment-request-refuse",
            done=lambda c: _status(c) == AdjustmentStatus.REFUSED,
        ),
        Endpoint(
            "api patient payment",
            "post",
            lambda w: f"/api/v1/patient-accounts/{w.account.pk}/payments/",
            BILLING,
            api=True,
            ok_status=201,
            data=lambda w: {"amount": "25.00", "method": "card", "reference": "R-77"},
            route="api:api-patient-account-payments",
            done=lambda c: LedgerEntry.objects.filter(
                posted_by=c.user, kind=EntryKind.PAYMENT, reference="R-77"
            ).exists(),
        ),
        Endpoint(
            "api patient dispute",
            "post",
            lambda w: f"/api/v1/patient-accounts/{w.account.pk}/disputes/",
            BILLING,
            api=True,
            ok_status=201,
            data=lambda w: {"reason": "billed twice"},
            route="api:api-patient-account-disputes",
            done=lambda c: Dispute.objects.filter(opened_by=c.user, reason="billed twice").exists(),
        ),
    ]
