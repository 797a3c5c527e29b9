"""A posted payment writes one timeline entry on its claim (``claims.payments.
adjudication_entry``), where it once wrote up to four (each status move, the payment, the
next action): the one entry says what they said, on both paths (one by one and in bulk),
and every reader of those entries still finds the same facts: the claim page and the
API's timeline (the status moves, amounts, trace and next action in the text), the
mini-audit's denied claims (``data.to``) and the throughput report's closed claims."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from ar import services
from ar.models import ClaimPayment
from claims.choices import ActivityKind
from claims.models import Claim, ClaimActivity
from reports import throughput
from sops.qa_audit import _denied
from tests.ar.test_x12_835 import era

D = Decimal


def _post(world: Any, text: str, bulk: bool = True) -> Any:
    batch = services.remittance_upload(
        actor=world.bill,
        practice=world.sunrise,
        content=text.encode(),
        filename="era.835",
        enqueue=False,
    )
    return services.remittance_run(batch.pk, bulk=bulk)


def _paid_and_denied() -> str:
    return era(
        [
            "N1*PR*EXAMPLE HEALTH PLAN",
            "CLP*TL1*1*200.00*160.00*20.00*12*PT1",
            "SVC*HC:D1110*200.00*160.00**1",
            "CAS*CO*45*20.00",
            "CAS*PR*2*20.00",
            "CLP*TL2*4*300.00*0.00**12*PT2",
            "SVC*HC:D2740*300.00*0.00**1",
            "CAS*CO*50*300.00",
        ],
        "160.00",
        trace="TIME-1",
    )


@pytest.mark.parametrize("bulk", [True, False], ids=["bulk", "one-by-one"])
def test_one_entry_says_the_moves_the_amounts_and_the_next_action(world, make_claim, bulk):
    if bulk and connection.vendor != "postgresql":
        pytest.skip("the bulk path runs on PostgreSQL")
    paid = make_claim("TL1", "Alpha", [("D1110", "200.00")])
    denied = make_claim("TL2", "Bravo", [("D2740", "300.00")])
    before = ClaimActivity.objects.filter(claim=paid).count()
    batch = _post(world, _paid_and_denied(), bulk=bulk)
    assert batch.posted_count == 2
    # One entry on the paid claim; one of the posting on the denied one (its denial adds
    # its own).
    assert ClaimActivity.objects.filter(claim=paid).count() - before == 1
    assert ClaimActivity.objects.filter(claim=denied, data__source="payment").count() == 1
    payment = ClaimPayment.objects.get(claim=paid)
    entry = ClaimActivity.objects.filter(claim=paid).order_by("pk").last()
    due = f"{timezone.localdate():%m/%d/%Y}"
    assert (entry.kind, entry.actor) == (ActivityKind.STATUS, world.bill)
    assert entry.text == (
        "Submitted → Accepted → Paid. Payment posted: allowed 180.00, paid 160.00, patient "
        "responsibility 20.00, adjustments 20.00. Payment from 835 trace TIME-1 (remittance "
        f"{batch.pk}). Next: Post and close, due {due}."
    )
    assert entry.data == {
        "from": "submitted",
        "to": "paid",
        "via": ["accepted"],
        "source": "payment",
        "remittance": batch.pk,
        "claim_payment": payment.pk,
    }
    gone = ClaimActivity.objects.get(claim=denied, data__source="payment")
    assert (gone.kind, gone.data["from"], gone.data["to"]) == ("status", "submitted", "denied")
    assert gone.text.startswith("Submitted → Accepted → Denied. Payment posted: allowed 0.00")


def test_an_entry_without_a_move_is_an_edit(world, make_claim):
    """A payment posted to a claim already in the status it implies moves nothing."""
    claim = make_claim("TL3", "Charlie", [("D1110", "100.00")], status="paid")
    text = era(
        [
            "N1*PR*EXAMPLE HEALTH PLAN",
            "CLP*TL3*1*100.00*100.00**12*PT3",
            "SVC*HC:D1110*100.00*100.00**1",
        ],
        "100.00",
        trace="TIME-2",
    )
    batch = _post(world, text, bulk=False)
    assert batch.posted_count == 1
    entry = ClaimActivity.objects.filter(claim=claim).order_by("pk").last()
    assert entry.kind == ActivityKind.EDIT
    assert "from" not in entry.data and entry.data["source"] == "payment"
    assert entry.text.startswith("Payment posted: allowed 100.00, paid 100.00")


def test_the_claim_page_and_the_api_show_the_same_facts(world, make_claim, client_for):
    claim = make_claim("TL1", "Alpha", [("D1110", "200.00")])
    make_claim("TL2", "Bravo", [("D2740", "300.00")])
    batch = _post(world, _paid_and_denied())
    due = f"{timezone.localdate():%m/%d/%Y}"
    facts = [
        "Submitted → Accepted → Paid.",
        "Payment posted: allowed 180.00, paid 160.00, patient responsibility 20.00, "
        "adjustments 20.00.",
        f"Payment from 835 trace TIME-1 (remittance {batch.pk}).",
        f"Next: Post and close, due {due}.",
    ]
    client = client_for(world.bill)
    page = client.get(reverse("claim-detail", args=[claim.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    for fact in facts:
        assert fact in html
    body = client.get(f"/api/v1/claims/{claim.pk}/activity/").json()
    rows = body["results"] if isinstance(body, dict) else body
    (entry,) = [r for r in rows if r["data"].get("source") == "payment"]
    assert entry["kind"] == "status"
    assert entry["data"]["to"] == "paid" and entry["data"]["via"] == ["accepted"]
    for fact in facts:
        assert fact in entry["text"]


def test_the_mini_audit_and_throughput_read_the_same_moves(world, make_claim):
    paid = make_claim("TL1", "Alpha", [("D1110", "200.00")])
    denied = make_claim("TL2", "Bravo", [("D2740", "300.00")])
    _post(world, _paid_and_denied())
    today = timezone.localdate()
    # The mini-audit samples the claims denied in the month: the denied one, not the paid.
    assert _denied(world.sunrise, today, today + dt.timedelta(days=1)) == [denied.pk]
    # Throughput counts claims a person moved to a final status: a payment closes none.
    mine = throughput.own(world.bill.pk, [world.sunrise.pk], today, today, today)
    assert mine.items == 0
    assert mine.dollars == D("160.00")
    assert Claim.objects.get(pk=paid.pk).status == "paid"
