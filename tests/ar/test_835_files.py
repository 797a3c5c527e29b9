"""835 files the parser used to refuse outright: an unknown segment inside the transaction
(skipped, reported with its position, the file posts) and several transaction sets in one
interchange (refused whole, every set named: each would be its own remittance)."""

from __future__ import annotations

from decimal import Decimal

from ar.choices import RemittanceStatus
from ar.models import ClaimPayment
from ar.x12_835_fast import parse_835
from claims.models import Claim
from tests.ar.test_x12_835 import HEADER, era

TRAILER = "GE*1*1~IEA*1*000000001~"


def test_an_unknown_segment_in_a_claim_is_skipped_and_reported(world, make_claim, post):
    claim = make_claim("C1", "Martin", [("D1110", "100.00")])
    text = era(
        ["N1*PR*EXAMPLE HEALTH PLAN", "CLP*C1*1*100*100**12*X1", "ZZZ*SOMETHING*NEW"],
        "100.00",
    )
    assert [e.segment_index for e in parse_835(text).skipped] == [8]

    batch = post(text)

    assert (batch.status, batch.posted_count) == (RemittanceStatus.POSTED, 1)
    assert Claim.objects.get(pk=claim.pk).total_paid == Decimal("100.00")
    warning = next(e for e in batch.entries if e["level"] == "warning")
    assert (warning["segment"], warning["segment_id"]) == (8, "ZZZ")
    assert "skipped" in warning["message"]


def test_several_transaction_sets_refuse_the_whole_file_naming_each(world, make_claim, post):
    claim = make_claim("C1", "Martin", [("D1110", "100.00")])
    make_claim("C2", "Doe", [("D1110", "50.00")])
    first = era(["CLP*C1*1*100*100**12*X1"], "100.00", trace="T-ONE")
    second = era(["CLP*C2*1*50*50**12*X2"], "50.00", trace="T-TWO")
    body = second.removeprefix(HEADER.rsplit("ST*", 1)[0]).removesuffix(TRAILER)
    text = first.removesuffix(TRAILER) + body + TRAILER

    batch = post(text)

    assert batch.status == RemittanceStatus.REFUSED
    (error,) = [e for e in batch.entries if e["level"] == "error"]
    assert error["segment_id"] == "ST" and error["segment"] == 8
    assert "2 transaction sets" in error["message"]
    assert "trace T-ONE" in error["message"] and "trace T-TWO" in error["message"]
    assert not ClaimPayment.objects.exists()
    assert Claim.objects.get(pk=claim.pk).status == "submitted"
