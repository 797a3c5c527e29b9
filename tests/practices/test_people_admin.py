"""Account administration (issue 8): invitations by a one-time link that sets the password
and enrols MFA, role and area changes, end dates, vendor leads within their engagements,
and revocation that hands every open item over in one step."""

from __future__ import annotations

import base64
import datetime as dt
import re
import time
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from billing_ops.access import has_perm
from claims.choices import NextAction
from claims.models import Claim, ClaimActivity
from practices import invites, people_services
from practices import permissions as perms
from practices.choices import ClaimFormat, Role, ServiceArea
from practices.models import Assignment, Invite, Membership, VendorStaff
from practices.services import assignment_set, engagement_set, membership_revoke
from practices.stepup import SESSION_STEP_UP_AT
from tests import claim_factory, factories
from tests.conftest import login
from tests.permission_matrix import Case, Endpoint, PermissionMatrixMixin, database_fingerprint
from tests.workitems import registration as chore_registration
from tests.workitems.models import Chore
from work import services as work_services

User = get_user_model()
MANAGERS = frozenset({"sam"})
ADMINS = frozenset({"sam", "val"})  # the Sunrise manager, and the Clearpath lead there
STRONG = "a-Long-enough-pass-4821"


def _stepped_up(client: Client, practice: Any = None) -> Client:
    """Step-up done just now; and the switcher at ``practice`` (val has two practices)."""
    session = client.session
    session[SESSION_STEP_UP_AT] = int(time.time())
    if practice is not None:
        session["practice_id"] = practice.pk
    session.save()
    return client


def _arrange_step_up(c: Case) -> None:
    if c.user is not None:
        _stepped_up(c.client)


def _membership(w: Any, name: str) -> Membership:
    return Membership.objects.get(user=w.users[name], practice=w.sunrise)


def _assignment(w: Any, name: str = "vera") -> Assignment:
    return Assignment.objects.get(staff__user=w.users[name], engagement__practice=w.sunrise)


def _invite_data(w: Any, **extra: Any) -> dict[str, Any]:
    return {"practice": w.sunrise.pk, "email": "new@example.com", **extra}


class TestPeoplePages(PermissionMatrixMixin):
    endpoints = [
        Endpoint(
            "people page",
            "get",
            lambda w: "/people/",
            ADMINS,
            marker=lambda w: "vera",
            route="people",
            arrange=_arrange_step_up,
        ),
        Endpoint(
            "invite form",
            "get",
            lambda w: "/people/invite/",
            ADMINS,
            marker=lambda w: "Invite someone · Sunrise Dental",
            route="people-invite",
            arrange=_arrange_step_up,
        ),
        # A lead's form has no role: the request is a form error for them (nothing kept).
        Endpoint(
            "invite in-house",
            "post",
            lambda w: "/people/invite/",
            MANAGERS,
            ok_status=302,
            denied_status={"val": 200},
            data=lambda w: _invite_data(w, username="newbie", role=Role.BILLER),
            route="people-invite",
            arrange=_arrange_step_up,
            done=lambda c: Invite.objects.filter(username="newbie").exists(),
        ),
        Endpoint(
            "invite vendor staff",
            "post",
            lambda w: "/people/invite/",
            ADMINS,
            ok_status=302,
            data=lambda w: _invite_data(
                w,
                username="newvend",
                engagement=w.engagements["sunrise"].pk,
                service_areas=[ServiceArea.INSURANCE_BILLING],
            ),
            route="people-invite",
            arrange=_arrange_step_up,
            done=lambda c: Invite.objects.filter(username="newvend").exists(),
        ),
        Endpoint(
            "role form",
            "get",
            lambda w: f"/people/memberships/{_membership(w, 'fran').pk}/",
            MANAGERS,
            route="people-membership",
            arrange=_arrange_step_up,
        ),
        Endpoint(
            "change role",
            "post",
            lambda w: f"/people/memberships/{_membership(w, 'fran').pk}/",
            MANAGERS,
            ok_status=302,
            data=lambda w: {"practice": w.sunrise.pk, "role": Role.BILLER},
            route="people-membership",
            arrange=_arrange_step_up,
            done=lambda c: _membership(c.world, "fran").role == Role.BILLER,
        ),
        Endpoint(
            "assignment form",
            "get",
            lambda w: f"/people/assignments/{_assignment(w).pk}/",
            ADMINS,
            route="people-assignment",
            arrange=_arrange_step_up,
        ),
        Endpoint(
            "change areas",
            "post",
            lambda w: f"/people/assignments/{_assignment(w).pk}/",
            ADMINS,
            ok_status=302,
            data=lambda w: {
                "practice": w.sunrise.pk,
                "service_areas": [ServiceArea.INSURANCE_BILLING, ServiceArea.PATIENT_BILLING],
            },
            route="people-assignment",
            arrange=_arrange_step_up,
            done=lambda c: ServiceArea.PATIENT_BILLING in _assignment(c.world).service_areas,
        ),
        Endpoint(
            "end assignment on a date",
            "post",
            lambda w: f"/people/assignments/{_assignment(w).pk}/",
            ADMINS,
            ok_status=302,
            data=lambda w: {
                "practice": w.sunrise.pk,
                "service_areas": [ServiceArea.INSURANCE_BILLING],
                "ends_on": "2099-06-30",
            },
            route="people-assignment",
            arrange=_arrange_step_up,
            done=lambda c: _assignment(c.world).ends_on == dt.date(2099, 6, 30),
        ),
        Endpoint(
            "revoke membership page",
            "get",
            lambda w: f"/people/memberships/{_membership(w, 'bill').pk}/revoke/",
            MANAGERS,
            route="people-membership-revoke",
            arrange=_arrange_step_up,
        ),
        Endpoint(
            "revoke membership",
            "post",
            lambda w: f"/people/memberships/{_membership(w, 'bill').pk}/revoke/",
            MANAGERS,
            ok_status=302,
            data=lambda w: {"practice": w.sunrise.pk},
            route="people-membership-revoke",
            arrange=_arrange_step_up,
            done=lambda c: not _membership(c.world, "bill").is_active,
        ),
        Endpoint(
            "revoke assignment page",
            "get",
            lambda w: f"/people/assignments/{_assignment(w).pk}/revoke/",
            ADMINS,
            route="people-assignment-revoke",
            arrange=_arrange_step_up,
        ),
        Endpoint(
            "revoke assignment",
            "post",
            lambda w: f"/people/assignments/{_assignment(w).pk}/revoke/",
            ADMINS,
            ok_status=302,
            data=lambda w: {"practice": w.sunrise.pk},
            route="people-assignment-revoke",
            arrange=_arrange_step_up,
            done=lambda c: _assignment(c.world).revoked_at is not None,
        ),
    ]


# --- invitations ------------------------------------------------------------------------


def _accept_page(client: Client, link: str) -> tuple[Any, bytes]:
    page = client.get(link)
    assert page.status_code == 200
    secret = re.search(r'id="totp-secret">([A-Z2-7=]+)<', page.text)
    assert secret is not None
    return page, base64.b32decode(secret.group(1))


def _code(key: bytes) -> str:
    return f"{totp(key):06d}"


def _link_from_mail() -> str:
    assert len(mail.outbox) == 1
    found = re.search(r"http://testserver(/account/invite/[^/\s]+/)", mail.outbox[0].body)
    assert found is not None
    return found.group(1)


def test_a_manager_invites_a_biller_who_sets_password_and_mfa_once(world, client_for):
    manager = _stepped_up(client_for(world.sam))
    response = manager.post(
        "/people/invite/",
        _invite_data(world, username="nina", first_name="Nina", role=Role.BILLER),
    )
    assert response.status_code == 302
    invite = Invite.objects.get(username="nina")
    link = _link_from_mail()
    token = link.rstrip("/").rsplit("/", 1)[1]
    # Only the token's hash is stored.
    assert invite.token_hash == invites.token_digest(token) != token
    assert token not in str(list(Invite.objects.values_list()))
    lifetime = invite.expires_at - invite.created_at
    assert dt.timedelta(hours=72) - dt.timedelta(seconds=5) < lifetime <= dt.timedelta(hours=72)

    newcomer = Client()
    _, key = _accept_page(newcomer, link)
    response = newcomer.post(
        link, {"password": STRONG, "password_again": STRONG, "code": _code(key)}
    )

    assert response.status_code == 302
    assert response.url == "/account/mfa/recovery-codes/"
    nina = User.objects.get(username="nina")
    assert nina.check_password(STRONG)
    assert TOTPDevice.objects.get(user=nina).confirmed
    assert has_perm(nina, perms.WORK_CLAIMS, world.sunrise.pk)
    membership = Membership.objects.get(user=nina, practice=world.sunrise)
    assert membership.role == Role.BILLER
    assert membership.history.latest().history_user == world.sam  # the inviter is the actor
    assert int(newcomer.session[SESSION_KEY]) == nina.pk
    assert newcomer.session[DEVICE_ID_SESSION_KEY]  # verified: the enrolment was the second factor
    assert newcomer.get("/patients/").status_code == 200
    codes = newcomer.post("/account/mfa/recovery-codes/")  # no second step-up needed
    assert len(codes.context["codes"]) == 10
    # Single use: the link is dead now, for anybody.
    again = Client().get(link)
    assert again.status_code == 404
    assert invites.INVALID_LINK in again.text


def test_an_expired_invitation_creates_nothing(world):
    invite, token = invites.invite_create(
        actor=world.sam,
        practice=world.sunrise,
        username="late",
        email="l@example.com",
        role=Role.FRONT_DESK,
    )
    Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    client = Client()
    assert client.get(f"/account/invite/{token}/").status_code == 404
    with pytest.raises(ValidationError):
        invites.invite_accept(token=token, password=STRONG, totp_key=b"k" * 20, code="000000")
    assert not User.objects.filter(username="late").exists()
    invites.invite_create(
        actor=world.sam,
        practice=world.sunrise,
        username="soon",
        email="s@example.com",
        role=Role.FRONT_DESK,
    )
    listed = login(Client(), world.sam).get("/people/").context["invitations"]
    assert [i.username for i in listed] == ["soon"]  # open ones only, not the expired


def test_a_wrong_code_or_weak_password_keeps_the_link_usable(world):
    _, token = invites.invite_create(
        actor=world.sam,
        practice=world.sunrise,
        username="kim",
        email="k@example.com",
        role=Role.FRONT_DESK,
    )
    client = Client()
    link = f"/account/invite/{token}/"
    _, key = _accept_page(client, link)
    wrong = "000000" if _code(key) != "000000" else "111111"
    response = client.post(link, {"password": STRONG, "password_again": STRONG, "code": wrong})
    assert response.status_code == 200
    response = client.post(link, {"password": "123", "password_again": "123", "code": _code(key)})
    assert response.status_code == 200
    assert not User.objects.filter(username="kim").exists()
    assert Invite.objects.get(username="kim").accepted_at is None


def test_an_inviter_who_lost_the_right_grants_nothing(world, django_user_model):
    _, token = invites.invite_create(
        actor=world.sam,
        practice=world.sunrise,
        username="ghost",
        email="g@example.com",
        role=Role.BILLER,
    )
    root = django_user_model.objects.create_superuser("root", "root@example.com", "x")
    membership_revoke(actor=root, membership=_membership(world, "sam"))
    key = b"0123456789abcdefghij"
    with pytest.raises(ValidationError):
        invites.invite_accept(token=token, password=STRONG, totp_key=key, code=_code(key))
    assert not User.objects.filter(username="ghost").exists()


def test_a_lead_invites_their_own_staff_within_the_engagement(world, client_for):
    lead = _stepped_up(client_for(world.val), world.sunrise)
    engagement = world.engagements["sunrise"]
    response = lead.post(
        "/people/invite/",
        _invite_data(
            world,
            username="ned",
            engagement=engagement.pk,
            service_areas=[ServiceArea.PATIENT_BILLING],
            ends_on="2099-01-31",
        ),
    )
    assert response.status_code == 302
    link = _link_from_mail()
    newcomer = Client()
    _, key = _accept_page(newcomer, link)
    newcomer.post(link, {"password": STRONG, "password_again": STRONG, "code": _code(key)})
    ned = User.objects.get(username="ned")
    staff = VendorStaff.objects.get(user=ned)
    assert staff.vendor == engagement.vendor and not staff.is_lead
    assignment = Assignment.objects.get(staff=staff)
    assert assignment.service_areas == [ServiceArea.PATIENT_BILLING]
    assert assignment.ends_on == dt.date(2099, 1, 31)
    assert assignment.history.latest().history_user == world.val
    assert has_perm(ned, perms.WORK_PATIENT_BILLING, world.sunrise.pk)
    assert not has_perm(ned, perms.WORK_CLAIMS, world.sunrise.pk)


def test_leads_never_grant_a_role_or_more_than_the_engagement(world):
    engagement_set(
        actor=None,
        vendor=world.engagements["sunrise"].vendor,
        practice=world.sunrise,
        service_areas=[ServiceArea.INSURANCE_BILLING, ServiceArea.INSURANCE_VERIFICATION],
        primary_contact=world.sam,
        starts_on=dt.date(2026, 1, 1),
    )
    engagement = world.engagements["sunrise"]
    engagement.refresh_from_db()
    before = database_fingerprint()
    with pytest.raises(PermissionDenied):
        invites.invite_create(
            actor=world.val,
            practice=world.sunrise,
            username="x1",
            email="x@example.com",
            role=Role.PRACTICE_MANAGER,
        )
    with pytest.raises(ValidationError):
        invites.invite_create(
            actor=world.val,
            practice=world.sunrise,
            username="x2",
            email="x@example.com",
            engagement=engagement,
            service_areas=[ServiceArea.RECARE],
        )
    # Vendor staff who are not leads invite nobody; nor do managers of another practice.
    for actor in (world.vera, world.mia):
        with pytest.raises(PermissionDenied):
            invites.invite_create(
                actor=actor,
                practice=world.sunrise,
                username="x3",
                email="x@example.com",
                engagement=engagement,
                service_areas=[ServiceArea.INSURANCE_BILLING],
            )
    assert database_fingerprint() == before


# --- leads: their own staff only -------------------------------------------------------------


@pytest.fixture
def other_vendor_staff(world: Any) -> Assignment:
    """Olga of another vendor, engaged at Sunrise too."""
    vendor = factories.VendorFactory(name="Othervend", slug="othervend")
    engagement = engagement_set(
        actor=None,
        vendor=vendor,
        practice=world.sunrise,
        service_areas=ServiceArea.values,
        primary_contact=world.sam,
        starts_on=dt.date(2026, 1, 1),
    )
    olga = factories.UserFactory(username="olga")
    staff = VendorStaff.objects.create(user=olga, vendor=vendor)
    return assignment_set(
        actor=None, staff=staff, engagement=engagement, service_areas=[ServiceArea.RECARE]
    )


def test_a_lead_gets_404_for_other_vendors_staff_other_leads_and_themselves(
    world, client_for, other_vendor_staff
):
    lead = _stepped_up(client_for(world.val), world.sunrise)
    own = _assignment(world, "val")
    before = database_fingerprint()
    for assignment in (other_vendor_staff, own):
        for suffix in ("", "revoke/"):
            url = f"/people/assignments/{assignment.pk}/{suffix}"
            assert lead.get(url).status_code == 404, url
            data = {"practice": world.sunrise.pk, "service_areas": ServiceArea.values}
            assert lead.post(url, data).status_code == 404, url
    assert database_fingerprint() == before
    page = lead.get("/people/")
    assert "olga" not in page.text and "vera" in page.text


def test_a_lead_cannot_widen_an_assignment_beyond_the_engagement(world, client_for):
    engagement_set(
        actor=None,
        vendor=world.engagements["sunrise"].vendor,
        practice=world.sunrise,
        service_areas=[ServiceArea.INSURANCE_BILLING],
        primary_contact=world.sam,
        starts_on=dt.date(2026, 1, 1),
    )
    lead = _stepped_up(client_for(world.val), world.sunrise)
    vera = _assignment(world)
    response = lead.post(
        f"/people/assignments/{vera.pk}/",
        {"practice": world.sunrise.pk, "service_areas": [ServiceArea.RECARE]},
    )
    assert response.status_code == 200
    assert "Not in the engagement" in response.text
    vera.refresh_from_db()
    assert vera.service_areas == [ServiceArea.INSURANCE_BILLING]


def test_an_end_date_ends_access_after_that_day(world):
    vera = _assignment(world)
    today = timezone.localdate()
    people_services.assignment_end_on(actor=world.sam, assignment=vera, ends_on=today)
    assert has_perm(world.vera, perms.WORK_CLAIMS, world.sunrise.pk)
    with pytest.raises(ValidationError):
        people_services.assignment_end_on(
            actor=world.sam, assignment=vera, ends_on=today - dt.timedelta(days=1)
        )
    vera.refresh_from_db()
    assert vera.ends_on == today
    assert vera.history.latest().history_user == world.sam


def test_a_manager_cannot_change_their_own_role(world):
    with pytest.raises(ValidationError):
        people_services.membership_change_role(
            actor=world.sam, membership=_membership(world, "sam"), role=Role.FRONT_DESK
        )
    assert _membership(world, "sam").role == Role.PRACTICE_MANAGER


STEP_UP_WRITES = {
    "invite": lambda w: (
        "/people/invite/",
        _invite_data(w, username="newbie", role=Role.BILLER),
    ),
    "role": lambda w: (
        f"/people/memberships/{_membership(w, 'fran').pk}/",
        {"practice": w.sunrise.pk, "role": Role.BILLER},
    ),
    "areas and end date": lambda w: (
        f"/people/assignments/{_assignment(w).pk}/",
        {"practice": w.sunrise.pk, "service_areas": ["insurance_billing"], "ends_on": "2099-01-01"},
    ),
    "revoke membership": lambda w: (
        f"/people/memberships/{_membership(w, 'bill').pk}/revoke/",
        {"practice": w.sunrise.pk},
    ),
    "revoke assignment": lambda w: (
        f"/people/assignments/{_assignment(w).pk}/revoke/",
        {"practice": w.sunrise.pk},
    ),
}


@pytest.mark.parametrize("write", sorted(STEP_UP_WRITES))
def test_without_a_fresh_step_up_nothing_changes(world, write):
    client = login(Client(), world.sam, step_up=False)
    url, data = STEP_UP_WRITES[write](world)
    before = database_fingerprint()
    response = client.post(url, data)
    assert response.status_code == 302
    assert response.url.startswith("/account/step-up/")
    assert database_fingerprint() == before
    assert mail.outbox == []


def test_a_form_posted_for_another_practice_is_refused(world, client_for):
    client = _stepped_up(client_for(world.sam))
    response = client.post(
        f"/people/memberships/{_membership(world, 'fran').pk}/",
        {"practice": world.maple.pk, "role": Role.BILLER},
    )
    assert response.status_code == 404
    assert _membership(world, "fran").role == Role.FRONT_DESK


# --- revoking hands every open item over in one step --------------------------------------

OPEN_CLAIMS, OPEN_CHORES = 25, 300  # 325 items of two registered types


def _open_work_of_bill(world: Any) -> tuple[list[Claim], list[Chore]]:
    payer = factories.PayerFactory(
        practice=world.sunrise, claim_format=ClaimFormat.DENTAL, timely_filing_days=365
    )
    provider = factories.ProviderFactory(practice=world.sunrise)
    patient = factories.PatientFactory(practice=world.sunrise)
    coverage = factories.CoverageFactory(patient=patient, payer=payer)
    claims = [
        claim_factory.make(
            actor=world.bill,
            patient=patient,
            coverage=coverage,
            provider=provider,
            number=f"H{n:04d}",
            owner=world.bill,
            lines=[{"procedure_code": "D1110", "charge": Decimal("80.00")}],
            next_action=NextAction.CALL_PAYER,
        )
        for n in range(OPEN_CLAIMS)
    ]
    today = timezone.localdate()
    chores = [
        work_services.save_checked(
            Chore(
                practice=world.sunrise,
                title=f"chore {n}",
                owner=world.bill,
                next_action="do_it",
                next_action_due=today,
                version=0,
            ),
            actor=None,
        )
        for n in range(OPEN_CHORES)
    ]
    return claims, chores


def test_revoking_hands_all_325_items_over_in_one_request(world, client_for):
    claims, chores = _open_work_of_bill(world)
    membership = _membership(world, "bill")
    client = _stepped_up(client_for(world.sam))
    url = f"/people/memberships/{membership.pk}/revoke/"

    page = client.get(url)
    assert f"owns {OPEN_CLAIMS + OPEN_CHORES} open items" in page.text
    owners = page.context["form"].fields["new_owner"].queryset
    assert set(owners) == {world.sam, world.val}  # who may work claims and chores here

    activities = ClaimActivity.objects.count()
    chore_logs = len(chore_registration.LOG)
    response = client.post(url, {"practice": world.sunrise.pk, "new_owner": world.val.pk})

    assert response.status_code == 302
    assert not Membership.objects.get(pk=membership.pk).is_active
    assert Claim.objects.filter(owner=world.val, pk__in=[c.pk for c in claims]).count() == 25
    assert Chore.objects.filter(owner=world.val, pk__in=[c.pk for c in chores]).count() == 300
    assert not Claim.objects.filter(owner=world.bill).exists()
    assert not Chore.objects.filter(owner=world.bill).exists()
    # One timeline entry (and one history row) per item.
    assert ClaimActivity.objects.count() - activities == OPEN_CLAIMS
    assert len(chore_registration.LOG) - chore_logs == OPEN_CHORES
    for claim in claims[:3]:
        latest = claim.history.latest()
        assert latest.history_user == world.sam and latest.owner_id == world.val.pk
    # Nothing falls into Unassigned.
    assert client.get("/queues/unassigned/").context["rows"] == []


def test_revoking_an_owner_without_naming_a_successor_changes_nothing(world, client_for):
    _open_work_of_bill(world)
    membership = _membership(world, "bill")
    client = _stepped_up(client_for(world.sam))
    before = database_fingerprint()

    response = client.post(
        f"/people/memberships/{membership.pk}/revoke/", {"practice": world.sunrise.pk}
    )

    assert response.status_code == 200
    assert "choose who takes them over" in response.text
    assert database_fingerprint() == before


def test_a_successor_who_cannot_work_every_type_is_refused(world):
    _open_work_of_bill(world)
    membership = _membership(world, "bill")
    before = database_fingerprint()
    # vera works claims at Sunrise, but not chores (recare): nothing moves, nobody is revoked.
    with pytest.raises(ValidationError):
        people_services.membership_revoke_with_handover(
            actor=world.sam, membership=membership, new_owner=world.vera
        )
    assert database_fingerprint() == before


def test_the_access_page_revoke_no_longer_drops_open_work_silently(world, client_for):
    chore = work_services.save_checked(
        Chore(
            practice=world.sunrise,
            title="call back",
            owner=world.bill,
            next_action="do_it",
            next_action_due=timezone.localdate(),
            version=0,
        ),
        actor=None,
    )
    membership = _membership(world, "bill")

    response = client_for(world.sam).post(f"/access/memberships/{membership.pk}/revoke/")

    assert response.status_code == 302
    assert response.url == "/access/"
    assert Membership.objects.get(pk=membership.pk).is_active
    chore.refresh_from_db()
    assert chore.owner == world.bill
