"""Working a denial to an outcome: resubmit, records, write-off (and its approval
threshold), close, appeals with letters and PDFs, and the claim's next action around it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from claims import attachments
from claims.choices import AttachmentKind, AttachmentStatus, ClaimStatus
from claims.choices import NextAction as ClaimNextAction
from denials import appeals, letters, services
from denials.choices import (
    AppealLevel,
    AppealOutcome,
    DenialStatus,
    NextAction,
    Outcome,
    Route,
    WriteOffStatus,
)
from work.choices import WAIT
from work.services import ItemConflict

pytestmark = pytest.mark.django_db


def local_today() -> dt.date:
    """Today in the practice's time zone, read when a test uses it (a constant read at
    import goes stale when a run crosses midnight)."""
    return timezone.localdate()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_resubmitted_denial_waits_for_the_payer(world: Any, make_denial: Any) -> None:
    denial = make_denial(carc="4")
    denial = services.denial_resubmitted(
        actor=world.bill, denial=denial, note="Added modifier", expected_version=denial.version
    )
    assert denial.next_action == WAIT
    assert denial.next_action_due == local_today() + dt.timedelta(days=30)
    assert denial.activities.filter(kind="resubmitted", actor=world.bill).exists()
    denial.claim.refresh_from_db()
    assert denial.claim.next_action == WAIT
    assert denial.claim.next_action_due == denial.appeal_deadline


def test_a_stale_version_is_a_conflict(world: Any, make_denial: Any) -> None:
    denial = make_denial()
    with pytest.raises(ItemConflict):
        services.denial_resubmitted(
            actor=world.bill, denial=denial, note="x", expected_version=denial.version - 1
        )


def test_records_request_routes_to_the_practice(world: Any, make_denial: Any) -> None:
    denial = make_denial(carc="16")
    denial = services.denial_request_records(actor=world.vera, denial=denial, what="Perio chart")
    assert denial.route == Route.PRACTICE
    assert denial.next_action == WAIT
    assert "Perio chart" in denial.wait_reason


def test_small_write_off_closes_the_denial_and_frees_the_claim(
    world: Any, make_denial: Any
) -> None:
    denial = make_denial(amount="60.00")
    request = services.denial_write_off(actor=world.vera, denial=denial, reason="Small balance")
    denial.refresh_from_db()
    assert request.status == WriteOffStatus.APPROVED
    assert (denial.status, denial.outcome) == (DenialStatus.CLOSED, Outcome.WRITTEN_OFF)
    assert denial.next_action == "" and denial.next_action_due is None
    denial.claim.refresh_from_db()
    assert denial.claim.next_action == ClaimNextAction.POST_AND_CLOSE


def test_a_write_off_above_the_threshold_records_an_approval_request(
    world: Any, make_denial: Any
) -> None:
    # Clearpath's engagement at Sunrise: adjustments above $100 need a manager.
    denial = make_denial(amount="1200.00")
    request = services.denial_write_off(actor=world.vera, denial=denial, reason="Not worth it")
    denial.refresh_from_db()
    assert request.status == WriteOffStatus.PENDING
    assert request.requested_by == world.vera
    assert denial.is_open and denial.next_action == WAIT
    assert "approval" in denial.wait_reason
    with pytest.raises(ValidationError):
        services.denial_write_off(actor=world.bill, denial=denial, reason="again")


def test_a_manager_writes_off_above_the_threshold_at_once(world: Any, make_denial: Any) -> None:
    denial = make_denial(amount="1200.00")
    request = services.denial_write_off(actor=world.sam, denial=denial, reason="Approved")
    assert request.status == WriteOffStatus.APPROVED
    assert request.decided_by == world.sam


def test_close_with_outcome(world: Any, make_denial: Any) -> None:
    denial = make_denial()
    denial = services.denial_close(
        actor=world.bill,
        denial=denial,
        outcome=Outcome.PAID_AFTER_CORRECTION,
        amount_recovered="1200.00",
        root_cause="coding",
    )
    assert denial.status == DenialStatus.CLOSED
    assert denial.amount_recovered == Decimal("1200.00")
    assert denial.root_cause == "coding"
    assert denial.priority == 0
    with pytest.raises(ValidationError):
        services.denial_close(actor=world.bill, denial=denial, outcome=Outcome.UPHELD)


def _attach(world: Any, claim: Any, kind: str, name: str) -> Any:
    return attachments.attachment_add(
        actor=world.bill,
        claim=claim,
        kind=kind,
        label=name,
        status=AttachmentStatus.RECEIVED,
        file=SimpleUploadedFile(name, PDF, content_type="application/pdf"),
    )


def test_appeal_through_to_overturn(world: Any, make_denial: Any) -> None:
    denial = make_denial(carc="50", rarcs=["M127"])
    eob = _attach(world, denial.claim, AttachmentKind.EOB, "eob.pdf")
    xray = _attach(world, denial.claim, AttachmentKind.XRAY, "xray.pdf")

    appeal = appeals.appeal_create(actor=world.bill, denial=denial, documents=[eob, xray])
    denial.refresh_from_db()
    assert appeal.deadline == denial.appeal_deadline
    assert denial.next_action == NextAction.APPEAL
    assert set(appeal.documents.all()) == {eob, xray}
    assert "medically necessary" in appeal.letter
    assert denial.claim.pms_claim_number in appeal.letter

    appeals.appeal_send(actor=world.bill, appeal=appeal, method="fax")
    denial.refresh_from_db()
    denial.claim.refresh_from_db()
    assert denial.next_action == WAIT
    assert denial.claim.status == ClaimStatus.APPEALED

    appeals.appeal_decide(
        actor=world.bill, appeal=appeal, outcome=AppealOutcome.PARTLY, amount_recovered="700"
    )
    denial.refresh_from_db()
    assert (denial.status, denial.outcome) == (DenialStatus.CLOSED, Outcome.PARTLY_OVERTURNED)
    assert denial.amount_recovered == Decimal("700.00")


def test_upheld_appeal_asks_for_the_next_level(world: Any, make_denial: Any) -> None:
    denial = make_denial()
    appeal = appeals.appeal_create(actor=world.bill, denial=denial, method="portal")
    appeals.appeal_send(actor=world.bill, appeal=appeal)
    appeals.appeal_decide(actor=world.bill, appeal=appeal, outcome=AppealOutcome.UPHELD)
    denial.refresh_from_db()
    assert denial.is_open and denial.next_action == NextAction.APPEAL
    second = appeals.appeal_create(actor=world.bill, denial=denial, level=AppealLevel.SECOND)
    assert second.deadline == local_today() + dt.timedelta(days=60)


def test_vendor_staff_cannot_attach_clinical_documents(world: Any, make_denial: Any) -> None:
    denial = make_denial()
    xray = _attach(world, denial.claim, AttachmentKind.XRAY, "xray.pdf")
    with pytest.raises(ValidationError) as error:
        appeals.appeal_create(actor=world.vera, denial=denial, documents=[xray])
    assert "documents" in error.value.message_dict
    assert not denial.appeals.exists()


def test_documents_of_another_claim_are_refused(
    world: Any, make_claim: Any, make_denial: Any
) -> None:
    denial = make_denial()
    other = _attach(world, make_claim(), AttachmentKind.EOB, "other.pdf")
    with pytest.raises(ValidationError):
        appeals.appeal_create(actor=world.bill, denial=denial, documents=[other])


def test_a_sent_appeal_keeps_its_letter(world: Any, make_denial: Any) -> None:
    appeal = appeals.appeal_create(actor=world.bill, denial=make_denial(), method="mail")
    appeals.appeal_send(actor=world.bill, appeal=appeal)
    with pytest.raises(ValidationError):
        appeals.appeal_update(actor=world.bill, appeal=appeal, letter="changed")


def test_the_letter_pdf_escapes_script(world: Any, make_denial: Any) -> None:
    appeal = appeals.appeal_create(
        actor=world.bill, denial=make_denial(), letter="<script>alert(1)</script> Dear payer"
    )
    pdf = letters.render_pdf(appeal)
    assert pdf.startswith(b"%PDF")
    page = letters.render_to_string("denials/letter_pdf.html", {"appeal": appeal})
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_the_denial_page_escapes_imported_text(
    world: Any, make_claim: Any, client_for: Any
) -> None:
    claim = make_claim(pms_claim_number="<b>X1</b>")
    denial = services.open_denial(
        actor=None,
        claim=claim,
        group_code="CO",
        carc="50",
        amount="10",
        received_on=local_today(),
        source="835",
        source_ref="<script>alert(1)</script>",
    )
    client = client_for(world.bill)
    page = client.get(f"/denials/{denial.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page and "&lt;b&gt;X1" in page
    claim_page = client.get(f"/claims/{claim.pk}/").content.decode()
    assert f"/denials/{denial.pk}/" in claim_page  # the claim page's Denials panel
