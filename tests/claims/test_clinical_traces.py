"""No trace of a clinical attachment reaches a role without ``view_clinical_attachments``,
and the records that describe a model follow that model's visibility.

vera (vendor staff, insurance billing) works Sunrise claims but may not see clinical
attachments; bill (biller) and sam (manager) may. Each claim carries a clinical narrative
and a non-clinical EOB, added through ``claims.attachments.attachment_add``.
"""

from __future__ import annotations

import importlib
from typing import Any

import pgtrigger
import pytest
from django.apps import apps as django_apps
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from claims import attachments
from claims.choices import ActivityKind, AttachmentKind, AttachmentStatus
from claims.models import Attachment, Claim, ClaimActivity
from practices import services as access_services
from practices.choices import ServiceArea
from practices.models import Assignment
from work.choices import NotificationKind
from work.models import Notification

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
NARRATIVE = "Narrative for Dr Okafor: bone loss on #14"
EOB = "Primary EOB"
CLINICAL_READERS = ["bill", "sam"]
SEES_CLINICAL = {"vera": False, "bill": True, "sam": True}


def upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture
def scene(world: Any, make_claim: Any) -> Any:
    """A Sunrise claim with a received clinical narrative and a received EOB."""
    claim = make_claim()
    narrative = attachments.attachment_add(
        actor=world.bill,
        claim=claim,
        kind=AttachmentKind.NARRATIVE,
        label=NARRATIVE,
        status=AttachmentStatus.RECEIVED,
        file=upload("narrative.pdf"),
    )
    eob = attachments.attachment_add(
        actor=world.bill,
        claim=claim,
        kind=AttachmentKind.EOB,
        label=EOB,
        status=AttachmentStatus.RECEIVED,
        file=upload("eob.pdf"),
    )
    return claim, narrative, eob


def timeline_html(page: str) -> str:
    """The timeline card of the claim page, alone (the attachment list repeats labels)."""
    start = page.index('id="timeline"')
    return page[start : page.index("</ul>", start)]


def activity(client: Any, claim: Claim) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/claims/{claim.pk}/activity/")
    assert response.status_code == 200
    return response.json()["results"]


# --- the timeline: page and API ---------------------------------------------------------


def test_the_attachment_entry_names_its_attachment_and_whether_it_is_clinical(scene):
    claim, narrative, eob = scene

    entries = ClaimActivity.objects.filter(claim=claim, kind=ActivityKind.ATTACHMENT)

    assert {entry.text: entry.data for entry in entries} == {
        f"Narrative “{NARRATIVE}”: received": {"attachment": narrative.pk, "clinical": True},
        f"EOB “{EOB}”: received": {"attachment": eob.pk, "clinical": False},
    }


@pytest.mark.parametrize("persona", ["vera", "bill", "sam"])
def test_claim_page_timeline_shows_clinical_entries_only_to_clinical_roles(
    world, client_for, scene, persona
):
    claim, _narrative, _eob = scene

    response = client_for(world.users[persona]).get(f"/claims/{claim.pk}/")

    assert response.status_code == 200
    timeline = timeline_html(response.text)
    assert f"EOB “{EOB}”: received" in timeline
    assert (f"Narrative “{NARRATIVE}”: received" in timeline) is SEES_CLINICAL[persona]
    if not SEES_CLINICAL[persona]:
        # Not redacted either: nothing on the page says a narrative exists.
        assert NARRATIVE not in response.text
        assert "Narrative" not in timeline


@pytest.mark.parametrize("persona", ["vera", "bill", "sam"])
def test_activity_api_shows_clinical_entries_only_to_clinical_roles(
    world, client_for, scene, persona
):
    claim, narrative, eob = scene

    entries = activity(client_for(world.users[persona]), claim)

    shown = {e["data"].get("attachment") for e in entries if e["kind"] == ActivityKind.ATTACHMENT}
    expected = {narrative.pk, eob.pk} if SEES_CLINICAL[persona] else {eob.pk}
    assert shown == expected
    # The other entries (claim created, status moves) are the same for everyone.
    assert any(e["kind"] == ActivityKind.CREATED for e in entries)


def test_no_claim_api_answer_carries_the_clinical_attachment_for_vendor_staff(
    world, client_for, scene
):
    claim, narrative, _eob = scene
    vera = client_for(world.vera)

    for path in ["", "activity/", "attachments/"]:
        response = vera.get(f"/api/v1/claims/{claim.pk}/{path}")
        assert response.status_code == 200, path
        assert NARRATIVE not in response.text, path
        assert "narrative" not in response.text.lower(), path
    listing = vera.get("/api/v1/claims/")
    assert NARRATIVE not in listing.text


def test_activity_api_leaves_hidden_entries_out_of_the_page_itself(world, client_for, scene):
    """The rule sits in the queryset the cursor pages over, so hidden entries are not
    counted, fetched or serialized: the page holds every other entry of the claim."""
    claim, _narrative, _eob = scene
    for n in range(3):
        attachments.attachment_add(
            actor=world.bill, claim=claim, kind=AttachmentKind.XRAY, label=f"BWX {n}"
        )
    hidden = set(
        ClaimActivity.objects.filter(claim=claim, data__clinical=True).values_list("pk", flat=True)
    )
    everything = set(claim.activities.values_list("pk", flat=True))

    seen = {e["id"] for e in activity(client_for(world.vera), claim)}

    assert len(hidden) == 4
    assert seen == everything - hidden


def test_an_attachment_entry_that_does_not_say_it_is_non_clinical_is_hidden(
    world, client_for, make_claim
):
    """Fails closed: an entry without the flag (written before it, unreadable text) is
    treated as clinical."""
    claim = make_claim()
    ClaimActivity.objects.create(
        claim=claim, actor=world.bill, kind=ActivityKind.ATTACHMENT, text="Scan “BWX”: received"
    )

    for persona, expected in SEES_CLINICAL.items():
        user = world.users[persona]
        texts = [a.text for a in attachments.visible_activities(user, claim)]
        assert ("Scan “BWX”: received" in texts) is expected, persona
        client = client_for(user)
        assert ("BWX" in timeline_html(client.get(f"/claims/{claim.pk}/").text)) is expected
        assert any("BWX" in e["text"] for e in activity(client, claim)) is expected


# --- existing rows: the data migration ------------------------------------------------------


def test_migration_marks_the_attachment_entries_written_before_the_flag(world, make_claim):
    migration = importlib.import_module("claims.migrations.0005_attachment_activity_clinical_flag")
    claim = make_claim()
    xray = Attachment.objects.create(
        claim=claim, kind=AttachmentKind.XRAY, label="BWX “left”", requested_by=world.bill
    )

    def legacy(text: str) -> ClaimActivity:
        return ClaimActivity.objects.create(
            claim=claim, actor=world.bill, kind=ActivityKind.ATTACHMENT, text=text
        )

    clinical = legacy("X-ray / image “BWX “left””: requested")
    plain = legacy("Referral “From Dr Lee”: received")
    unreadable = legacy("something else")
    note = ClaimActivity.objects.create(
        claim=claim, actor=world.bill, kind=ActivityKind.NOTE, text="Narrative “x”: sent"
    )

    # 0005 runs before claims 0008 puts the append-only trigger on the timeline; here the
    # schema is the current one, so the trigger is set aside for this transaction only.
    with pgtrigger.ignore("claims.ClaimActivity:append_only"):
        migration.mark_entries(django_apps, None)
        migration.mark_entries(django_apps, None)  # a second run changes nothing

    for entry in (clinical, plain, unreadable, note):
        entry.refresh_from_db()
    assert clinical.data == {"clinical": True, "attachment": xray.pk}
    assert plain.data == {"clinical": False}  # no attachment with that label to link
    assert unreadable.data == {} and note.data == {}
    shown = set(attachments.visible_activities(world.vera, claim))
    assert plain in shown and note in shown
    assert clinical not in shown and unreadable not in shown


# --- files, history, admin ------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["vera", "bill", "sam"])
def test_download_by_url_follows_the_clinical_rule(world, client_for, scene, persona):
    claim, narrative, eob = scene
    client = client_for(world.users[persona])

    eob_response = client.get(f"/claims/{claim.pk}/attachments/{eob.pk}/")
    narrative_response = client.get(f"/claims/{claim.pk}/attachments/{narrative.pk}/")

    assert eob_response.status_code == 200
    assert narrative_response.status_code == (200 if SEES_CLINICAL[persona] else 404)
    # The stored file has no URL of its own: MEDIA_URL is not routed, for anyone.
    assert client.get(f"/media/{narrative.file.name}").status_code == 404


def test_attachment_history_and_the_timeline_have_no_page_of_their_own():
    """simple_history keeps every version of an attachment (kind, label); nothing shows it
    but the scoped attachment views: neither the model, its history nor the timeline rows
    are registered in the admin."""
    historical = Attachment.history.model  # type: ignore[attr-defined]
    for model in (Attachment, historical, ClaimActivity):
        assert not admin.site.is_registered(model), model


# --- other records that describe a model ----------------------------------------------------


@pytest.mark.parametrize("persona", ["vic", "mia", None])
def test_claim_timeline_follows_claim_visibility(world, client_for, scene, persona):
    """vic sees Sunrise patients but may not work claims; mia is of another practice."""
    claim, _narrative, _eob = scene
    client = client_for(world.users[persona] if persona else None)

    page = client.get(f"/claims/{claim.pk}/")
    api = client.get(f"/api/v1/claims/{claim.pk}/activity/")

    assert page.status_code in ((302,) if persona is None else (404,))
    assert api.status_code in ((401, 403) if persona is None else (404,))
    assert NARRATIVE not in page.text + api.text and EOB not in page.text + api.text


def notify(world: Any, claim: Claim) -> Notification:
    return Notification.objects.create(
        user=world.vera,
        practice=world.sunrise,
        item_type="claim",
        item_id=claim.pk,
        kind=NotificationKind.FILING_30,
        message=f"Claim {claim.pms_claim_number}: timely filing soon",
        for_date=timezone.localdate(),
        dedupe_key=f"test:{claim.pk}",
    )


def vera_sees(client_for: Any, world: Any, claim: Claim) -> tuple[bool, bool]:
    client = client_for(world.vera)
    page = client.get("/notifications/")
    api = client.get("/api/v1/notifications/")
    assert page.status_code == 200 and api.status_code == 200
    return claim.pms_claim_number in page.text, claim.pms_claim_number in api.text


def test_notifications_of_a_practice_the_user_no_longer_sees_are_hidden(world, client_for, scene):
    claim, _narrative, _eob = scene
    notify(world, claim)
    assert vera_sees(client_for, world, claim) == (True, True)

    assignment = Assignment.objects.get(staff__user=world.vera)
    access_services.assignment_revoke(actor=world.sam, assignment=assignment)

    # vera sees no practice now; the notification pages answer with nothing of Sunrise.
    client = client_for(world.vera)
    for path in ("/notifications/", "/api/v1/notifications/"):
        response = client.get(path)
        assert claim.pms_claim_number not in response.text, path


def test_notifications_of_a_claim_the_user_may_no_longer_work_are_hidden(world, client_for, scene):
    """vera moves to insurance verification: she still sees Sunrise (and its patients),
    but not its claims, so a reminder naming a claim must go too."""
    claim, _narrative, _eob = scene
    notify(world, claim)
    assignment = Assignment.objects.get(staff__user=world.vera)
    access_services.assignment_set(
        actor=world.sam,
        staff=assignment.staff,
        engagement=assignment.engagement,
        service_areas=[ServiceArea.INSURANCE_VERIFICATION],
    )
    assert client_for(world.vera).get(f"/claims/{claim.pk}/").status_code == 404

    assert vera_sees(client_for, world, claim) == (False, False)
