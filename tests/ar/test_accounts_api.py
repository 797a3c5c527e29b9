"""The patient account API (issue 13, 5): accounts, an account's ledger, adjustment
requests and statements, read through the same scoping as the pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from ar import adjustments, ledger
from ar.ledger_models import PatientAccount
from ar.statement_models import Statement
from ar.statements import statement_cycle_run

pytestmark = pytest.mark.django_db


def patient_billing_ids(world: Any) -> dict[str, int]:
    """One account, request and statement at Sunrise (also for the API fuzz test)."""
    account = ledger.account_for(actor=world.bill, patient=world.sunrise_patient)
    ledger.ledger_post(actor=world.bill, account=account, kind="charge", amount="300")
    account.refresh_from_db()
    request = adjustments.adjustment_request(
        actor=world.bill, account=account, kind="hardship", amount="150", reason="Lost job"
    )
    statement_cycle_run(actor=None, practice=world.sunrise, on=dt.date(2026, 12, 1))
    return {
        "/api/v1/patient-accounts/": account.pk,
        "/api/v1/adjustment-requests/": request.pk,
        "/api/v1/statements/": Statement.objects.get(account=account).pk,
    }


def test_the_api_reads_accounts_ledger_requests_and_statements(world, client_for):
    ids = patient_billing_ids(world)
    account = PatientAccount.objects.get(pk=ids["/api/v1/patient-accounts/"])
    fran = client_for(world.fran)
    rows = fran.get("/api/v1/patient-accounts/").json()["results"]
    assert [(r["id"], r["balance"], r["aging_bucket"]) for r in rows] == [
        (account.pk, "300.00", account.aging_bucket())
    ]
    entries = fran.get(f"/api/v1/patient-accounts/{account.pk}/ledger/").json()
    assert [(e["kind"], Decimal(e["amount"])) for e in entries] == [("charge", Decimal("300"))]
    requests = fran.get("/api/v1/adjustment-requests/").json()["results"]
    assert [(r["kind"], r["status"]) for r in requests] == [("hardship", "pending")]
    statements = fran.get("/api/v1/statements/").json()["results"]
    assert [(s["stage"], s["balance"]) for s in statements] == [("first", "300.00")]
    # Vera (insurance billing) and mia (Maple) see no balances.
    for user in (world.vera, world.mia):
        client = client_for(user)
        assert client.get("/api/v1/patient-accounts/").json()["results"] == []
        assert client.get(f"/api/v1/patient-accounts/{account.pk}/ledger/").status_code == 404
