"""Sign-in, lockout, second factor, session limits, revocation and the access rules."""

from __future__ import annotations

import datetime as dt
import io
import re
import time
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from billing_ops.access import has_perm
from billing_ops.middleware import SESSION_LAST_SEEN, SESSION_STARTED
from practices import permissions as perms
from practices import services
from practices.choices import ServiceArea
from practices.models import Assignment, Membership, PracticeUserPermission, VendorStaff
from tests import factories

PASSWORD = "test-pass-123"
LOGIN_URL = "/account/login/"
SETUP_URL = "/account/mfa/setup/"
VERIFY_URL = "/account/mfa/verify/"


def form_login(client: Client, username: str, password: str = PASSWORD, ip: str = "10.0.0.1"):
    """Sign in through the real login form (axes, session rotation, session clock)."""
    return client.post(LOGIN_URL, {"username": username, "password": password}, REMOTE_ADDR=ip)


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def wrong_code(device: TOTPDevice) -> str:
    """A six-digit code that no step within the device's tolerance accepts."""
    accepted = {
        f"{totp(device.bin_key, drift=drift):06d}"
        for drift in range(-device.tolerance - 1, device.tolerance + 2)
    }
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in accepted)


def page_text(response: Any, username: str) -> str:
    """The body with the echoed username and the per-render CSRF token blanked out."""
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", response.text)
    return text.replace(username, "USERNAME")


def is_signed_in(client: Client) -> bool:
    return SESSION_KEY in client.session


# --- lockout (django-axes) --------------------------------------------------------------


class TestLockout:
    def test_sixth_attempt_is_locked_out_even_with_the_right_password(self, world, client):
        limit = django_settings.AXES_FAILURE_LIMIT
        assert limit == 5
        for _ in range(limit - 1):
            response = form_login(client, "fran", "wrong-password", ip="10.1.0.1")
            assert response.status_code == 200
            assert "Please enter a correct username and password" in response.text
        # The limit-th failure already trips the lock.
        assert form_login(client, "fran", "wrong-password", ip="10.1.0.1").status_code == 429

        response = form_login(client, "fran", PASSWORD, ip="10.1.0.1")

        assert response.status_code == 429
        assert "registration/locked_out.html" in [t.name for t in response.templates]
        assert "Too many failed sign-ins" in response.text
        assert not is_signed_in(client)

    # Pair lock, per-account limit and the proxy header: tests/practices/test_lockout.py.

    def test_unknown_username_gets_the_same_answer_as_a_known_one(self, world):
        known, unknown = Client(), Client()
        known_answers, unknown_answers = [], []
        for _ in range(6):
            r = form_login(known, "fran", "wrong-password", ip="10.4.0.1")
            known_answers.append((r.status_code, page_text(r, "fran")))
            r = form_login(unknown, "ghost", "wrong-password", ip="10.4.0.2")
            unknown_answers.append((r.status_code, page_text(r, "ghost")))

        assert known_answers == unknown_answers
        assert known_answers[-1][0] == 429
        # Locked out answers carry no username at all, so they are byte-identical.
        locked_known = form_login(known, "fran", PASSWORD, ip="10.4.0.1")
        locked_unknown = form_login(unknown, "ghost", PASSWORD, ip="10.4.0.2")
        assert locked_known.status_code == locked_unknown.status_code == 429
        assert locked_known.content == locked_unknown.content

    def test_reset_lifts_the_lock(self, world, client):
        from axes.utils import reset

        for _ in range(5):
            form_login(client, "fran", "wrong-password", ip="10.5.0.1")
        assert form_login(client, "fran", PASSWORD, ip="10.5.0.1").status_code == 429

        assert reset(username="fran") >= 1
        reset(ip="10.5.0.1")

        response = form_login(client, "fran", PASSWORD, ip="10.5.0.1")
        assert response.status_code == 302
        assert is_signed_in(client)


# --- sign-in --------------------------------------------------------------------------


class TestSignIn:
    def test_login_rotates_the_session_id_and_lands_on_home(self, world, client):
        session = client.session  # an anonymous session with its cookie
        session["practice_id"] = world.sunrise.pk
        session.save()
        before = client.cookies[django_settings.SESSION_COOKIE_NAME].value

        response = form_login(client, "fran", ip="10.6.0.1")

        assert response.status_code == 302
        assert response.url == "/"
        after = client.cookies[django_settings.SESSION_COOKIE_NAME].value
        assert after and after != before
        assert not SessionStore().exists(before)
        assert client.session[SESSION_KEY] == str(world.fran.pk)
        assert isinstance(client.session[SESSION_STARTED], int)
        assert client.session[SESSION_LAST_SEEN] == client.session[SESSION_STARTED]

        home = client.get("/", follow=True)
        assert home.redirect_chain == [("/day-sheet/", 302)]  # the front desk lands on its day
        assert home.status_code == 200
        assert "Sunriser" in home.text

    def test_login_follows_a_safe_next(self, world, client):
        response = client.post(
            f"{LOGIN_URL}?next=/access/",
            {"username": "fran", "password": PASSWORD},
            REMOTE_ADDR="10.6.0.2",
        )
        assert response.status_code == 302
        assert response.url == "/access/"

    def test_wrong_password_does_not_sign_in(self, world, client):
        response = form_login(client, "fran", "nope", ip="10.6.0.3")
        assert response.status_code == 200
        assert not is_signed_in(client)
        assert client.get("/patients/").status_code == 302


# --- second factor --------------------------------------------------------------------


class TestMfa:
    @pytest.mark.parametrize("name", ["sam", "vera"])
    def test_enrolment_is_required_before_any_page(self, world, client, name):
        assert form_login(client, name, ip="10.7.0.1").status_code == 302

        home = client.get("/")
        assert home.status_code == 302
        assert home.url == f"{SETUP_URL}?next=/"
        patients = client.get("/patients/")
        assert patients.status_code == 302
        assert patients.url == f"{SETUP_URL}?next=/patients/"

        setup = client.get(patients.url)
        assert setup.status_code == 200
        device = TOTPDevice.objects.get(user=world.users[name])
        assert not device.confirmed
        assert "data:image/svg+xml;base64," in setup.text

    @pytest.mark.parametrize("name", ["sam", "vera"])
    def test_wrong_code_shows_an_error_and_stays_unconfirmed(self, world, client, name):
        form_login(client, name, ip="10.7.0.2")
        client.get(SETUP_URL)
        device = TOTPDevice.objects.get(user=world.users[name], confirmed=False)

        response = client.post(SETUP_URL, {"token": wrong_code(device), "next": "/patients/"})

        assert response.status_code == 200
        assert "That code did not match" in response.text
        assert response.context["form"].errors["token"]
        device.refresh_from_db()
        assert not device.confirmed
        assert client.get("/patients/").status_code == 302

    def test_malformed_code_is_a_field_error(self, world, client):
        form_login(client, "sam", ip="10.7.0.3")
        client.get(SETUP_URL)

        response = client.post(SETUP_URL, {"token": "12ab"})

        assert response.status_code == 200
        assert "Enter the six digits" in response.text
        assert not TOTPDevice.objects.get(user=world.sam).confirmed

    @pytest.mark.parametrize("name", ["sam", "vera"])
    def test_correct_code_confirms_the_device_and_opens_the_pages(self, world, client, name):
        form_login(client, name, ip="10.7.0.4")
        assert client.get("/patients/").status_code == 302
        client.get(SETUP_URL)
        device = TOTPDevice.objects.get(user=world.users[name], confirmed=False)

        response = client.post(SETUP_URL, {"token": current_code(device), "next": "/patients/"})

        assert response.status_code == 302
        assert response.url == "/patients/"
        device.refresh_from_db()
        assert device.confirmed
        page = client.get("/patients/")
        assert page.status_code == 200
        assert "Sunriser" in page.text
        # Enrolment is done: the setup page now sends to verification.
        assert client.get(SETUP_URL).url.startswith(VERIFY_URL)

    def test_retry_after_a_wrong_code_works_once_the_throttle_passes(self, world, client):
        form_login(client, "sam", ip="10.7.0.5")
        client.get(SETUP_URL)
        device = TOTPDevice.objects.get(user=world.sam, confirmed=False)
        client.post(SETUP_URL, {"token": wrong_code(device)})
        # The user takes a few seconds to read the next code.
        TOTPDevice.objects.filter(pk=device.pk).update(
            throttling_failure_timestamp=timezone.now() - dt.timedelta(seconds=10)
        )

        response = client.post(SETUP_URL, {"token": current_code(device)})

        assert response.status_code == 302
        device.refresh_from_db()
        assert device.confirmed

    def test_enrolled_user_is_sent_to_verify_and_a_correct_code_lets_them_in(self, world, client):
        device = TOTPDevice.objects.create(user=world.sam, name="phone", confirmed=True)
        form_login(client, "sam", ip="10.7.0.6")

        redirect = client.get("/patients/")
        assert redirect.status_code == 302
        assert redirect.url == f"{VERIFY_URL}?next=/patients/"
        assert client.get(SETUP_URL).url.startswith(VERIFY_URL)

        bad = client.post(VERIFY_URL, {"token": wrong_code(device), "next": "/patients/"})
        assert bad.status_code == 200
        assert "That code did not match" in bad.text
        assert client.get("/patients/").status_code == 302

        TOTPDevice.objects.filter(pk=device.pk).update(
            throttling_failure_timestamp=timezone.now() - dt.timedelta(seconds=10)
        )
        good = client.post(VERIFY_URL, {"token": current_code(device), "next": "/patients/"})
        assert good.status_code == 302
        assert good.url == "/patients/"
        assert client.get("/patients/").status_code == 200

    def test_verify_refuses_an_offsite_next(self, world, client):
        device = TOTPDevice.objects.create(user=world.sam, name="phone", confirmed=True)
        form_login(client, "sam", ip="10.7.0.7")

        response = client.post(
            VERIFY_URL, {"token": current_code(device), "next": "https://evil.example/"}
        )

        assert response.status_code == 302
        assert response.url == "/"

    def test_front_desk_needs_no_second_factor(self, world, client):
        form_login(client, "fran", ip="10.7.0.8")

        assert client.get("/patients/").status_code == 200
        assert not TOTPDevice.objects.filter(user=world.fran).exists()

    def test_api_with_session_of_unverified_manager_is_403_json(self, world, client):
        form_login(client, "sam", ip="10.7.0.9")

        response = client.get("/api/v1/patients/")

        assert response.status_code == 403
        assert response["Content-Type"] == "application/json"
        assert "Second factor required" in response.json()["detail"]


# --- idle and absolute session limits -------------------------------------------------


def _age_session(client: Client, **values: int) -> None:
    session = client.session
    session.update(values)
    session.save()


class TestSessionLimits:
    def test_idle_session_is_signed_out(self, world, client):
        form_login(client, "fran", ip="10.8.0.1")
        assert client.get("/patients/").status_code == 200
        idle = django_settings.SESSION_IDLE_TIMEOUT + 5
        _age_session(client, **{SESSION_LAST_SEEN: int(time.time()) - idle})

        response = client.get("/patients/")

        assert response.status_code == 302
        assert response.url == f"{LOGIN_URL}?next=/patients/"
        assert not is_signed_in(client)
        login_page = client.get(response.url)
        assert "signed out after inactivity" in login_page.text
        assert client.get("/patients/").status_code == 302

    def test_activity_within_the_idle_limit_keeps_the_session(self, world, client):
        form_login(client, "fran", ip="10.8.0.2")
        idle = django_settings.SESSION_IDLE_TIMEOUT - 60
        _age_session(client, **{SESSION_LAST_SEEN: int(time.time()) - idle})

        assert client.get("/patients/").status_code == 200
        assert is_signed_in(client)
        # The request refreshed the clock.
        assert int(time.time()) - client.session[SESSION_LAST_SEEN] < 5

    def test_idle_timeout_is_configurable(self, world, client, settings):
        form_login(client, "fran", ip="10.8.0.3")
        _age_session(client, **{SESSION_LAST_SEEN: int(time.time()) - 120})
        assert client.get("/patients/").status_code == 200  # default: 30 minutes
        assert is_signed_in(client)

        settings.SESSION_IDLE_TIMEOUT = 60
        _age_session(client, **{SESSION_LAST_SEEN: int(time.time()) - 65})

        response = client.get("/patients/")
        assert response.status_code == 302
        assert response.url.startswith(LOGIN_URL)
        assert not is_signed_in(client)

    def test_absolute_limit_signs_out_an_active_session(self, world, client):
        form_login(client, "fran", ip="10.8.0.4")
        now = int(time.time())
        started = now - django_settings.SESSION_ABSOLUTE_TIMEOUT - 5
        _age_session(client, **{SESSION_STARTED: started, SESSION_LAST_SEEN: now})

        response = client.get("/patients/")

        assert response.status_code == 302
        assert response.url.startswith(LOGIN_URL)
        assert not is_signed_in(client)
        assert "maximum session length" in client.get(response.url).text

    def test_api_answers_401_for_an_idle_session(self, world, client_for):
        client = client_for(world.fran)
        assert client.get("/api/v1/patients/").status_code == 200
        idle = django_settings.SESSION_IDLE_TIMEOUT + 5
        _age_session(client, **{SESSION_LAST_SEEN: int(time.time()) - idle})

        response = client.get("/api/v1/patients/")

        assert response.status_code == 401
        assert "inactivity" in response.json()["detail"]
        assert not is_signed_in(client)

    def test_api_answers_401_after_the_absolute_limit(self, world, client_for):
        client = client_for(world.bill)
        now = int(time.time())
        started = now - django_settings.SESSION_ABSOLUTE_TIMEOUT - 5
        _age_session(client, **{SESSION_STARTED: started, SESSION_LAST_SEEN: now})

        response = client.get("/api/v1/patients/")

        assert response.status_code == 401
        assert "maximum session length" in response.json()["detail"]


# --- revocation takes effect on the next request --------------------------------------


def _api_patient_practices(client: Client) -> set[int]:
    response = client.get("/api/v1/patients/")
    assert response.status_code == 200
    return {row["practice"] for row in response.json()["results"]}


class TestRevocation:
    def test_assignment_revoke_applies_on_the_next_request(self, world, client_for):
        vera, sam = client_for(world.vera), client_for(world.sam)
        url = f"/patients/{world.sunrise_patient.pk}/"
        assert vera.get(url).status_code == 200
        assert _api_patient_practices(vera) == {world.sunrise.pk}
        assignment = Assignment.objects.get(staff__user=world.vera)

        response = sam.post(f"/access/assignments/{assignment.pk}/revoke/")

        assert response.status_code == 302
        assert response.url == "/access/"
        assert vera.get(url).status_code == 404
        assert _api_patient_practices(vera) == set()
        assignment.refresh_from_db()
        assert assignment.revoked_at is not None
        # Others on the same engagement keep their access.
        assert client_for(world.vic).get(url).status_code == 200

    def test_membership_revoke_applies_on_the_next_request(self, world, client_for):
        fran, sam = client_for(world.fran), client_for(world.sam)
        url = f"/patients/{world.sunrise_patient.pk}/"
        assert fran.get(url).status_code == 200
        assert _api_patient_practices(fran) == {world.sunrise.pk}
        membership = Membership.objects.get(user=world.fran, practice=world.sunrise)

        response = sam.post(f"/access/memberships/{membership.pk}/revoke/")

        assert response.status_code == 302
        assert fran.get(url).status_code == 404
        assert _api_patient_practices(fran) == set()
        membership.refresh_from_db()
        assert not membership.is_active

    def test_manager_cannot_revoke_their_own_membership(self, world, client_for):
        sam = client_for(world.sam)
        own = Membership.objects.get(user=world.sam)

        response = sam.post(f"/access/memberships/{own.pk}/revoke/", follow=True)

        assert "You cannot revoke your own access" in response.text
        own.refresh_from_db()
        assert own.is_active

    def test_non_manager_cannot_revoke_through_the_page(self, world, client_for):
        membership = Membership.objects.get(user=world.bill)

        response = client_for(world.fran).post(f"/access/memberships/{membership.pk}/revoke/")

        assert response.status_code == 404
        membership.refresh_from_db()
        assert membership.is_active

    def test_deactivated_user_is_refused_on_the_next_request(self, world, client_for):
        buf = io.StringIO()
        call_command("create_api_token", "fran", stdout=buf)
        token = buf.getvalue().strip()
        api = Client(HTTP_AUTHORIZATION=f"Token {token}")
        page = client_for(world.fran)
        assert page.get("/patients/").status_code == 200
        assert api.get("/api/v1/patients/").status_code == 200

        services.user_set_active(actor=None, user=world.fran, is_active=False)

        response = page.get("/patients/")
        assert response.status_code == 302
        assert response.url.startswith(LOGIN_URL)
        refused = api.get("/api/v1/patients/")
        assert refused.status_code == 401
        assert refused["WWW-Authenticate"] == "Token"
        assert not PracticeUserPermission.objects.filter(user=world.fran).exists()
        # And the form refuses the password too.
        assert form_login(Client(), "fran", ip="10.9.0.1").status_code == 200

    def test_only_an_administrator_may_deactivate(self, world):
        with pytest.raises(PermissionDenied):
            services.user_set_active(actor=world.sam, user=world.fran, is_active=False)
        world.fran.refresh_from_db()
        assert world.fran.is_active


# --- service-level access rules -------------------------------------------------------


def _has(user: Any, codename: str, practice: Any) -> bool:
    return has_perm(user, codename, practice.pk)


class TestAccessRules:
    def test_assignment_refuses_areas_outside_the_engagement(self, world):
        practice = factories.PracticeFactory(slug="narrow")
        vendor = world.vera.vendor_staff.vendor
        engagement = services.engagement_set(
            actor=None,
            vendor=vendor,
            practice=practice,
            service_areas=[ServiceArea.INSURANCE_BILLING],
            primary_contact=world.sam,
            starts_on=dt.date(2026, 1, 1),
        )

        with pytest.raises(ValidationError) as exc:
            services.assignment_set(
                actor=None,
                staff=world.vera.vendor_staff,
                engagement=engagement,
                service_areas=[ServiceArea.INSURANCE_BILLING, ServiceArea.RECARE],
            )

        assert "service_areas" in exc.value.message_dict
        assert not Assignment.objects.filter(engagement=engagement).exists()
        assert not _has(world.vera, perms.VIEW_PATIENTS, practice)

    def test_assignment_refuses_unknown_and_empty_areas(self, world):
        engagement = world.engagements["sunrise"]
        staff = world.vera.vendor_staff
        for areas in (["astrology"], []):
            with pytest.raises(ValidationError) as exc:
                services.assignment_set(
                    actor=None, staff=staff, engagement=engagement, service_areas=areas
                )
            assert "service_areas" in exc.value.message_dict

    def test_assignment_refuses_staff_of_another_vendor(self, world):
        other = factories.VendorFactory(slug="other-vendor")
        outsider = VendorStaff.objects.create(user=factories.UserFactory(), vendor=other)

        with pytest.raises(ValidationError) as exc:
            services.assignment_set(
                actor=None,
                staff=outsider,
                engagement=world.engagements["sunrise"],
                service_areas=[ServiceArea.RECARE],
            )

        assert "staff" in exc.value.message_dict
        assert not _has(outsider.user, perms.VIEW_PATIENTS, world.sunrise)

    def test_assignment_refuses_a_past_end_date(self, world):
        yesterday = timezone.localdate() - dt.timedelta(days=1)

        with pytest.raises(ValidationError) as exc:
            services.assignment_set(
                actor=None,
                staff=world.vera.vendor_staff,
                engagement=world.engagements["sunrise"],
                service_areas=[ServiceArea.INSURANCE_BILLING],
                ends_on=yesterday,
            )

        assert "ends_on" in exc.value.message_dict
        assert Assignment.objects.get(staff__user=world.vera).ends_on is None

    def test_non_manager_cannot_assign(self, world):
        with pytest.raises(PermissionDenied):
            services.assignment_set(
                actor=world.fran,
                staff=world.vera.vendor_staff,
                engagement=world.engagements["sunrise"],
                service_areas=ServiceArea.values,
            )
        assert not _has(world.vera, perms.VERIFY_ELIGIBILITY, world.sunrise)

    def test_narrowing_the_engagement_narrows_vendor_permissions(self, world):
        sunrise = world.sunrise
        assert _has(world.val, perms.WORK_CLAIMS, sunrise)
        assert _has(world.vera, perms.VIEW_PATIENTS, sunrise)
        engagement = world.engagements["sunrise"]

        services.engagement_set(
            actor=world.sam,
            vendor=engagement.vendor,
            practice=sunrise,
            service_areas=[ServiceArea.INSURANCE_VERIFICATION],
            primary_contact=world.sam,
            starts_on=engagement.starts_on,
        )

        # val keeps only what verification allows (plus the lead's KPIs).
        assert _has(world.val, perms.VERIFY_ELIGIBILITY, sunrise)
        for codename in (perms.WORK_CLAIMS, perms.POST_PAYMENTS, perms.WORK_RECARE):
            assert not _has(world.val, codename, sunrise)
        # vera (insurance billing only) has nothing left at Sunrise.
        assert not _has(world.vera, perms.VIEW_PRACTICE, sunrise)
        assert not _has(world.vera, perms.VIEW_PATIENTS, sunrise)
        # vic (verification) is unaffected, and Maple is untouched for val.
        assert _has(world.vic, perms.VERIFY_ELIGIBILITY, sunrise)
        assert _has(world.val, perms.WORK_CLAIMS, world.maple)

    def test_expire_ended_assignments_revokes_and_is_idempotent(self, world):
        assert _has(world.vera, perms.VIEW_PATIENTS, world.sunrise)
        yesterday = timezone.localdate() - dt.timedelta(days=1)
        Assignment.objects.filter(staff__user=world.vera).update(ends_on=yesterday)
        # Time passing alone does not change stored permissions; the job does.
        assert _has(world.vera, perms.VIEW_PATIENTS, world.sunrise)

        assert services.expire_ended_assignments() == 1

        assert not _has(world.vera, perms.VIEW_PATIENTS, world.sunrise)
        assert _has(world.vic, perms.VIEW_PATIENTS, world.sunrise)
        rows = PracticeUserPermission.objects.count()
        assert services.expire_ended_assignments() == 0
        assert PracticeUserPermission.objects.count() == rows

    def test_expire_ended_engagement_revokes_every_assignment(self, world):
        yesterday = timezone.localdate() - dt.timedelta(days=1)
        type(world.engagements["maple"]).objects.filter(pk=world.engagements["maple"].pk).update(
            ends_on=yesterday
        )

        assert services.expire_ended_assignments() == 1  # only val works at Maple

        assert not _has(world.val, perms.VIEW_PATIENTS, world.maple)
        assert _has(world.val, perms.VIEW_PATIENTS, world.sunrise)

    def test_vendor_users_never_get_clinical_approval_or_access_rights(self, world):
        val = world.val
        assert set(
            Assignment.objects.get(
                staff__user=val, engagement__practice=world.sunrise
            ).service_areas
        ) == set(ServiceArea.values)
        codenames = {code for _practice, code in services.desired_access(val)}

        assert perms.VIEW_PATIENTS in codenames
        assert perms.VIEW_KPIS in codenames  # the lead's extra
        for forbidden in (
            perms.VIEW_CLINICAL_ATTACHMENTS,
            perms.APPROVE_ADJUSTMENTS,
            perms.MANAGE_ACCESS,
            perms.MANAGE_SOPS,
        ):
            assert forbidden not in codenames
            assert not _has(val, forbidden, world.sunrise)
        # A practice manager does get them, so the exclusion is specific to vendors.
        sam_codes = {code for _p, code in services.desired_access(world.sam)}
        assert {perms.VIEW_CLINICAL_ATTACHMENTS, perms.APPROVE_ADJUSTMENTS} <= sam_codes

    def test_non_manager_actor_cannot_revoke_a_membership(self, world):
        membership = Membership.objects.get(user=world.bill)
        for actor in (world.fran, world.mia, world.vera):
            with pytest.raises(PermissionDenied):
                services.membership_revoke(actor=actor, membership=membership)
        membership.refresh_from_db()
        assert membership.is_active
        assert _has(world.bill, perms.WORK_CLAIMS, world.sunrise)

    def test_manager_actor_can_revoke_a_membership(self, world):
        membership = Membership.objects.get(user=world.bill)

        services.membership_revoke(actor=world.sam, membership=membership)

        assert not _has(world.bill, perms.VIEW_PRACTICE, world.sunrise)
        assert membership.history.first().history_user == world.sam
