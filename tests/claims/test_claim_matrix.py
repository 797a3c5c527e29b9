"""Every claim page, queue page, claims API endpoint and import route through the
permission matrix, and what releasing a claim and uploading an attachment from the claim
page actually do.

Who may: work_claims belongs to managers (sam), billers (bill) and vendor staff with
insurance billing (vera, val), never to front desk (fran) or verification-only staff (vic);
view_clinical_attachments to sam and bill only; view_kpis to sam and the vendor lead val
(practices/permissions.py). Queue and import pages are of the current practice, so mia,
who works claims at Maple, uses them there and never sees or changes Sunrise's.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from claims import attachments
from claims.choices import ActivityKind, AttachmentKind, AttachmentStatus, ClaimStatus, NextAction
from claims.imports import services as import_services
from claims.models import Attachment, Claim, ClaimActivity, ImportJob
from practices.choices import ClaimFormat
from tests import claim_factory, factories
from tests.permission_matrix import Case, Endpoint, PermissionMatrixMixin

WORKERS = frozenset({"sam", "bill", "vera", "val"})  # work_claims on Sunrise
CLINICAL = frozenset({"sam", "bill"})  # view_clinical_attachments on Sunrise
KPI_VIEWERS = frozenset({"sam", "val"})  # view_kpis on Sunrise
# Pages of the current practice: mia's is Maple, where she works claims.
WORKERS_ANYWHERE = WORKERS | {"mia"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
CLAIMS_CSV = Path(__file__).parent / "import_files" / "claims.csv"


def local_today() -> dt.date:
    """Today in the practice's time zone, read when a test uses it (a module-level
    constant read at import went stale when a run crossed midnight)."""
    return timezone.localdate()


# --- the scene: what the endpoints act on -----------------------------------------------


def _new_claim(practice: Any, actor: Any, number: str) -> Claim:
    payer = factories.PayerFactory(
        practice=practice, claim_format=ClaimFormat.DENTAL, timely_filing_days=365
    )
    patient = factories.PatientFactory(practice=practice)
    return claim_factory.make(
        actor=actor,
        patient=patient,
        coverage=factories.CoverageFactory(patient=patient, payer=payer),
        provider=factories.ProviderFactory(practice=practice),
        number=number,
        owner=actor,
    )


def _attach(world: Any, kind: str, name: str) -> Attachment:
    return attachments.attachment_add(
        actor=world.bill,
        claim=world.claim,
        kind=kind,
        label=name,
        status=AttachmentStatus.RECEIVED,
        file=SimpleUploadedFile(name, PDF),
    )


def build_scene(world: Any) -> None:
    """One open Sunrise claim of bill's, due today, with an EOB and an x-ray (clinical);
    one of mia's at Maple; a Sunrise import preview that passed."""
    world.claim = _new_claim(world.sunrise, world.bill, "MATRIX-SUN-1")
    world.maple_claim = _new_claim(world.maple, world.mia, "MATRIX-MAPLE-1")
    world.eob = _attach(world, AttachmentKind.EOB, "eob.pdf")
    world.xray = _attach(world, AttachmentKind.XRAY, "xray.pdf")
    preview = import_services.import_file(
        actor=world.bill,
        practice=world.sunrise,
        content=CLAIMS_CSV.read_bytes(),
        filename="matrix-preview.csv",
        dry_run=True,
    )
    ImportJob.objects.filter(pk=preview.pk).update(status="done")
    world.preview = preview


def claim_of(w: Any) -> Claim:
    return Claim.objects.get(pk=w.claim.pk)


def claim_url(w: Any, suffix: str = "") -> str:
    return f"/claims/{w.claim.pk}/{suffix}"


def api_url(w: Any, suffix: str = "") -> str:
    return f"/api/v1/claims/{w.claim.pk}/{suffix}"


def activity_by(c: Case, kind: str) -> bool:
    """The persona left an entry of this kind on the claim's timeline."""
    return ClaimActivity.objects.filter(claim=c.world.claim, kind=kind, actor=c.user).exists()


def hold_as_persona(c: Case) -> None:
    """The claim is held ("work next") by whoever asks, so that releasing it is theirs to
    do; anonymous requests find it held by bill."""
    holder = c.user or c.world.bill
    Claim.objects.filter(pk=c.world.claim.pk).update(
        locked_by=holder, locked_until=timezone.now() + dt.timedelta(minutes=30)
    )


def own_the_due_claim(c: Case) -> None:
    """The Sunrise claim is the persona's own and due: "work next" has it to hand out."""
    if c.user is not None and c.persona != "mia":  # mia has her own at Maple
        Claim.objects.filter(pk=c.world.claim.pk).update(owner=c.user)


def holds_a_claim(c: Case) -> bool:
    return c.user is not None and Claim.objects.filter(locked_by=c.user).exists()


def upload(name: str = "scan.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def uploaded(c: Case, label: str) -> bool:
    return (
        Attachment.objects.filter(claim=c.world.claim, label=label, requested_by=c.user)
        .exclude(file="")
        .exists()
    )


def version(w: Any) -> int:
    return claim_of(w).version


# --- the matrix ---------------------------------------------------------------------------


class TestClaimPages(PermissionMatrixMixin):
    """The claim page and its quick actions, and the work queues (pages of work/)."""

    @classmethod
    def extend_world(cls, world: Any) -> None:
        build_scene(world)

    endpoints = [
        Endpoint("claim page", "get", claim_url, WORKERS, route="claim-detail"),
        Endpoint(
            "next action",
            "post",
            lambda w: claim_url(w, "next-action/"),
            WORKERS,
            ok_status=302,
            data=lambda w: {
                "version": version(w),
                "next_action": NextAction.CALL_PAYER,
                "next_action_due": local_today().isoformat(),
            },
            route="claim-next-action",
            done=lambda c: claim_of(c.world).next_action == NextAction.CALL_PAYER,
        ),
        Endpoint(
            "follow-up",
            "post",
            lambda w: claim_url(w, "follow-up/"),
            WORKERS,
            ok_status=302,
            data=lambda w: {
                "version": version(w),
                "channel": "phone",
                "contact": "Ann at Delta",
                "outcome": "In review",
            },
            route="claim-follow-up",
            done=lambda c: activity_by(c, ActivityKind.FOLLOW_UP),
        ),
        Endpoint(
            "note",
            "post",
            lambda w: claim_url(w, "note/"),
            WORKERS,
            ok_status=302,
            data=lambda w: {"text": "Called the payer."},
            route="claim-note",
            done=lambda c: activity_by(c, ActivityKind.NOTE),
        ),
        Endpoint(
            "transition",
            "post",
            lambda w: claim_url(w, "transition/"),
            WORKERS,
            ok_status=302,
            data=lambda w: {"version": version(w), "to_status": ClaimStatus.VOID},
            route="claim-transition",
            done=lambda c: claim_of(c.world).status == ClaimStatus.VOID,
        ),
        Endpoint(
            "attachment upload",
            "post",
            lambda w: claim_url(w, "attachments/"),
            WORKERS,
            ok_status=302,
            multipart=True,
            data=lambda w: {
                "kind": AttachmentKind.EOB,
                "label": "Matrix EOB",
                "status": AttachmentStatus.RECEIVED,
                "file": upload(),
            },
            route="claim-attachment-add",
            done=lambda c: uploaded(c, "Matrix EOB"),
        ),
        Endpoint(
            "attachment download",
            "get",
            lambda w: claim_url(w, f"attachments/{w.eob.pk}/"),
            WORKERS,
            route="claim-attachment-download",
        ),
        # Clinical files: the practice's clinical roles only, never vendor staff.
        Endpoint(
            "clinical attachment download",
            "get",
            lambda w: claim_url(w, f"attachments/{w.xray.pk}/"),
            CLINICAL,
            route="claim-attachment-download",
        ),
        Endpoint(
            "release",
            "post",
            lambda w: claim_url(w, "release/"),
            WORKERS,
            ok_status=302,
            route="claim-release",
            arrange=hold_as_persona,
            done=lambda c: claim_of(c.world).locked_by_id is None,
        ),
        Endpoint(
            "queue",
            "get",
            lambda w: "/queues/all-open/",
            WORKERS,
            marker=lambda w: "MATRIX-SUN-1",
            route="queue",
        ),
        Endpoint(
            "queue filter panel",
            "get",
            lambda w: "/queues/all-open/filters/",
            WORKERS,
            # Sunrise's payer among the choices (mia's panel lists Maple's).
            marker=lambda w: f'<option value="{w.claim.payer_id}">{w.claim.payer.name}</option>',
            route="queue-filters",
        ),
        Endpoint(
            "work next",
            "post",
            lambda w: "/queues/work-next/",
            WORKERS_ANYWHERE,
            ok_status=302,
            # fran and vic verify eligibility at Sunrise: work next answers them (with no
            # claim to hand out: they do not work claims).
            denied_status={"fran": 302, "vic": 302},
            route="work-next",
            arrange=own_the_due_claim,
            done=holds_a_claim,
        ),
        # mia may bulk-change at Maple, fran and vic their eligibility checks: the Sunrise
        # claim is refused with a message.
        Endpoint(
            "bulk next action",
            "post",
            lambda w: "/queues/bulk/",
            WORKERS,
            ok_status=302,
            denied_status={"mia": 302, "fran": 302, "vic": 302},
            data=lambda w: {
                "items": [f"claim:{w.claim.pk}"],
                "next_action": NextAction.CALL_PAYER,
                "next_action_due": local_today().isoformat(),
            },
            route="queue-bulk",
            done=lambda c: claim_of(c.world).next_action == NextAction.CALL_PAYER,
        ),
        Endpoint(
            "owners",
            "get",
            lambda w: "/queues/owners/",
            KPI_VIEWERS,
            marker=lambda w: f"Open work by owner · {w.sunrise.name}",
            route="queue-owners",
        ),
    ]


class TestClaimApi(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        build_scene(world)

    endpoints = [
        Endpoint(
            "list",
            "get",
            lambda w: "/api/v1/claims/",
            WORKERS,
            api=True,
            marker=lambda w: w.claim.pk,
            route="api:api-claim-list",
        ),
        # Anybody else's patient, coverage and provider ids read as "Invalid pk".
        Endpoint(
            "create",
            "post",
            lambda w: "/api/v1/claims/",
            WORKERS,
            api=True,
            ok_status=201,
            denied_status=400,
            data=lambda w: {
                "patient": w.claim.patient_id,
                "coverage": w.claim.coverage_id,
                "provider": w.claim.provider_id,
                "pms_claim_number": "MATRIX-API-1",
                "service_date_from": (local_today() - dt.timedelta(days=5)).isoformat(),
                "lines": [{"procedure_code": "D1110", "charge": "120.00"}],
                "next_action": NextAction.CORRECT_AND_RESUBMIT,
                "next_action_due": local_today().isoformat(),
            },
            route="api:api-claim-list",
            done=lambda c: Claim.objects.filter(
                pms_claim_number="MATRIX-API-1", owner=c.user
            ).exists(),
        ),
        Endpoint(
            "work next",
            "post",
            lambda w: "/api/v1/claims/work-next/",
            WORKERS,
            api=True,
            data=lambda w: {"practice": w.sunrise.pk},
            route="api:api-claim-work-next",
            arrange=own_the_due_claim,
            done=holds_a_claim,
        ),
        Endpoint("detail", "get", api_url, WORKERS, api=True, route="api:api-claim-detail"),
        Endpoint(
            "patch",
            "patch",
            api_url,
            WORKERS,
            api=True,
            data=lambda w: {"version": version(w), "next_action": NextAction.CALL_PAYER},
            route="api:api-claim-detail",
            done=lambda c: claim_of(c.world).next_action == NextAction.CALL_PAYER,
        ),
        Endpoint(
            "activity",
            "get",
            lambda w: api_url(w, "activity/"),
            WORKERS,
            api=True,
            route="api:api-claim-activity",
        ),
        Endpoint(
            "attachments",
            "get",
            lambda w: api_url(w, "attachments/"),
            WORKERS,
            api=True,
            route="api:api-claim-attachments",
        ),
        Endpoint(
            "attachment upload",
            "post",
            lambda w: api_url(w, "attachments/"),
            WORKERS,
            api=True,
            ok_status=201,
            multipart=True,
            data=lambda w: {
                "kind": AttachmentKind.EOB,
                "label": "Matrix API EOB",
                "status": AttachmentStatus.RECEIVED,
                "file": upload(),
            },
            route="api:api-claim-attachments",
            done=lambda c: uploaded(c, "Matrix API EOB"),
        ),
        Endpoint(
            "follow-up",
            "post",
            lambda w: api_url(w, "follow-ups/"),
            WORKERS,
            api=True,
            ok_status=201,
            data=lambda w: {
                "version": version(w),
                "channel": "phone",
                "contact": "Ann at Delta",
                "outcome": "In review",
            },
            route="api:api-claim-follow-ups",
            done=lambda c: activity_by(c, ActivityKind.FOLLOW_UP),
        ),
        Endpoint(
            "note",
            "post",
            lambda w: api_url(w, "notes/"),
            WORKERS,
            api=True,
            ok_status=201,
            data=lambda w: {"text": "Called the payer."},
            route="api:api-claim-notes",
            done=lambda c: activity_by(c, ActivityKind.NOTE),
        ),
        Endpoint(
            "transition",
            "post",
            lambda w: api_url(w, "transition/"),
            WORKERS,
            api=True,
            data=lambda w: {"version": version(w), "to_status": ClaimStatus.VOID},
            route="api:api-claim-transition",
            done=lambda c: claim_of(c.world).status == ClaimStatus.VOID,
        ),
    ]


def _import_home(c: Case) -> Any:
    """Where the persona's import lands: the current practice (Maple for mia)."""
    return c.world.maple if c.persona == "mia" else c.world.sunrise


class TestImports(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        build_scene(world)

    endpoints = [
        Endpoint(
            "import page",
            "get",
            lambda w: "/imports/",
            WORKERS,
            marker=lambda w: "matrix-preview.csv",
            route="import-list",
        ),
        Endpoint(
            "import upload",
            "post",
            lambda w: "/imports/",
            WORKERS_ANYWHERE,
            ok_status=302,
            multipart=True,
            data=lambda w: {"file": upload("claims.csv", CLAIMS_CSV.read_bytes()), "kind": ""},
            route="import-list",
            done=lambda c: ImportJob.objects.filter(
                created_by=c.user, practice=_import_home(c), filename="claims.csv"
            ).exists(),
        ),
        Endpoint(
            "import detail",
            "get",
            lambda w: f"/imports/{w.preview.pk}/",
            WORKERS,
            route="import-detail",
        ),
        Endpoint(
            "import run",
            "post",
            lambda w: f"/imports/{w.preview.pk}/run/",
            WORKERS,
            ok_status=302,
            route="import-run",
            done=lambda c: ImportJob.objects.filter(
                created_by=c.user, practice=c.world.sunrise, dry_run=False
            ).exists(),
        ),
        Endpoint(
            "import template",
            "get",
            lambda w: "/imports/templates/claims.csv",
            WORKERS_ANYWHERE,
            route="import-template",
        ),
        Endpoint(
            "api imports",
            "get",
            lambda w: "/api/v1/imports/",
            WORKERS,
            api=True,
            marker=lambda w: w.preview.pk,
            route="api:api-import-list",
        ),
        # A practice the caller does not work claims at reads as an unknown id: 400.
        Endpoint(
            "api import upload",
            "post",
            lambda w: "/api/v1/imports/",
            WORKERS,
            api=True,
            ok_status=202,
            denied_status=400,
            multipart=True,
            data=lambda w: {
                "practice": w.sunrise.pk,
                "file": upload("claims.csv", CLAIMS_CSV.read_bytes()),
            },
            route="api:api-import-list",
            done=lambda c: ImportJob.objects.filter(
                created_by=c.user, practice=c.world.sunrise, filename="claims.csv"
            ).exists(),
        ),
        Endpoint(
            "api import",
            "get",
            lambda w: f"/api/v1/imports/{w.preview.pk}/",
            WORKERS,
            api=True,
            route="api:api-import-detail",
        ),
    ]


# --- release and upload from the claim page ---------------------------------------------


@pytest.fixture
def claim(world: Any, make_claim: Any) -> Claim:
    return make_claim()


def test_release_gives_the_claim_back_to_the_queue(world, client_for, claim):
    bill = client_for(world.bill)
    taken = bill.post("/queues/work-next/")
    assert taken["Location"] == f"/claims/{claim.pk}/?from=my-day"
    claim.refresh_from_db()
    assert claim.locked_by == world.bill and claim.locked_until is not None
    # Held: "work next" has nothing else to hand out.
    assert bill.post("/queues/work-next/")["Location"] == "/queues/my-day/"

    response = bill.post(f"/claims/{claim.pk}/release/")

    assert response.status_code == 302 and response["Location"] == "/queues/my-day/"
    claim.refresh_from_db()
    assert (claim.locked_by, claim.locked_until) == (None, None)
    # Released: the next "work next" hands it out again.
    assert bill.post("/queues/work-next/")["Location"] == f"/claims/{claim.pk}/?from=my-day"


def test_release_never_ends_somebody_elses_hold(world, client_for, claim):
    assert client_for(world.bill).post("/queues/work-next/").status_code == 302
    held = Claim.objects.values_list("locked_by", "locked_until", "version").get(pk=claim.pk)

    # val may work the claim, but the hold is bill's.
    response = client_for(world.val).post(f"/claims/{claim.pk}/release/")

    assert response.status_code == 302
    assert (
        Claim.objects.values_list("locked_by", "locked_until", "version").get(pk=claim.pk) == held
    )


def test_upload_from_the_claim_page_stores_the_file_and_logs_it(world, client_for, claim):
    bill = client_for(world.bill)

    response = bill.post(
        f"/claims/{claim.pk}/attachments/",
        {"kind": "eob", "label": "Primary EOB", "status": "received", "file": upload("eob.pdf")},
    )

    assert response.status_code == 302 and response["Location"] == f"/claims/{claim.pk}/"
    attachment = Attachment.objects.get(claim=claim)
    saved = (attachment.kind, attachment.label, attachment.status, attachment.requested_by)
    assert saved == ("eob", "Primary EOB", "received", world.bill)
    with attachment.file.open("rb") as stored:
        assert stored.read() == PDF
    entry = ClaimActivity.objects.get(claim=claim, kind=ActivityKind.ATTACHMENT)
    assert (entry.actor, entry.text) == (world.bill, "EOB “Primary EOB”: received")
    # The claim page lists it, and its download answers the same bytes.
    page = bill.get(f"/claims/{claim.pk}/")
    assert f"/claims/{claim.pk}/attachments/{attachment.pk}/" in page.text
    download = bill.get(f"/claims/{claim.pk}/attachments/{attachment.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF


@pytest.mark.parametrize(
    ("persona", "data", "error"),
    [
        # vera works the claim, but clinical kinds are the practice's to handle.
        ("vera", {"kind": "xray", "file": upload("bwx.pdf")}, "Select a valid choice"),
        ("bill", {"kind": "eob", "file": upload("scan.pdf", b"\x00\x01\xff" * 64)}, "Only PDF"),
        ("bill", {"kind": "eob", "status": "received"}, "Attach the file"),
    ],
    ids=["clinical-kind-as-vendor", "not-a-document", "received-without-file"],
)
def test_refused_upload_from_the_claim_page_saves_nothing(
    world, client_for, claim, persona, data, error
):
    body = {"label": "Scan", "status": "received", **data}

    response = client_for(world.users[persona]).post(f"/claims/{claim.pk}/attachments/", body)

    assert response.status_code == 400
    assert error in response.text
    assert not Attachment.objects.exists()
    assert not ClaimActivity.objects.filter(kind=ActivityKind.ATTACHMENT).exists()
