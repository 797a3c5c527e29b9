"""MFA recovery codes (ten, one-time, stored hashed, shown once, replaced on regeneration,
accepted at the MFA step) and the password reset by e-mail, which never bypasses the
second factor: wrong codes after a reset count toward the sign-in lockout."""

from __future__ import annotations

import re
from typing import Any

from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from practices import recovery
from practices.models import RecoveryCode
from tests.conftest import login

PASSWORD = "test-pass-123"
NEW_PASSWORD = "a-Fresh-pass-7731"
LOGIN, VERIFY, CODES = "/account/login/", "/account/mfa/verify/", "/account/mfa/recovery-codes/"


def _enrolled(user: Any) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def _wrong_totp(device: TOTPDevice) -> str:
    accepted = {f"{totp(device.bin_key, drift=d):06d}" for d in range(-2, 3)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in accepted)


def _sign_in(client: Client, username: str, password: str = PASSWORD) -> Any:
    return client.post(LOGIN, {"username": username, "password": password})


def _verified(client: Client) -> bool:
    return DEVICE_ID_SESSION_KEY in client.session


# --- recovery codes -------------------------------------------------------------------------


def test_ten_codes_are_shown_once_and_stored_hashed(world):
    client = login(Client(), world.sam)
    response = client.post(CODES)
    codes = response.context["codes"]
    assert len(codes) == 10 == len(set(codes))
    for code in codes:
        assert code in response.text
    stored = list(RecoveryCode.objects.filter(device__user=world.sam))
    assert len(stored) == 10
    digests = {row.code_hash for row in stored}
    assert digests == {RecoveryCode.digest(code) for code in codes}
    assert not any(code in digests for code in codes)
    # Shown once: the page afterwards says how many are left, never the codes.
    again = client.get(CODES)
    assert again.context["left"] == 10
    assert not any(code in again.text for code in codes)


def test_the_codes_page_needs_a_verified_session(world):
    client = Client()
    client.force_login(world.sam)  # signed in, second factor not passed
    response = client.post(CODES)
    assert response.status_code == 302
    assert response.url == VERIFY
    assert not RecoveryCode.objects.exists()


def test_new_codes_need_a_fresh_step_up(world):
    client = login(Client(), world.sam, step_up=False)
    response = client.post(CODES)
    assert response.status_code == 302
    assert response.url.startswith("/account/step-up/")
    assert not RecoveryCode.objects.exists()


def test_regenerating_invalidates_the_old_codes(world):
    old = recovery.recovery_codes_generate(user=world.sam)
    new = recovery.recovery_codes_generate(user=world.sam)
    assert recovery.recovery_codes_left(world.sam) == 10
    _enrolled(world.sam)
    client = Client()
    _sign_in(client, "sam")
    assert client.post(VERIFY, {"token": old[0]}).status_code == 200
    assert not _verified(client)
    assert client.post(VERIFY, {"token": new[0]}).status_code == 302
    assert _verified(client)


def test_a_recovery_code_passes_the_mfa_step_once(world):
    _enrolled(world.sam)
    codes = recovery.recovery_codes_generate(user=world.sam)
    client = Client()
    _sign_in(client, "sam")
    assert client.get("/patients/").url.startswith(VERIFY)

    response = client.post(VERIFY, {"token": codes[3].upper()})

    assert response.status_code == 302
    assert _verified(client)
    assert client.get("/patients/").status_code == 200
    assert recovery.recovery_codes_left(world.sam) == 9
    # The same code never works again.
    other = Client()
    _sign_in(other, "sam")
    assert other.post(VERIFY, {"token": codes[3]}).status_code == 200
    assert not _verified(other)


# --- password reset by e-mail ------------------------------------------------------------


def _reset_password(client: Client, email: str, password: str) -> None:
    response = client.post("/account/password-reset/", {"email": email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    found = re.search(
        r"http://testserver(/account/password-reset/[^/\s]+/[^/\s]+/)", mail.outbox[0].body
    )
    assert found is not None
    page = client.get(found.group(1), follow=True)
    assert page.status_code == 200
    done = client.post(
        page.redirect_chain[-1][0], {"new_password1": password, "new_password2": password}
    )
    assert done.status_code == 302
    assert done.url == "/account/password-reset/complete/"


def test_a_reset_sets_the_password_but_never_signs_in_past_the_second_factor(world):
    world.sam.email = "sam@example.com"
    world.sam.save(update_fields=["email"])
    device = _enrolled(world.sam)
    client = Client()

    _reset_password(client, "sam@example.com", NEW_PASSWORD)

    assert SESSION_KEY not in client.session  # the reset signs nobody in
    world.sam.refresh_from_db()
    assert world.sam.check_password(NEW_PASSWORD)
    _sign_in(client, "sam", NEW_PASSWORD)
    assert SESSION_KEY in client.session and not _verified(client)
    assert client.get("/patients/").url.startswith(VERIFY)
    assert client.get("/access/").url.startswith(VERIFY)
    response = client.post(VERIFY, {"token": f"{totp(device.bin_key):06d}"})
    assert response.status_code == 302
    assert client.get("/patients/").status_code == 200


def test_an_enrolled_front_desk_user_is_asked_for_the_code_after_a_reset(world):
    # The front desk role needs no second factor, but whoever enrolled one must use it.
    world.fran.email = "fran@example.com"
    world.fran.save(update_fields=["email"])
    _enrolled(world.fran)
    client = Client()
    _reset_password(client, "fran@example.com", NEW_PASSWORD)
    _sign_in(client, "fran", NEW_PASSWORD)
    assert client.get("/patients/").url.startswith(VERIFY)


def test_an_unknown_address_gets_the_same_answer_and_no_mail(world):
    response = Client().post("/account/password-reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert response.url == "/account/password-reset/sent/"
    assert mail.outbox == []


def test_wrong_codes_after_a_reset_count_toward_the_lockout(world):
    world.sam.email = "sam@example.com"
    world.sam.save(update_fields=["email"])
    device = _enrolled(world.sam)
    client = Client()
    _reset_password(client, "sam@example.com", NEW_PASSWORD)
    _sign_in(client, "sam", NEW_PASSWORD)
    limit = settings.AXES_FAILURE_LIMIT
    wrong = _wrong_totp(device)

    for _ in range(limit - 1):
        assert client.post(VERIFY, {"token": wrong}).status_code == 200
    response = client.post(VERIFY, {"token": wrong})

    assert response.status_code == 429  # locked: signed out
    assert SESSION_KEY not in client.session
    assert AccessFailureLog.objects.filter(username="sam").count() == limit
    # The right password no longer signs in from that address, nor does a code.
    assert _sign_in(client, "sam", NEW_PASSWORD).status_code == 429
    assert SESSION_KEY not in client.session


def test_a_wrong_code_is_not_kept_in_the_failure_records(world):
    device = _enrolled(world.sam)
    client = Client()
    _sign_in(client, "sam")
    wrong = _wrong_totp(device)
    client.post(VERIFY, {"token": wrong})
    attempt = AccessAttempt.objects.get(username="sam")
    assert attempt.failures_since_start == 1
    assert wrong not in attempt.post_data
