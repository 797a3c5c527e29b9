"""The bulk path in chunks with ``COPY`` (``ar.bulk_posting``, ``ar.ledger_bulk``,
``ar.bulk_sql.Copier``): a generated file posted in chunks of a few claims stores exactly
what the plain per-claim path (``bulk=False``: the whole file matched at once, every
payment through ``ar.posting``) stores, row for row (payments, lines, adjustments,
remarks, denials, underpayments, unmatched items, ledger entries and accounts, claim
amounts and statuses, timelines, work items and every history row with its actor); a
claim number the file names twice across chunks is matched as the one pass matched it;
the same file again posts nothing; and a failure in a late chunk leaves nothing posted."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from ar import bulk_posting, services
from ar.choices import RemittanceStatus
from ar.ledger_models import AccountActivity, LedgerEntry
from ar.matching import plan_payments
from ar.models import ClaimPayment, Remittance
from ar.x12_835_fast import parse_835
from claims.models import Claim, ClaimActivity
from tests.ar.test_posting_bulk import make_claims, mixed_file, post_and_snapshot
from tests.ar.test_x12_835 import era

D = Decimal
pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the bulk path runs on PostgreSQL"
)


def generated(make_claim: Any, count: int, prefix: str = "G") -> tuple[list[str], int]:
    """``count`` claims, each paid with CO-45 and (but every third) the patient's PR-2 on
    each of its one or two lines, as the benchmark's file pays them; (segments, cents)."""
    body: list[str] = []
    total = 0
    for n in range(1, count + 1):
        codes = [("D1110", 100), ("D0120", 60)][: 1 + n % 2]
        number = f"{prefix}{n:03d}"
        make_claim(number, f"Gen{prefix}{n}", [(c, f"{v}.00") for c, v in codes])
        share = 0 if n % 3 == 0 else 10
        charge = sum(v for _, v in codes)
        paid = sum(v * 7 // 10 for _, v in codes)
        body.append(f"CLP*{number}*1*{charge}*{paid}*{share * len(codes)}*12*PG{prefix}{n}")
        body.append(f"NM1*QC*1*GEN{prefix}{n}*ANN****MI*M{n}")
        for code, value in codes:
            body.append(f"SVC*HC:{code}*{value}*{value * 7 // 10}**1")
            body.append(f"CAS*CO*45*{value - value * 7 // 10 - share}")
            if share:
                body.append(f"CAS*PR*2*{share}")
        total += paid * 100
    return body, total


def mixed_and_generated(world: Any, make_claim: Any, payer: Any) -> str:
    """The mixed file's kinds (plain, underpaid, denied, partly paid, secondary, no such
    claim) among generated plain payments, and one unknown claim number named twice (far
    apart: in two chunks)."""
    make_claims(world, make_claim, payer)
    mixed = parse_segments(mixed_file())
    head, rest = mixed[:3], mixed[3:]
    plb = [s for s in rest if s.startswith("PLB")]
    rest = [s for s in rest if not s.startswith("PLB")]
    body, cents = generated(make_claim, 10)
    half = next(i for i, s in enumerate(body) if i >= len(body) // 2 and s.startswith("CLP"))
    twice = ["CLP*GHOST*1*40*40**12*GH1", "SVC*HC:D1206*40*40**1"]
    again = ["CLP*GHOST*1*40*40**12*GH2", "SVC*HC:D1206*40*40**1"]
    segments = [*head, *twice, *body[:half], *rest, *body[half:], *again, *plb]
    amount = D(cents) / 100 + D("611.00") + D("80.00")
    return era(segments, f"{amount:.2f}", trace="COPY-1")


def parse_segments(text: str) -> list[str]:
    """The body segments of a file ``era`` wrote (between TRN and SE)."""
    segments = [s.strip() for s in text.split("~") if s.strip()]
    start = next(i for i, s in enumerate(segments) if s.startswith("TRN")) + 1
    end = next(i for i, s in enumerate(segments) if s.startswith("SE*"))
    return segments[start:end]


def upload(world: Any, text: str) -> Remittance:
    return services.remittance_upload(
        actor=world.bill,
        practice=world.sunrise,
        content=text.encode(),
        filename="g.835",
        enqueue=False,
    )


def test_the_chunked_copy_path_stores_what_the_row_path_stores(
    world, make_claim, payer, monkeypatch
):
    monkeypatch.setattr(bulk_posting, "CHUNK", 4)
    text = mixed_and_generated(world, make_claim, payer)

    row_batch, by_row = post_and_snapshot(world, text, bulk=False)
    bulk_batch, by_bulk = post_and_snapshot(world, text, bulk=True)

    assert (row_batch.status, bulk_batch.status) == (RemittanceStatus.POSTED,) * 2
    assert (row_batch.posted_count, row_batch.unmatched_count) == (17, 3)
    assert (bulk_batch.posted_count, bulk_batch.unmatched_count) == (17, 3)
    row_queries, bulk_queries = by_row.pop("_queries"), by_bulk.pop("_queries")
    for label in by_row:
        only_bulk = [r for r in by_bulk[label] if r not in by_row[label]]
        only_row = [r for r in by_row[label] if r not in by_bulk[label]]
        assert by_bulk[label] == by_row[label], (label, only_bulk, only_row)
    counts = {label: len(rows) for label, rows in by_bulk.items()}
    assert counts["ar.ClaimPayment"] == 20 and counts["ar.UnmatchedRemittance"] == 3
    assert counts["ar.LedgerEntry"] >= 7 and counts["denials.Denial"] >= 2
    assert counts["claims.HistoricalClaim"] > 20
    assert bulk_queries < row_queries


def test_a_reversal_and_its_correction_in_two_chunks_match_as_in_one_pass(
    world, make_claim, payer, monkeypatch
):
    """The second file reverses an earlier payment in its first chunk and pays the claim
    again in its last: the correction is matched against the state before the file (as
    the one pass does), not after the reversal an earlier chunk posted."""
    monkeypatch.setattr(bulk_posting, "CHUNK", 3)
    make_claim("RV1", "Revers", [("D1110", "100.00")])
    first = ["CLP*RV1*1*100*70*10*12*PRV1", "SVC*HC:D1110*100*70**1", "CAS*CO*45*20"]
    first += ["CAS*PR*2*10"]
    batch = upload(world, era(first, "70.00", trace="RV-1"))
    assert services.remittance_run(batch.pk).posted_count == 1
    body, cents = generated(make_claim, 6, prefix="R")
    reversal = ["CLP*RV1*22*-100*-70*-10*12*PRV1", "SVC*HC:D1110*-100*-70**1"]
    reversal += ["CAS*CO*45*-20", "CAS*PR*2*-10"]
    corrected = ["CLP*RV1*1*100*80*10*12*PRV1B", "SVC*HC:D1110*100*80**1", "CAS*CO*45*10"]
    corrected += ["CAS*PR*2*10"]
    amount = D(cents) / 100 - D("70.00") + D("80.00")
    text = era([*reversal, *body, *corrected], f"{amount:.2f}", trace="RV-2")

    row_batch, by_row = post_and_snapshot(world, text, bulk=False)
    bulk_batch, by_bulk = post_and_snapshot(world, text, bulk=True)

    assert (bulk_batch.posted_count, bulk_batch.unmatched_count) == (
        row_batch.posted_count,
        row_batch.unmatched_count,
    )
    assert row_batch.posted_count >= 7
    by_row.pop("_queries"), by_bulk.pop("_queries")
    for label in by_row:
        assert by_bulk[label] == by_row[label], label


def test_the_same_file_again_posts_nothing(world, make_claim, payer, monkeypatch):
    monkeypatch.setattr(bulk_posting, "CHUNK", 4)
    body, cents = generated(make_claim, 9)
    text = era(body, f"{D(cents) / 100:.2f}", trace="COPY-AGAIN")
    first = services.remittance_run(upload(world, text).pk)
    assert (first.status, first.posted_count) == (RemittanceStatus.POSTED, 9)
    stored = (ClaimPayment.objects.count(), LedgerEntry.objects.count())
    timeline = ClaimActivity.objects.count()

    again = services.remittance_run(upload(world, text).pk)

    assert (again.status, again.posted_count, again.skipped_count) == (
        RemittanceStatus.DUPLICATE,
        0,
        9,
    )
    assert (ClaimPayment.objects.count(), LedgerEntry.objects.count()) == stored
    assert ClaimActivity.objects.count() == timeline
    assert set(
        Claim.objects.filter(pms_claim_number__startswith="G").values_list("status", flat=True)
    ) == {"paid"}


def _written() -> tuple[int, ...]:
    return (
        ClaimPayment.objects.count(),
        LedgerEntry.objects.count(),
        AccountActivity.objects.count(),
        ClaimActivity.objects.count(),
        Claim.history.count(),
    )


def test_a_failure_in_a_late_chunk_leaves_nothing_posted(world, make_claim, payer, monkeypatch):
    monkeypatch.setattr(bulk_posting, "CHUNK", 2)
    body, cents = generated(make_claim, 7)
    text = era(body, f"{D(cents) / 100:.2f}", trace="COPY-LATE")
    batch = upload(world, text)
    plans = plan_payments(world.sunrise.pk, "1417776310", parse_835(text).claims)
    plain, rest = bulk_posting.split(plans)
    assert (len(plain), rest) == (7, [])
    before = _written()
    # Between matching and posting, the last chunk's claim was closed by somebody else:
    # chunks 1 to 3 are written (COPY) before the fourth refuses.
    Claim.objects.filter(pms_claim_number="G007").update(status="closed")
    with pytest.raises(ValidationError, match="closed claim"), transaction.atomic():
        bulk_posting.post_plain(batch, plain, world.bill)
    assert _written() == before
    assert not Claim.objects.filter(pms_claim_number__startswith="G", status="paid").exists()


def test_a_late_chunk_refused_by_the_claim_refuses_the_file_whole(
    world, make_claim, payer, monkeypatch
):
    """Through the service: the file's last claim payment denies G001 (another CLP07),
    which its first paid three chunks earlier; a paid claim cannot be denied, so the file
    is refused after three chunks were written (COPY): nothing of it stays."""
    monkeypatch.setattr(bulk_posting, "CHUNK", 2)
    body, cents = generated(make_claim, 7)
    denial = ["CLP*G001*4*160*0**12*PGG1-DENIED", "SVC*HC:D1110*100*0**1", "CAS*CO*50*100"]
    denial += ["SVC*HC:D0120*60*0**1", "CAS*CO*50*60"]
    text = era([*body, *denial], f"{D(cents) / 100:.2f}", trace="COPY-LATE-2")
    batch = upload(world, text)
    before = _written()

    batch = services.remittance_run(batch.pk)

    assert batch.status == RemittanceStatus.REFUSED
    assert "nothing was posted" in batch.entries[0]["message"]
    assert "cannot be posted to a paid claim" in batch.entries[0]["message"]
    assert _written() == before
    assert not Claim.objects.filter(pms_claim_number__startswith="G", status="paid").exists()
