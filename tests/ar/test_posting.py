"""Posting 835s: amounts and statuses on the claims, exactly once (sequentially and with two
workers at once), quarantine, refusal naming the segment, reversals, unmatched payments, the
paper EOB, the command, and scoping to the importer's practice."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction

from ar import services
from ar.choices import ClaimPaymentState, RemittanceStatus, UnmatchedStatus
from ar.models import (
    ClaimPayment,
    Remittance,
    ServiceLinePayment,
    Underpayment,
    UnmatchedRemittance,
)
from claims.models import Claim
from denials.models import Denial
from practices.models import FeeScheduleLine
from practices.services import membership_revoke
from tests import factories
from tests.ar.conftest import SAMPLES, sample
from tests.ar.test_x12_835 import era

D = Decimal
BUNDLING = "x12sdk-generated-bundling-denials.835"


def totals(claim):
    claim.refresh_from_db()
    return (
        claim.status,
        claim.total_allowed,
        claim.total_paid,
        claim.patient_responsibility,
        claim.total_adjusted,
    )


def test_bundling_denials_post_amounts_status_and_denials(world, bundling_claims, post):
    batch = post(sample(BUNDLING))

    assert batch.status == RemittanceStatus.POSTED, batch.entries
    assert (batch.trace, batch.payer_id, batch.amount) == ("9167024630", "1417776310", D("1800"))
    assert (batch.posted_count, batch.unmatched_count, batch.created_by) == (3, 0, world.bill)
    first, second, third = bundling_claims
    assert totals(first) == ("partially_paid", D("600"), D("600"), D("0"), D("300"))
    assert totals(second) == ("partially_paid", D("300"), D("300"), D("0"), D("150"))
    # CLP05 blank: patient responsibility from the PR adjustment; CO-45 leaves it "paid".
    assert totals(third) == ("paid", D("1000"), D("900"), D("100"), D("200"))
    payment = ClaimPayment.objects.get(claim=third)
    assert (payment.patient_responsibility, payment.state) == (D("100"), "posted")
    line = ServiceLinePayment.objects.get(payment=payment)
    assert line.claim_line == third.lines.get() and line.allowed == D("1000")
    assert "paid" in list(third.activities.values_list("data__to", flat=True))
    # The bundled lines (CO-97) are denials the denials service works; CO-45 is not.
    denials = Denial.objects.filter(claim__in=bundling_claims)
    assert sorted((d.claim.pms_claim_number, d.carc, d.amount) for d in denials) == [
        ("PCN000001", "97", D("300.00")),
        ("PCN000002", "97", D("150.00")),
    ]


def test_same_file_again_posts_nothing_new(world, bundling_claims, post):
    post(sample(BUNDLING))
    before = [totals(c) for c in bundling_claims]

    again = post(sample(BUNDLING))

    assert again.status == RemittanceStatus.DUPLICATE
    assert (again.posted_count, again.skipped_count) == (0, 3)
    assert ClaimPayment.objects.count() == 3
    assert [totals(c) for c in bundling_claims] == before
    assert "already posted" in again.entries[0]["message"]


def test_reused_trace_with_other_content_is_quarantined(world, bundling_claims, post):
    post(sample(BUNDLING))
    other = sample(BUNDLING).replace("N1*PE*SAMPLE CLINIC", "N1*PE*SAMPLE CLINIC INC")

    batch = post(other)

    assert batch.status == RemittanceStatus.QUARANTINED
    assert "quarantined" in batch.entries[0]["message"]
    assert ClaimPayment.objects.count() == 3


def test_broken_file_is_refused_naming_the_segment(world, make_claim, post):
    claim = make_claim("5554555444", "Budd", [("99211", "800")])

    batch = post(sample("linuxforhealth-demo-broken-cas.835"))

    assert batch.status == RemittanceStatus.REFUSED
    assert batch.entries == [
        {
            "level": "error",
            "segment": 27,
            "segment_id": "CAS_CO",
            "message": "unknown segment id 'CAS_CO'",
        }
    ]
    assert not ClaimPayment.objects.exists()
    assert totals(claim)[0] == "submitted"


def test_a_batch_posts_all_or_nothing(world, bundling_claims, post):
    # The third claim cannot take a payment (void): the whole file is refused, not posted
    # in part... unless it is simply unmatched. A voided claim is unmatched, the rest posts.
    Claim.objects.filter(pk=bundling_claims[2].pk).update(status="closed")
    batch = post(sample(BUNDLING))
    assert batch.status == RemittanceStatus.POSTED
    assert (batch.posted_count, batch.unmatched_count) == (2, 1)
    item = UnmatchedRemittance.objects.get()
    assert "closed" in item.reason


def test_a_failure_while_posting_rolls_the_whole_batch_back(world, bundling_claims, post):
    # The importer loses the right to post between upload and run: the claims refuse the
    # posting; nothing of the batch stays.
    batch = services.remittance_upload(
        actor=world.bill,
        practice=world.sunrise,
        content=sample(BUNDLING).encode(),
        filename="era.835",
        enqueue=False,
    )
    membership_revoke(actor=None, membership=world.bill.memberships.get())
    batch = services.remittance_run(batch.pk)
    assert batch.status == RemittanceStatus.REFUSED
    assert not ClaimPayment.objects.exists()
    assert [totals(c)[0] for c in bundling_claims] == ["submitted"] * 3


def test_mismatched_charge_goes_to_unmatched_then_matched_by_hand(world, make_claim, post):
    # The 837P sample's PCN000001 was billed 2472.31: the 835's PCN000001 (900.00) is not it.
    ours = make_claim("PCN000001", "Martin", [("99214", "2472.31")])
    right = make_claim("PCN-9", "Martin", [("99214", "900.00")])
    make_claim("PCN000002", "Doe", [("99213", "450.00")])
    make_claim("PCN000003", "Taylor", [("93000", "1200.00")])

    batch = post(sample(BUNDLING))

    assert (batch.posted_count, batch.unmatched_count) == (2, 1)
    assert totals(ours)[:3] == ("submitted", D("0"), D("0"))
    item = UnmatchedRemittance.objects.get()
    assert "charge 900.00 differs" in item.reason
    assert (item.owner, item.next_action, item.practice) == (
        world.bill,
        "match_by_hand",
        world.sunrise,
    )
    conflict = [e for e in batch.entries if e["level"] == "conflict"]
    assert conflict[0]["segment"] == 11 and conflict[0]["claim"] == "PCN000001"

    services.unmatched_match(
        actor=world.bill, item=item, claim=right, expected_version=item.version
    )

    item.refresh_from_db()
    assert (item.status, item.next_action, item.resolved_by) == ("matched", "", world.bill)
    assert totals(right)[:3] == ("partially_paid", D("600"), D("600"))
    payment = item.payment
    payment.refresh_from_db()
    assert (payment.claim, payment.state) == (right, ClaimPaymentState.POSTED)
    assert payment.lines.get().claim_line == right.lines.get()


def test_patient_mismatch_is_not_posted(world, make_claim, post):
    make_claim("PCN000001", "Somebody-else", [("99214", "250.00")])
    batch = post(sample("x12sdk-generated-paid-in-full.835"))
    assert (batch.posted_count, batch.unmatched_count) == (0, 1)
    assert "patient" in UnmatchedRemittance.objects.get().reason


def test_not_ours(world, post):
    post(sample("x12sdk-generated-paid-in-full.835"))
    item = UnmatchedRemittance.objects.get()
    assert item.reason == "no claim with this number at this practice"
    with pytest.raises(ValidationError):
        services.unmatched_not_ours(actor=world.bill, item=item, note=" ")
    services.unmatched_not_ours(actor=world.bill, item=item, note="another practice's patient")
    item.refresh_from_db()
    assert item.status == UnmatchedStatus.NOT_OURS and not item.is_open
    assert item.payment.state == ClaimPaymentState.NOT_OURS
    assert item.activities.first().text.startswith("Marked not ours")


def test_another_practice_claim_is_never_matched(world, make_claim, post):
    make_claim("PCN000001", "Taylor", [("D1110", "250.00")], practice=world.maple, actor=world.mia)
    batch = post(sample("x12sdk-generated-paid-in-full.835"))
    assert batch.unmatched_count == 1
    assert ClaimPayment.objects.get().claim is None


def test_other_practice_and_role_cannot_upload(world):
    content = sample(BUNDLING).encode()
    for user in (world.mia, world.fran, world.vic):
        with pytest.raises(PermissionDenied):
            services.remittance_upload(
                actor=user, practice=world.sunrise, content=content, filename="x", enqueue=False
            )
    assert not Remittance.objects.exists()
    # Vendor staff with the insurance billing area may.
    services.remittance_upload(
        actor=world.vera, practice=world.sunrise, content=content, filename="x", enqueue=False
    )
    assert Remittance.objects.count() == 1


def test_reversal_posts_negative_entries_and_reopens_the_claim(world, make_claim, post):
    claim = make_claim("PCN000001", "Taylor", [("D1110", "250.00")])
    post(sample("x12sdk-generated-paid-in-full.835"))
    assert totals(claim)[:3] == ("paid", D("250"), D("250"))
    original = ClaimPayment.objects.get()
    reversal = era(
        ["N1*PR*PLACEHOLDER HEALTH", "CLP*PCN000001*22*-250.00*-250.00**CH*354417212792"],
        "-250.00",
        trace="R-1",
    )

    batch = post(reversal)

    assert batch.status == RemittanceStatus.POSTED, batch.entries
    back = ClaimPayment.objects.get(reversal_of=original)
    assert (back.paid, back.claim, back.state) == (D("-250"), claim, "posted")
    assert totals(claim) == ("in_adjudication", D("0"), D("0"), D("0"), D("0"))
    claim.refresh_from_db()
    assert claim.next_action == "wait" and "reversed" in claim.wait_reason
    original.refresh_from_db()
    assert original.paid == D("250")  # nothing updated in place


def test_posted_money_rows_refuse_update_and_delete(world, make_claim, post):
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")
    make_claim("PCN000001", "Taylor", [("D1110", "250.00")])
    post(sample("x12sdk-generated-paid-in-full.835"))
    payment = ClaimPayment.objects.get()
    for change in (
        lambda: ClaimPayment.objects.filter(pk=payment.pk).update(paid=D("1")),
        lambda: ClaimPayment.objects.filter(pk=payment.pk).delete(),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            change()
    assert ClaimPayment.objects.get().paid == D("250")


def test_dry_run_posts_nothing(world, bundling_claims, post):
    batch = post(sample(BUNDLING), dry_run=True)
    assert batch.status == RemittanceStatus.PREVIEWED
    assert (batch.posted_count, batch.unmatched_count) == (3, 0)
    assert not ClaimPayment.objects.exists()
    assert totals(bundling_claims[0])[0] == "submitted"


def test_paper_eob_posts_through_the_same_service(world, make_claim):
    claim = make_claim("C-PAPER", "Taylor", [("D1110", "120.00")])
    with pytest.raises(ValidationError) as exc:
        services.paper_eob_post(
            actor=world.bill,
            claim=claim,
            check_number="991",
            paid_on=claim.service_date_from,
            paid=D("80"),
            patient_responsibility=D("20"),
            adjustments=[("PR", "2", D("20"))],
        )
    assert "does not balance" in str(exc.value)

    batch = services.paper_eob_post(
        actor=world.bill,
        claim=claim,
        check_number="991",
        paid_on=claim.service_date_from,
        paid=D("80"),
        patient_responsibility=D("20"),
        adjustments=[("PR", "2", D("20")), ("CO", "45", D("20"))],
    )
    assert (batch.source, batch.status) == ("paper", "posted")
    assert totals(claim) == ("paid", D("100"), D("80"), D("20"), D("20"))
    with pytest.raises(ValidationError):  # the same check again
        services.paper_eob_post(
            actor=world.bill,
            claim=claim,
            check_number="991",
            paid_on=claim.service_date_from,
            paid=D("0"),
            patient_responsibility=D("0"),
            adjustments=[("CO", "45", D("120"))],
        )


def test_command_prints_counts_and_fails_on_refused_files(world, bundling_claims):
    out = StringIO()
    path = str(SAMPLES / BUNDLING)
    call_command("import_remittance", path, practice="sunrise", user="bill", stdout=out)
    assert "posted 3, skipped as already posted 0, unmatched 0, quarantined 0" in out.getvalue()

    out = StringIO()
    call_command("import_remittance", path, practice=str(world.sunrise.pk), user="bill", stdout=out)
    assert "posted 0, skipped as already posted 3" in out.getvalue()

    with pytest.raises(CommandError) as exc:
        call_command(
            "import_remittance",
            str(SAMPLES / "linuxforhealth-demo-broken-cas.835"),
            practice="sunrise",
            stdout=StringIO(),
        )
    assert "refused" in str(exc.value)
    out = StringIO()
    call_command(
        "import_remittance",
        str(SAMPLES / "x12sdk-generated-mixed-claims.835"),
        practice="sunrise",
        dry_run=True,
        stdout=out,
    )
    assert "would post 0" in out.getvalue() and "unmatched 8" in out.getvalue()
    assert Remittance.objects.filter(status="posted").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_post_one_batch(world, bundling_claims):
    if connection.vendor != "postgresql":
        pytest.skip("row locks and the unique index wait need PostgreSQL")
    ids = [
        services.remittance_upload(
            actor=world.bill,
            practice=world.sunrise,
            content=sample(BUNDLING).encode(),
            filename="era.835",
            enqueue=False,
        ).pk
        for _ in range(2)
    ]
    barrier = threading.Barrier(2)
    results: list[str] = []
    lock = threading.Lock()

    def worker(pk: int) -> None:
        try:
            barrier.wait()
            batch = services.remittance_run(pk)
            with lock:
                results.append(batch.status)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(pk,)) for pk in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == ["duplicate", "posted"]
    assert ClaimPayment.objects.count() == 3
    assert totals(bundling_claims[2])[2] == D("900")


def test_primary_paid_drafts_the_secondary_claim_once(world, make_claim, post):
    claim = make_claim("PCN000003", "Taylor", [("93000", "1200.00")])
    other_payer = factories.PayerFactory(practice=world.sunrise, name="Second Plan")
    factories.CoverageFactory(patient=claim.patient, payer=other_payer, cob_order=2)
    make_claim("PCN000001", "Martin", [("99214", "900.00")])
    make_claim("PCN000002", "Doe", [("99213", "450.00")])

    post(sample(BUNDLING))
    post(sample(BUNDLING))  # again: nothing new, no second draft

    draft = Claim.objects.get(payer=other_payer)
    assert (draft.pms_claim_number, draft.status, draft.next_action) == (
        "PCN000003",
        "draft",
        "submit_to_secondary",
    )
    assert draft.other_payer_paid == D("900.00") and draft.total_billed == D("1200.00")
    assert [line.procedure_code for line in draft.lines.all()] == ["93000"]
    note = draft.activities.filter(kind="note").get().text
    assert "paid 900.00" in note and "CO-45 200.00" in note and "PR-2 100.00" in note
    # Claims of patients without a secondary coverage get none.
    assert Claim.objects.filter(pms_claim_number="PCN000001").count() == 1


def test_underpaid_line_is_flagged_and_becomes_a_work_item(world, make_claim, payer, post):
    FeeScheduleLine.objects.create(
        practice=world.sunrise,
        payer=payer,
        procedure_code="93000",
        allowed_amount=D("1100.00"),
        effective_from=dt.date(2020, 1, 1),
    )
    claim = make_claim("PCN000003", "Taylor", [("93000", "1200.00")])
    make_claim("PCN000001", "Martin", [("99214", "900.00")])

    post(sample(BUNDLING))

    line = ServiceLinePayment.objects.get(payment__claim=claim)
    assert line.underpaid_by == D("100.00")  # 1100 contracted - 900 paid - 100 patient
    item = Underpayment.objects.get()
    assert (item.claim, item.amount, item.contracted, item.received) == (
        claim,
        D("100.00"),
        D("1100.00"),
        D("1000.00"),
    )
    assert item.next_action == "appeal_underpayment" and item.owner == world.bill
    assert item.next_action_due <= item.appeal_deadline
    assert "underpaid by $100.00" in claim.activities.filter(kind="note").get().text
    # No fee line for 99214: nothing flagged there.
    assert not ServiceLinePayment.objects.filter(
        payment__patient_control_number="PCN000001", underpaid_by__isnull=False
    ).exists()

    services.underpayment_resolve(
        actor=world.bill, item=item, outcome="accepted", note="payer contract renegotiated"
    )
    item.refresh_from_db()
    assert (item.status, item.next_action, item.is_open) == ("accepted", "", False)


def test_a_denied_line_is_a_denial_not_also_an_underpayment(world, make_claim, payer, post):
    # PCN000001: 900.00 charged, 600.00 paid, CO-97 300.00 on the line (bundling).
    FeeScheduleLine.objects.create(
        practice=world.sunrise,
        payer=payer,
        procedure_code="99214",
        allowed_amount=D("900.00"),
        effective_from=dt.date(2020, 1, 1),
    )
    claim = make_claim("PCN000001", "Martin", [("99214", "900.00")])

    post(sample(BUNDLING))

    line = ServiceLinePayment.objects.get(payment__claim=claim)
    assert line.underpaid_by is None
    assert not Underpayment.objects.exists()
    assert claim.denials.get().amount == D("300.00")


def test_command_without_user_gives_unmatched_items_an_owner(world):
    call_command(
        "import_remittance",
        str(SAMPLES / "x12sdk-generated-paid-in-full.835"),
        practice="sunrise",
        stdout=StringIO(),
    )
    item = UnmatchedRemittance.objects.get()
    assert item.owner is not None and item.owner.username in ("bill", "sam", "val", "vera")
