"""The claim page in the daily loop (issue 9): a call logged with its next action in one
submit, "Save and next" through the queue one came from, errors at the field, the facts a
caller needs, the scrub card, and attachment status moves."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from claims import attachments
from claims.choices import ActivityKind, AttachmentKind, AttachmentStatus, ClaimStatus, NextAction
from claims.models import Attachment, Claim, ClaimActivity
from practices.choices import ClaimFormat
from tests import claim_factory, factories
from tests.claims.test_claim_matrix import PDF, WORKERS, build_scene
from tests.permission_matrix import Case, Endpoint, PermissionMatrixMixin


@pytest.fixture
def today() -> dt.date:
    """The pages read the real date: dates here are relative to it, read once per test."""
    return timezone.localdate()


def _follow_up(claim: Claim, **extra: Any) -> dict[str, Any]:
    return {
        "version": claim.version,
        "channel": "phone",
        "contact": "Ann at Delta, ref 42",
        "outcome": "In review, call back in a week",
        "next_step": "",
        **extra,
    }


def test_a_call_sets_the_next_action_in_the_same_submit(world, make_claim, client_for, today):
    claim = make_claim()
    due = today + dt.timedelta(days=7)
    response = client_for(world.bill).post(
        f"/claims/{claim.pk}/follow-up/",
        _follow_up(claim, next_action=NextAction.CALL_PAYER, next_action_due=due.isoformat()),
    )
    assert response.status_code == 302
    claim.refresh_from_db()
    assert (claim.next_action, claim.next_action_due, claim.follow_up_count) == (
        NextAction.CALL_PAYER,
        due,
        1,
    )
    kinds = list(
        ClaimActivity.objects.filter(claim=claim, actor=world.bill)
        .exclude(kind__in=[ActivityKind.CREATED])
        .values_list("kind", flat=True)
    )
    assert sorted(kinds) == sorted([ActivityKind.FOLLOW_UP, ActivityKind.NEXT_ACTION])


def test_a_refused_next_action_keeps_no_follow_up_and_shows_the_error_at_the_field(
    world, make_claim, client_for
):
    claim = make_claim()
    response = client_for(world.bill).post(
        f"/claims/{claim.pk}/follow-up/", _follow_up(claim, next_action=NextAction.WAIT)
    )
    assert response.status_code == 400
    claim.refresh_from_db()
    assert claim.follow_up_count == 0
    assert not ClaimActivity.objects.filter(claim=claim, kind=ActivityKind.FOLLOW_UP).exists()
    html = response.text
    # the error sits right after its own field, which is marked invalid (the page's script
    # scrolls to and focuses the first invalid field)
    field = html.index('id="fu_wait_reason"')
    assert "is-invalid" in html[html.rfind("<input", 0, field) : field + 200]
    assert "Say what we are waiting for" in html[field : field + 600]
    # the person's input is still there
    assert "Ann at Delta, ref 42" in html


def test_without_a_next_action_the_follow_up_keeps_the_current_one(world, make_claim, client_for):
    claim = make_claim()
    before = (claim.next_action, claim.next_action_due)
    client_for(world.bill).post(f"/claims/{claim.pk}/follow-up/", _follow_up(claim))
    claim.refresh_from_db()
    assert claim.follow_up_count == 1
    assert (claim.next_action, claim.next_action_due) == before


def test_save_and_next_goes_to_the_next_claim_of_my_day(world, make_claim, client_for, today):
    claims = [make_claim() for _ in range(3)]
    ranked = sorted(claims, key=lambda c: (-c.priority, -c.pk))
    first, second = ranked[0], ranked[1]
    client = client_for(world.bill)
    page = client.get(f"/claims/{first.pk}/?from=my-day")
    assert 'name="queue" value="my-day"' in page.text and 'id="save-and-next"' in page.text
    response = client.post(
        f"/claims/{first.pk}/follow-up/",
        _follow_up(
            first,
            next_action=NextAction.CALL_PAYER,
            next_action_due=(today + dt.timedelta(days=5)).isoformat(),
            queue="my-day",
            rank=first.priority,
            then="next",
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == f"/claims/{second.pk}/?from=my-day"
    first.refresh_from_db()
    assert first.follow_up_count == 1


def test_save_and_next_at_the_end_goes_back_to_the_queue(world, make_claim, client_for, today):
    claim = make_claim()
    response = client_for(world.bill).post(
        f"/claims/{claim.pk}/next-action/",
        {
            "version": claim.version,
            "next_action": NextAction.CALL_PAYER,
            "next_action_due": (today + dt.timedelta(days=3)).isoformat(),
            "queue": "all-open",
            "rank": claim.priority,
            "then": "next",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/queues/all-open/"
    claim.refresh_from_db()
    assert claim.next_action == NextAction.CALL_PAYER


def test_an_unknown_queue_key_is_ignored(world, make_claim, client_for, today):
    claim = make_claim()
    response = client_for(world.bill).post(
        f"/claims/{claim.pk}/next-action/",
        {
            "version": claim.version,
            "next_action": NextAction.CALL_PAYER,
            "next_action_due": today.isoformat(),
            "queue": "elsewhere",
            "then": "next",
        },
    )
    assert response["Location"] == f"/claims/{claim.pk}/"


def test_the_page_has_what_a_caller_needs(world, make_claim, client_for):
    payer = factories.PayerFactory(
        practice=world.sunrise,
        claim_format=ClaimFormat.DENTAL,
        timely_filing_days=365,
        phone="800-555-0111",
        portal_url="https://portal.example.com/",
    )
    patient = factories.PatientFactory(practice=world.sunrise, date_of_birth=dt.date(1971, 2, 3))
    coverage = factories.CoverageFactory(
        patient=patient, payer=payer, member_id="MBR-778", group_number="GRP-12"
    )
    coverage.subscriber_name = "Harold Holder"
    coverage.save()
    claim = make_claim(patient=patient, coverage=coverage)
    Claim.objects.filter(pk=claim.pk).update(payer_claim_number="ICN-5501")
    html = client_for(world.bill).get(f"/claims/{claim.pk}/").text
    facts = html[html.index('id="caller-facts"') :]
    for fact in (
        "ICN-5501",
        "800-555-0111",
        "https://portal.example.com/",
        "MBR-778",
        "GRP-12",
        "Harold Holder",
        "02/03/1971",
    ):
        assert fact in facts, fact
    assert 'id="claim-practice">Sunrise Dental<' in html
    assert 'id="other-practice"' not in html


def test_a_claim_of_another_practice_than_the_switcher_says_so(world, client_for):
    build_scene(world)
    client = client_for(world.val)
    session = client.session
    session["practice_id"] = world.sunrise.pk
    session.save()
    html = client.get(f"/claims/{world.maple_claim.pk}/").text
    assert 'id="other-practice"' in html
    assert "<strong>Maple Family Medicine</strong>" in html


def test_the_scrub_card_shows_what_blocked_ready(world, make_claim, client_for):
    patient = factories.PatientFactory(practice=world.sunrise)
    coverage = factories.CoverageFactory(patient=patient, payer=make_claim.payer, member_id="")
    claim = make_claim(patient=patient, coverage=coverage)
    client = client_for(world.bill)
    response = client.post(
        f"/claims/{claim.pk}/transition/", {"version": claim.version, "to_status": "ready"}
    )
    assert response.status_code == 400
    card = response.text[response.text.index('id="findings"') :]
    assert "The coverage has no member id." in card[:2000]
    # stored too: the card of the claim after submission reads them
    assert claim.findings.filter(rule="missing_member_id").exists()
    assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.DRAFT


def test_the_scrub_card_flags_a_bad_diagnosis_pointer(world, client_for):
    practice = world.sunrise
    payer = factories.PayerFactory(
        practice=practice, claim_format=ClaimFormat.PROFESSIONAL, timely_filing_days=365
    )
    patient = factories.PatientFactory(practice=practice)
    claim = claim_factory.make(
        actor=world.bill,
        patient=patient,
        coverage=factories.CoverageFactory(patient=patient, payer=payer),
        provider=factories.ProviderFactory(practice=practice),
        number="DXPTR-1",
        owner=world.bill,
        diagnosis_codes=["J06.9"],
        lines=[{"procedure_code": "99213", "charge": "95.00", "diagnosis_pointers": [3]}],
    )
    html = client_for(world.bill).get(f"/claims/{claim.pk}/").text
    card = html[html.index('id="findings"') :]
    assert "points to a diagnosis the claim does not have" in card[:2000]


def _requested(
    world: Any, claim: Claim, label: str = "Narrative", kind: str = AttachmentKind.NARRATIVE
) -> Attachment:
    return attachments.attachment_add(actor=world.bill, claim=claim, kind=kind, label=label)


def test_attachment_moves_requested_received_sent(world, make_claim, client_for):
    claim = make_claim()
    attachment = _requested(world, claim)
    client = client_for(world.bill)
    url = f"/claims/{claim.pk}/attachments/{attachment.pk}/status/"
    # received needs the file
    response = client.post(url, {"status": AttachmentStatus.RECEIVED})
    assert response.status_code == 400
    attachment.refresh_from_db()
    assert attachment.status == AttachmentStatus.REQUESTED
    upload = SimpleUploadedFile("n.pdf", PDF, content_type="application/pdf")
    assert client.post(url, {"status": "received", "file": upload}).status_code == 302
    attachment.refresh_from_db()
    assert attachment.status == AttachmentStatus.RECEIVED and attachment.file
    assert client.post(url, {"status": "sent"}).status_code == 302
    attachment.refresh_from_db()
    assert attachment.status == AttachmentStatus.SENT
    # no way back
    assert client.post(url, {"status": "received"}).status_code == 400
    attachment.refresh_from_db()
    assert attachment.status == AttachmentStatus.SENT
    entries = ClaimActivity.objects.filter(
        claim=claim, kind=ActivityKind.ATTACHMENT, data__attachment=attachment.pk
    )
    assert entries.count() == 3  # requested, received, sent


# --- the permission matrix -------------------------------------------------------------


def _eob_requested(c: Case) -> None:
    Attachment.objects.filter(pk=c.world.eob.pk).update(status=AttachmentStatus.RECEIVED)


class TestAttachmentStatusMatrix(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        build_scene(world)

    endpoints = [
        Endpoint(
            "attachment status",
            "post",
            lambda w: f"/claims/{w.claim.pk}/attachments/{w.eob.pk}/status/",
            WORKERS,
            ok_status=302,
            data=lambda w: {"status": AttachmentStatus.SENT},
            route="claim-attachment-status",
            arrange=_eob_requested,
            done=lambda c: (
                Attachment.objects.get(pk=c.world.eob.pk).status == AttachmentStatus.SENT
            ),
        ),
        Endpoint(
            "attachment status api",
            "post",
            lambda w: f"/api/v1/claims/{w.claim.pk}/attachments/{w.eob.pk}/status/",
            WORKERS,
            api=True,
            data=lambda w: {"status": AttachmentStatus.SENT},
            route="api:api-claim-attachment-status",
            arrange=_eob_requested,
            done=lambda c: (
                Attachment.objects.get(pk=c.world.eob.pk).status == AttachmentStatus.SENT
            ),
        ),
    ]


def test_the_api_moves_an_attachment_through_the_service(world, make_claim, client_for):
    claim = make_claim()
    # vendor staff see non-clinical kinds only
    attachment = _requested(world, claim, "Primary EOB", AttachmentKind.EOB)
    client = client_for(world.vera)
    url = f"/api/v1/claims/{claim.pk}/attachments/{attachment.pk}/status/"
    response = client.post(url, {"status": "sent"}, content_type="application/json")
    assert response.status_code == 400 and "file" in response.json()
    upload = SimpleUploadedFile("n.pdf", PDF, content_type="application/pdf")
    response = client.post(url, {"status": "received", "file": upload})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "received" and response.json()["has_file"]
    attachment.refresh_from_db()
    assert attachment.status == AttachmentStatus.RECEIVED
    assert ClaimActivity.objects.filter(
        claim=claim, kind=ActivityKind.ATTACHMENT, actor=world.vera
    ).exists()
    # another claim's id with this attachment: not found
    other = make_claim()
    wrong = f"/api/v1/claims/{other.pk}/attachments/{attachment.pk}/status/"
    assert (
        client.post(wrong, {"status": "sent"}, content_type="application/json").status_code == 404
    )
