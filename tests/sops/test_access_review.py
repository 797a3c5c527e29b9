"""The quarterly access review (one per practice and quarter, confirm or revoke each vendor
account, revoked access gone on the next request, work handed on) and the idle vendor
account job (only idle vendor-only accounts, managers and the lead told, no patient data)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from claims.choices import ClaimStatus
from claims.models import Claim
from practices import services
from practices.choices import ClaimFormat, ServiceArea
from practices.models import Assignment, PracticeUserPermission, VendorStaff
from sops import access_reviews, function_services
from sops.access_review_models import AccessReview, AccessReviewLine, AccessReviewStatus
from sops.choices import BillingFunctionKind, SignOffStatus
from sops.sop_models import SopSignOffRequest
from tests import claim_factory, factories
from tests.conftest import login
from work.choices import NotificationKind
from work.models import Notification
from work.registry import registry
from work.services import ItemConflict

pytestmark = pytest.mark.django_db


def _claim(world: Any, owner: Any) -> Claim:
    patient = factories.PatientFactory(practice=world.sunrise, last_name="Claimant")
    return claim_factory.make(
        actor=world.bill,
        patient=patient,
        coverage=factories.CoverageFactory(
            patient=patient,
            payer=factories.PayerFactory(
                practice=world.sunrise, claim_format=ClaimFormat.DENTAL, timely_filing_days=365
            ),
        ),
        provider=factories.ProviderFactory(practice=world.sunrise),
        number="AR-SUN-1",
        owner=owner,
        status=ClaimStatus.SUBMITTED,
    )


@pytest.fixture
def ar(world: Any) -> Any:
    # Claim follow-up at Sunrise: bill owns it.
    function_services.billing_function_set(
        actor=world.sam,
        practice=world.sunrise,
        kind=BillingFunctionKind.CLAIM_FOLLOW_UP,
        owner=world.bill,
    )
    world.today = timezone.localdate()
    return world


def _review(world: Any) -> AccessReview:
    return AccessReview.objects.get(practice=world.sunrise)


def _line(review: AccessReview, user: Any) -> AccessReviewLine:
    return review.lines.get(user=user)


def test_the_job_run_twice_opens_one_review_per_practice_and_quarter(ar, client_for):
    assert access_reviews.open_quarterly_reviews(ar.today) == 2  # Sunrise and Maple
    assert access_reviews.open_quarterly_reviews(ar.today) == 0
    review = _review(ar)
    assert AccessReview.objects.filter(practice=ar.sunrise).count() == 1
    assert review.quarter == access_reviews.quarter_of(ar.today)
    assert (review.owner, review.next_action, review.is_open) == (ar.sam, "review", True)
    lines = {line.user.username: line for line in review.lines.all()}
    assert set(lines) == {"vera", "vic", "val"}
    assert lines["vera"].service_areas == [ServiceArea.INSURANCE_BILLING]
    assert lines["val"].is_lead and lines["val"].vendor_name == "Clearpath Billing"
    assert lines["vera"].last_login is None and lines["vera"].ends_on is None
    maple = AccessReview.objects.get(practice=ar.maple)
    assert (maple.owner, {line.user for line in maple.lines.all()}) == (ar.mia, {ar.val})
    # The next quarter opens a new one; the old one stays.
    later = dt.date(ar.today.year + 1, 1, 15)
    assert access_reviews.open_quarterly_reviews(later) == 2
    assert AccessReview.objects.filter(practice=ar.sunrise).count() == 2
    # A work item in the manager's My day, not in the biller's.
    page = client_for(ar.sam).get("/queues/my-day/")
    assert f"/sops/access-review/{review.pk}/" in page.text
    other = client_for(ar.bill).get("/queues/my-day/")
    assert f"/sops/access-review/{review.pk}/" not in other.text


def test_confirm_and_revoke_until_done(ar, client_for):
    claim = _claim(ar, owner=ar.vera)
    access_reviews.open_quarterly_reviews(ar.today)
    review = _review(ar)
    vera_client = client_for(ar.vera)
    assert vera_client.get(f"/claims/{claim.pk}/").status_code == 200

    review = access_reviews.access_review_decide(
        actor=ar.sam, line=_line(review, ar.vic), decision="confirmed", note="Still verifying"
    )
    review = access_reviews.access_review_decide(
        actor=ar.sam,
        line=_line(review, ar.vera),
        decision="revoked",
        expected_version=review.version,
    )
    assert review.is_open  # val's line is not decided yet
    # Revoked: the assignment ends with sam as the actor, vera's next request is refused,
    # her open claim went to the claim follow-up owner.
    assignment = Assignment.objects.get(staff__user=ar.vera, engagement__practice=ar.sunrise)
    assert assignment.revoked_at is not None
    assert assignment.history.first().history_user == ar.sam
    assert vera_client.get(f"/claims/{claim.pk}/").status_code == 404
    assert not PracticeUserPermission.objects.filter(user=ar.vera).exists()
    assert Claim.objects.get(pk=claim.pk).owner == ar.bill
    # Confirmed: vic keeps access.
    assert client_for(ar.vic).get(f"/patients/{ar.sunrise_patient.pk}/").status_code == 200
    line = _line(review, ar.vic)
    assert (line.decision, line.decided_by, line.note) == ("confirmed", ar.sam, "Still verifying")
    assert line.history.first().history_user == ar.sam

    review = access_reviews.access_review_decide(
        actor=ar.sam, line=_line(review, ar.val), decision="confirmed"
    )
    assert (review.status, review.completed_by) == (AccessReviewStatus.DONE, ar.sam)
    assert review.next_action == "" and review.next_action_due is None
    assert not AccessReview.objects.filter(status=AccessReviewStatus.OPEN, practice=ar.sunrise)


def test_decisions_refused(ar):
    access_reviews.open_quarterly_reviews(ar.today)
    review = _review(ar)
    line = _line(review, ar.vera)
    for outsider in (ar.bill, ar.fran, ar.val, ar.mia, ar.vera):
        with pytest.raises(PermissionDenied):
            access_reviews.access_review_decide(actor=outsider, line=line, decision="revoked")
    with pytest.raises(ValidationError):
        access_reviews.access_review_decide(actor=ar.sam, line=line, decision="maybe")
    with pytest.raises(ItemConflict):
        access_reviews.access_review_decide(
            actor=ar.sam, line=line, decision="confirmed", expected_version=review.version + 5
        )
    access_reviews.access_review_decide(actor=ar.sam, line=line, decision="confirmed")
    with pytest.raises(ValidationError):
        access_reviews.access_review_decide(actor=ar.sam, line=line, decision="revoked")
    # Ended elsewhere since the review opened: it cannot be confirmed any more.
    vic_line = _line(review, ar.vic)
    services.assignment_revoke(actor=ar.sam, assignment=vic_line.assignment)
    with pytest.raises(ValidationError):
        access_reviews.access_review_decide(actor=ar.sam, line=vic_line, decision="confirmed")
    access_reviews.access_review_decide(actor=ar.sam, line=vic_line, decision="revoked")
    assert _line(review, ar.vic).decision == "revoked"
    assert ar.vera.is_active and AccessReviewLine.objects.filter(decision="").count() >= 1


def test_the_page_decides_and_keeps_history(ar, client_for):
    access_reviews.open_quarterly_reviews(ar.today)
    review = _review(ar)
    sam = client_for(ar.sam)
    listing = sam.get("/sops/access-review/")
    assert listing.status_code == 200 and review.quarter in listing.text
    page = sam.get(f"/sops/access-review/{review.pk}/")
    assert "vera" in page.text and "Insurance billing" in page.text
    for user in (ar.vera, ar.vic, ar.val):
        current = AccessReview.objects.get(pk=review.pk)
        response = sam.post(
            f"/sops/access-review/{review.pk}/",
            {"line": _line(review, user).pk, "decision": "revoked", "version": current.version},
        )
        assert response.status_code == 302, response.content[:300]
    done = AccessReview.objects.get(pk=review.pk)
    assert done.status == AccessReviewStatus.DONE
    assert not VendorStaff.objects.get(user=ar.vic).assignments.filter(
        engagement__practice=ar.sunrise, revoked_at__isnull=True
    )
    # Stale version: refused with the reason, nothing saved.
    stale = sam.post(
        f"/sops/access-review/{review.pk}/",
        {"line": _line(review, ar.vera).pk, "decision": "confirmed", "version": 1},
    )
    assert stale.status_code == 400
    # A revoke without a fresh step-up is sent to confirm the password first.
    fresh = login(client_for(None), ar.sam, step_up=False)
    access_reviews.open_quarterly_reviews(dt.date(ar.today.year + 1, 1, 15))
    nxt = AccessReview.objects.get(practice=ar.maple, quarter=f"{ar.today.year + 1}-Q1")
    assert nxt.lines.count() == 1  # only val at Maple (Sunrise has no vendor account left)
    mia = login(client_for(None), ar.mia, step_up=False)
    response = mia.post(
        f"/sops/access-review/{nxt.pk}/",
        {"line": nxt.lines.get().pk, "decision": "revoked", "version": nxt.version},
    )
    assert response.status_code == 302 and "/account/step-up/" in response["Location"]
    assert nxt.lines.get().decision == ""
    assert fresh.get(f"/sops/access-review/{nxt.pk}/").status_code == 404  # sam: Maple's


# --- idle vendor accounts --------------------------------------------------------------------


@pytest.fixture
def idle(ar: Any) -> Any:
    now = timezone.now()
    users = get_user_model().objects
    users.filter(pk=ar.vera.pk).update(last_login=now - dt.timedelta(days=100))
    users.filter(pk=ar.vic.pk).update(last_login=now - dt.timedelta(days=10))
    users.filter(pk=ar.val.pk).update(last_login=now - dt.timedelta(days=1))
    # In-house staff idle for a year: never deactivated by this job.
    users.filter(pk=ar.bill.pk).update(last_login=now - dt.timedelta(days=365))
    # Vendor accounts that never signed in: counted from their creation.
    ned = factories.UserFactory(username="ned")
    users.filter(pk=ned.pk).update(date_joined=now - dt.timedelta(days=120))
    new = factories.UserFactory(username="nia")
    for user in (ned, new):
        staff = VendorStaff.objects.create(user=user, vendor=ar.engagements["sunrise"].vendor)
        services.assignment_set(
            actor=None,
            staff=staff,
            engagement=ar.engagements["sunrise"],
            service_areas=[ServiceArea.INSURANCE_BILLING],
        )
    ar.ned, ar.nia, ar.now = ned, new, now
    return ar


def _fresh(user: Any) -> Any:
    return get_user_model().objects.get(pk=user.pk)


def test_idle_job_deactivates_only_idle_vendor_accounts(idle, client_for):
    claim = _claim(idle, owner=idle.vera)
    vera_client = client_for(idle.vera)  # signing in sets last_login: back to 100 days
    get_user_model().objects.filter(pk=idle.vera.pk).update(
        last_login=idle.now - dt.timedelta(days=100)
    )
    assert access_reviews.deactivate_idle_vendor_accounts(idle.now) == 2
    assert access_reviews.deactivate_idle_vendor_accounts(idle.now) == 0
    active = {u.username: _fresh(u).is_active for u in idle.users.values()}
    active |= {"ned": _fresh(idle.ned).is_active, "nia": _fresh(idle.nia).is_active}
    assert {name for name, on in active.items() if not on} == {"vera", "ned"}
    # The system did it (no actor), access re-derived, the next request refused.
    assert _fresh(idle.vera).history.first().history_user is None
    assert not PracticeUserPermission.objects.filter(user=idle.vera).exists()
    assert vera_client.get(f"/claims/{claim.pk}/").status_code == 302  # signed out
    assert Claim.objects.get(pk=claim.pk).owner == idle.bill  # her work moved on
    # Sunrise's manager and the vendor lead are told about each; Maple's manager not.
    told = Notification.objects.filter(kind=NotificationKind.VENDOR_IDLE)
    assert {(n.user.username, n.message.split()[2]) for n in told} == {
        ("sam", "vera"),
        ("sam", "ned"),
        ("val", "vera"),
        ("val", "ned"),
    }
    patient = claim.patient
    phi = [patient.first_name, patient.last_name, patient.account_number, "Sunriser"]
    phi.append(patient.date_of_birth.strftime("%m/%d/%Y"))
    for note in told:
        assert note.practice == idle.sunrise
        assert "Clearpath Billing" in note.message and "Sunrise Dental" in note.message
        assert not any(value and value in note.message for value in phi), note.message
    ned_note = told.filter(user=idle.sam, message__contains="ned").get()
    assert "never signed in" in ned_note.message and "90 days" in ned_note.message


def test_idle_days_is_a_setting(idle, settings):
    settings.VENDOR_IDLE_DEACTIVATE_DAYS = 5
    assert access_reviews.deactivate_idle_vendor_accounts(idle.now) == 3  # vic too
    assert not _fresh(idle.vic).is_active and _fresh(idle.val).is_active
    assert _fresh(idle.nia).is_active  # made today


def test_the_api_decides_a_revoke_after_a_step_up(ar, client_for):
    access_reviews.open_quarterly_reviews(ar.today)
    review = _review(ar)
    url = f"/api/v1/access-reviews/{review.pk}/decide/"
    body = {"line": _line(review, ar.vera).pk, "decision": "revoked", "version": review.version}
    stale = login(client_for(None), ar.sam, step_up=False)
    refused = stale.post(url, body, content_type="application/json")
    assert refused.status_code == 403 and _line(review, ar.vera).decision == ""
    sam = client_for(ar.sam)
    listed = sam.get("/api/v1/access-reviews/").json()
    assert [row["id"] for row in listed["results"]] == [review.pk]
    response = sam.post(url, body, content_type="application/json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert {row["username"]: row["decision"] for row in data["lines"]}["vera"] == "revoked"
    assert not PracticeUserPermission.objects.filter(user=ar.vera).exists()
    again = sam.post(url, {**body, "version": data["version"]}, content_type="application/json")
    assert again.status_code == 400


def test_a_revoked_performers_sign_off_request_is_withdrawn_not_handed_over(world):
    """vera performs claim follow-up, so she has a sign-off request for the SOP's current
    version; bill, the function's owner, has his own. A sign-off is the person's: at the
    revoke hers is withdrawn (handing it to bill used to break the one-open-request rule
    and leave her work in Unassigned), his stays open, and the rest of her work moves."""
    from tests.sops import scene

    scene.build(world)
    open_before = SopSignOffRequest.objects.filter(status=SignOffStatus.OPEN)
    veras_before = set(open_before.filter(owner=world.vera).values_list("pk", flat=True))
    bills_before = set(open_before.filter(owner=world.bill).values_list("pk", flat=True))
    assert veras_before and bills_before
    access_reviews.open_quarterly_reviews(timezone.localdate())
    review = _review(world)

    access_reviews.access_review_decide(
        actor=world.sam, line=_line(review, world.vera), decision="revoked"
    )

    assert not PracticeUserPermission.objects.filter(user=world.vera).exists()
    veras = SopSignOffRequest.objects.filter(pk__in=veras_before)
    assert {(r.status, r.closed_at is not None) for r in veras} == {(SignOffStatus.WITHDRAWN, True)}
    assert (
        set(
            SopSignOffRequest.objects.filter(
                owner=world.bill, status=SignOffStatus.OPEN
            ).values_list("pk", flat=True)
        )
        == bills_before
    )
    for item_type in registry.types():
        assert not item_type.open_items().filter(owner=world.vera).exists(), item_type.key
    old = timezone.now() - dt.timedelta(days=200)
    get_user_model().objects.filter(pk=world.vic.pk).update(last_login=old)
    assert access_reviews.deactivate_idle_vendor_accounts() == 1
    assert not _fresh(world.vic).is_active
