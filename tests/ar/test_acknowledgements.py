"""277CA import: accepted and rejected claims move through the claim services, the reason
shows in the Rejections queue, the same file again changes nothing, claim numbers that are
not this practice's are reported and not applied; the command, the page and the API."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone

from ar.ack_models import Acknowledgement, ClaimAcknowledgement
from ar.acknowledgements import acknowledgement_import, acknowledgement_run
from claims.choices import ActivityKind
from claims.models import Claim, ClaimActivity
from claims.services import claim_transition
from tests.ar.conftest import SAMPLES, sample

ACCEPTED = "imsweb-277ca-accepted.txt"
REJECTED = "imsweb-277ca-rejected.txt"
REJECTED_PCN = "3920394930203"


def upload(text: str, name: str = "ack.txt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/plain")


@pytest.fixture
def run(world):
    def do(text: str, *, actor=None, practice=None, dry_run=False) -> Acknowledgement:
        return acknowledgement_import(
            actor=actor or world.bill,
            practice=practice or world.sunrise,
            content=text.encode(),
            filename="ack.txt",
            dry_run=dry_run,
        )

    return do


def test_accepted_claim_moves_to_accepted_with_payer_number(world, make_claim, run):
    claim = make_claim("5781", "Tpatient", [("D1110", "125.00")])
    batch = run(sample(ACCEPTED))
    claim.refresh_from_db()
    assert (batch.status, batch.accepted_count, batch.rejected_count) == ("applied", 1, 0)
    assert claim.status == "accepted"
    assert claim.payer_claim_number == "1107000000014420"
    assert (claim.next_action, claim.wait_reason) == ("wait", "payer adjudication")
    assert claim.accepted_on_first_submission is True
    entry = ClaimActivity.objects.get(claim=claim, kind=ActivityKind.STATUS, data__to="accepted")
    assert entry.actor == world.bill and "A2:20" in entry.text


def test_rejected_claim_moves_to_rejected_with_reason_and_next_action(world, make_claim, run):
    claim = make_claim(REJECTED_PCN, "Clilname", [("D1110", "199.14")])
    batch = run(sample(REJECTED))
    claim.refresh_from_db()
    assert (batch.accepted_count, batch.rejected_count) == (0, 1)
    assert claim.status == "rejected"
    assert claim.rejection_reason.startswith("A7:562:85 rejected: something is invalid")
    assert claim.next_action == "correct_and_resubmit"
    assert claim.next_action_due == timezone.localdate()
    row = ClaimAcknowledgement.objects.get(claim=claim)
    assert (row.status_codes, row.outcome, row.applied) == ("A7:562:85", "rejected", True)


def test_same_file_again_changes_nothing(world, make_claim, run):
    claim = make_claim(REJECTED_PCN, "Clilname", [("D1110", "199.14")])
    run(sample(REJECTED))
    claim.refresh_from_db()
    version = claim.version
    entries = ClaimActivity.objects.filter(claim=claim).count()
    again = run(sample(REJECTED))
    claim.refresh_from_db()
    assert (again.rejected_count, again.already_count) == (0, 1)
    assert claim.version == version
    assert ClaimAcknowledgement.objects.filter(claim=claim, applied=True).count() == 1
    assert ClaimActivity.objects.filter(claim=claim).count() == entries


def test_claim_of_another_practice_or_unknown_is_reported_not_applied(world, make_claim, run):
    theirs = make_claim(
        "5781", "Tpatient", [("D1110", "125.00")], practice=world.maple, actor=world.mia
    )
    batch = run(sample(ACCEPTED))
    theirs.refresh_from_db()
    assert theirs.status == "submitted"
    assert (batch.unmatched_count, batch.accepted_count) == (1, 0)
    assert batch.entries[0]["level"] == "conflict"
    assert "5781 is not a claim of this practice" in batch.entries[0]["message"]
    row = ClaimAcknowledgement.objects.get(acknowledgement=batch)
    assert (row.claim, row.outcome, row.applied) == (None, "unmatched", False)

    unknown = run(sample(ACCEPTED).replace("TRN*2*5781~", "TRN*2*NOT-OURS~"))
    assert unknown.unmatched_count == 1
    assert "NOT-OURS is not a claim of this practice" in unknown.entries[0]["message"]


def test_malformed_stc_refuses_the_file_and_applies_nothing(world, make_claim, run):
    claim = make_claim("5781", "Tpatient", [("D1110", "125.00")])
    batch = run(sample(ACCEPTED).replace("STC*A2:20*", "STC*:20*"))
    claim.refresh_from_db()
    assert batch.status == "refused" and claim.status == "submitted"
    assert (batch.entries[0]["segment"], batch.entries[0]["segment_id"]) == (22, "STC")
    assert not ClaimAcknowledgement.objects.exists()


def test_dry_run_changes_no_claim(world, make_claim, run):
    claim = make_claim("5781", "Tpatient", [("D1110", "125.00")])
    batch = run(sample(ACCEPTED), dry_run=True)
    claim.refresh_from_db()
    assert (batch.status, batch.accepted_count, claim.status) == ("previewed", 1, "submitted")
    assert not ClaimAcknowledgement.objects.filter(applied=True).exists()


def test_a_claim_not_awaiting_an_answer_is_not_applied(world, make_claim, run):
    claim = make_claim("5781", "Tpatient", [("D1110", "125.00")], status="draft")
    batch = run(sample(ACCEPTED))
    claim.refresh_from_db()
    assert (batch.not_applied_count, claim.status) == (1, "draft")
    assert "is draft, not awaiting an answer" in batch.entries[0]["message"]


def test_command_prints_counts_and_fails_on_a_refused_file(world, make_claim, tmp_path):
    make_claim(REJECTED_PCN, "Clilname", [("D1110", "199.14")])
    out = StringIO()
    call_command(
        "import_acknowledgements", str(SAMPLES / REJECTED), "--practice", "sunrise", stdout=out
    )
    assert "accepted 0, rejected 1, unmatched 0, already applied 0" in out.getvalue()
    out = StringIO()
    call_command(
        "import_acknowledgements", str(SAMPLES / REJECTED), "--practice", "sunrise", stdout=out
    )
    assert "rejected 0, unmatched 0, already applied 1" in out.getvalue()

    broken = tmp_path / "broken.txt"
    broken.write_text(sample(ACCEPTED).replace("STC*A2:20*", "STC*:20*"))
    out = StringIO()
    with pytest.raises(CommandError, match="refused: nothing applied"):
        call_command(
            "import_acknowledgements", str(broken), "--practice", str(world.sunrise.pk), stdout=out
        )
    assert "segment 22 (STC)" in out.getvalue()


def test_page_upload_result_and_rejections_queue_column(world, make_claim, client_for):
    claim = make_claim(REJECTED_PCN, "Clilname", [("D1110", "199.14")])
    client = client_for(world.bill)
    response = client.post("/acknowledgements/", {"file": upload(sample(REJECTED))})
    batch = Acknowledgement.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/acknowledgements/{batch.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert REJECTED_PCN in page and "A7:562:85" in page and "billing provider NPI" in page

    queue = client.get("/queues/rejections/").content.decode()
    assert "Rejection reason" in queue and claim.pms_claim_number in queue
    assert "A7:562:85 rejected: something is invalid (billing provider NPI)" in queue

    bad = client.post("/acknowledgements/", {"file": upload("patient,amount\n")})
    assert bad.status_code == 400 and "not an X12 277CA file" in bad.content.decode()


def test_script_in_imported_fields_is_escaped(world, make_claim, client_for, run):
    make_claim("5781", "Tpatient", [("D1110", "125.00")])
    batch = run(sample(ACCEPTED).replace("REF*1K*1107000000014420", "REF*1K*<script>x</script>"))
    page = client_for(world.bill).get(f"/acknowledgements/{batch.pk}/").content.decode()
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page


def test_api_upload_queues_the_run_and_refuses_a_malformed_file(
    world, make_claim, client_for, django_capture_on_commit_callbacks
):
    claim = make_claim("5781", "Tpatient", [("D1110", "125.00")])
    client = client_for(world.bill)
    data = {"practice": world.sunrise.pk, "file": upload(sample(ACCEPTED))}
    with django_capture_on_commit_callbacks() as queued:
        response = client.post("/api/v1/acknowledgements/", data)
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["accepted_count"], body["status"]) == (0, "pending")
    assert len(queued) == 1  # the task, queued once the upload is committed
    assert response["Location"] == f"/api/v1/acknowledgements/{body['id']}/"
    acknowledgement_run(body["id"])  # what the worker does with the id
    detail = client.get(response["Location"]).json()
    assert (detail["accepted_count"], detail["status"]) == (1, "applied")
    assert detail["claims"][0]["claim"] == claim.pk
    assert Claim.objects.get(pk=claim.pk).status == "accepted"

    broken = sample(ACCEPTED).replace("STC*A2:20*", "STC*:20*")
    data = {"practice": world.sunrise.pk, "file": upload(broken)}
    queued_id = client.post("/api/v1/acknowledgements/", data).json()["id"]
    acknowledgement_run(queued_id)
    refused = client.get(f"/api/v1/acknowledgements/{queued_id}/").json()
    assert refused["status"] == "refused"
    assert refused["entries"][0]["segment"] == 22


def test_old_file_does_not_reject_a_resubmitted_claim_again(world, make_claim, run):
    claim = make_claim(REJECTED_PCN, "Clilname", [("D1110", "199.14")])
    run(sample(REJECTED))
    for status in ("draft", "ready", "submitted"):
        claim = claim_transition(actor=world.bill, claim=claim, to_status=status)
    again = run(sample(REJECTED))
    claim.refresh_from_db()
    assert (again.already_count, again.rejected_count, claim.status) == (1, 0, "submitted")
