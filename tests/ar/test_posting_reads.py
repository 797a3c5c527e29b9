"""How the bulk stream reads a file's claims (``ar.matching.plan_payments(lock=True)``,
``ar.bulk_posting._lock``): once a chunk, under lock, as model instances without their
patient's and payer's; Python's cyclic collector off while a chunk is matched and posted.
What the stream stores is held to the one-by-one path by ``test_posting_copy.py``."""

from __future__ import annotations

import gc
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ar import bulk_posting, matching, services
from ar.choices import RemittanceStatus
from ar.ledger_models import LedgerEntry
from ar.x12_835_fast import parse_835
from claims.models import Claim
from tests import factories
from tests.ar.test_posting_copy import generated, upload
from tests.ar.test_x12_835 import era

D = Decimal
pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the bulk path runs on PostgreSQL"
)


def claim_reads(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT") and 'FROM "claims_claim"' in q["sql"]
    ]


def test_each_chunk_reads_its_claims_once_under_lock(world, make_claim, payer, monkeypatch):
    monkeypatch.setattr(bulk_posting, "CHUNK", 4)
    body, cents = generated(make_claim, 10)
    batch = upload(world, era(body, f"{D(cents) / 100:.2f}", trace="READS-1"))

    with CaptureQueriesContext(connection) as queries:
        done = services.remittance_run(batch.pk)

    assert (done.status, done.posted_count) == (RemittanceStatus.POSTED, 10)
    reads = claim_reads(queries)
    # One read a chunk (4 + 4 + 2 claims): matching's, locked in id order; no second read.
    assert len(reads) == 3
    assert all(
        "pms_claim_number" in sql and "FOR UPDATE OF" in sql and "ORDER BY" in sql for sql in reads
    )
    paid = Claim.objects.filter(pms_claim_number__startswith="G", status="paid")
    assert paid.count() == 10


def test_matching_unlocked_leaves_the_lock_to_posting(world, make_claim, payer):
    body, cents = generated(make_claim, 3)
    text = era(body, f"{D(cents) / 100:.2f}", trace="READS-2")
    batch = upload(world, text)
    plans = matching.plan_payments(world.sunrise.pk, "1417776310", parse_835(text).claims)
    assert [p.locked for p in plans] == [False] * 3
    plain, rest = bulk_posting.split(plans)
    assert (len(plain), rest) == (3, [])
    # Somebody changes a claim between matching and posting: the locked read sees it.
    Claim.objects.filter(pms_claim_number="G002").update(total_adjusted=D("5.00"))

    with CaptureQueriesContext(connection) as queries:
        bulk_posting.post_plain(batch, plain, world.bill)

    reads = claim_reads(queries)
    assert len(reads) == 1 and "FOR UPDATE OF" in reads[0]
    changed = Claim.objects.get(pms_claim_number="G002")
    assert changed.total_adjusted == D("5.00") + plans[1].parsed.adjusted


def test_a_database_without_row_locks_marks_no_plan_locked(world, make_claim, payer, monkeypatch):
    # SQLite (make run) takes no FOR UPDATE: no plan may say its claim is held, so the
    # posting reads the claims again under its own lock.
    body, cents = generated(make_claim, 2)
    text = era(body, f"{D(cents) / 100:.2f}", trace="READS-NOLOCK")
    parsed = parse_835(text).claims
    assert [
        p.locked for p in matching.plan_payments(world.sunrise.pk, "1417776310", parsed, lock=True)
    ] == [True, True]
    monkeypatch.setattr(connection.features, "has_select_for_update", False)

    with CaptureQueriesContext(connection) as queries:
        plans = matching.plan_payments(world.sunrise.pk, "1417776310", parsed, lock=True)

    assert [p.locked for p in plans] == [False, False]
    assert all(p.claim is not None and not p.problem for p in plans)
    assert not any("FOR UPDATE" in read for read in claim_reads(queries))


def test_matching_builds_no_patient_or_payer_and_still_checks_them(world, make_claim, payer):
    make_claim("NM1", "Right", [("D1110", "100.00")])
    make_claim("NM2", "Right", [("D1110", "100.00")])
    segments = [
        "CLP*NM1*1*100*70*0*12*PNM1",
        "NM1*QC*1*WRONG*ANN****MI*M1",
        "SVC*HC:D1110*100*70**1",
        "CAS*CO*45*30",
        "CLP*NM2*1*100*70*0*12*PNM2",
        "NM1*QC*1*RIGHT*ANN****MI*M2",
        "SVC*HC:D1110*100*70**1",
        "CAS*CO*45*30",
    ]
    parsed = parse_835(era(segments, "140.00", trace="READS-3")).claims

    with CaptureQueriesContext(connection) as queries:
        plans = matching.plan_payments(world.sunrise.pk, "1417776310", parsed)

    assert len(queries.captured_queries) == 3  # claims, earlier payments, reversals
    wrong, right = plans
    assert "the patient named in the payment differs" in wrong.problem
    assert (right.problem, right.target) == ("", "paid")
    for plan in plans:
        claim = plan.claim
        assert claim is not None and claim._state.fields_cache == {}
        assert not hasattr(claim, "matched_last_name") and not hasattr(claim, "matched_payer_id")


def test_two_live_claims_of_one_number_take_the_files_payer(world, make_claim, payer):
    ours = make_claim("TWO1", "Pair", [("D1110", "100.00")])
    other = make_claim("TWO1X", "Pair", [("D1110", "100.00")])
    elsewhere = factories.PayerFactory(practice=world.sunrise, payer_id="OTHER1")
    Claim.objects.filter(pk=other.pk).update(pms_claim_number="TWO1", payer=elsewhere)
    segments = ["CLP*TWO1*1*100*70*0*12*PTWO", "SVC*HC:D1110*100*70**1", "CAS*CO*45*30"]
    parsed = parse_835(era(segments, "70.00", trace="READS-4")).claims

    (plan,) = matching.plan_payments(world.sunrise.pk, "1417776310", parsed)
    (unknown,) = matching.plan_payments(world.sunrise.pk, "NOSUCHPAYER", parsed)

    assert plan.claim is not None and (plan.claim.pk, plan.problem) == (ours.pk, "")
    assert unknown.claim is None and unknown.problem.startswith("2 claims have this number")


def test_the_collector_is_off_while_a_chunk_is_matched_and_posted(
    world, make_claim, payer, monkeypatch
):
    monkeypatch.setattr(bulk_posting, "CHUNK", 4)
    seen: list[tuple[str, bool]] = []
    match, post = matching.plan_payments, bulk_posting._post_chunk

    def watched_match(*args: Any, **kwargs: Any) -> Any:
        seen.append(("match", gc.isenabled()))
        return match(*args, **kwargs)

    def watched_post(*args: Any, **kwargs: Any) -> Any:
        seen.append(("post", gc.isenabled()))
        return post(*args, **kwargs)

    monkeypatch.setattr(matching, "plan_payments", watched_match)
    monkeypatch.setattr(bulk_posting, "_post_chunk", watched_post)
    body, cents = generated(make_claim, 6)
    assert gc.isenabled()

    done = services.remittance_run(
        upload(world, era(body, f"{D(cents) / 100:.2f}", trace="READS-5")).pk
    )

    assert done.posted_count == 6
    assert seen == [("match", False), ("post", False)] * 2
    assert gc.isenabled()


def test_the_streams_ledger_step_reads_no_coverage_or_charge_again(
    world, make_claim, payer, monkeypatch
):
    """``split`` has read the chunk's coverages (under matching's lock) and the payments
    are new: the ledger's bulk step neither reads them again nor looks the new payments
    up as charged. The shares are charged all the same."""
    monkeypatch.setattr(bulk_posting, "CHUNK", 4)
    body, cents = generated(make_claim, 8)
    batch = upload(world, era(body, f"{D(cents) / 100:.2f}", trace="READS-6"))

    with CaptureQueriesContext(connection) as queries:
        done = services.remittance_run(batch.pk)

    assert done.posted_count == 8
    sql = [q["sql"] for q in queries.captured_queries]
    coverage_reads = [s for s in sql if s.startswith("SELECT") and '"practices_coverage"' in s]
    assert len(coverage_reads) == 2 * 2  # split's primary and secondary reads, 2 chunks
    assert not [s for s in sql if '"ar_ledgerentry"."claim_payment_id" = ANY' in s]
    charged = LedgerEntry.objects.filter(claim__pms_claim_number__startswith="G")
    assert charged.count() == 6  # every third claim has no patient share
