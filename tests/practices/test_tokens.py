"""API tokens (issue 8, point 8): people make and revoke their own on /account/tokens/, only
from an MFA-verified session after a step-up; knox stores them hashed; they expire, list
their last use, and die with the account or its last access; the command stays for
service accounts; tokens from before the switch keep working (migrated by digest)."""

from __future__ import annotations

import datetime as dt
import importlib
import io
import secrets
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.crypto import hash_token
from knox.models import AuthToken

from practices import services, tokens
from practices.models import ApiToken, Assignment, Membership
from tests.conftest import login
from tests.permission_matrix import SIGNED_IN, Case, Endpoint, PermissionMatrixMixin

PAGE = "/account/tokens/"
PATIENTS = "/api/v1/patients/"


def verified(user: Any, *, step_up: bool = True) -> Client:
    """A client whose session passed the second factor (a device is made if needed)."""
    client = login(Client(), user, step_up=step_up)
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="test", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def api(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {token}")


def page_token(user: Any, name: str = "nightly export") -> tuple[ApiToken, str]:
    """A token made as the page makes it (MFA-verified session)."""
    return tokens.token_create(actor=user, name=name, mfa_verified=True)


def create_on_page(client: Client, name: str = "nightly export") -> Any:
    return client.post(PAGE, {"name": name})


def shown_token(response: Any) -> str:
    record = ApiToken.objects.filter(user=response.wsgi_request.user).latest("created_at")
    start = response.text.index(record.hint)
    return response.text[start : start + 64]


# --- creating on the page -------------------------------------------------------------


def test_create_on_the_page_shows_the_token_once_and_stores_only_its_hash(world):
    client = verified(world.bill)

    response = create_on_page(client)

    assert response.status_code == 200
    plain = shown_token(response)
    record = ApiToken.objects.get(user=world.bill)
    assert (record.name, record.via, record.created_by) == (
        "nightly export",
        ApiToken.Via.PAGE,
        world.bill,
    )
    knox_row = AuthToken.objects.get(user=world.bill)
    assert knox_row.digest == hash_token(plain)
    stored = [str(v) for v in AuthToken.objects.values_list().get()] + [
        str(v) for v in ApiToken.objects.values_list().get()
    ]
    assert not any(plain in value for value in stored)
    assert "no-store" in response["Cache-Control"]  # the one answer that carries it
    assert api(plain).get(PATIENTS).status_code == 200
    # Shown once: the list afterwards names the token but never shows it again.
    listing = client.get(PAGE)
    assert "nightly export" in listing.text and plain not in listing.text


def test_create_needs_a_fresh_step_up(world):
    client = verified(world.bill, step_up=False)

    response = create_on_page(client)

    assert response.status_code == 302
    assert response.url.startswith("/account/step-up/?next=")
    assert not ApiToken.objects.exists() and not AuthToken.objects.exists()


@pytest.mark.parametrize("name", ["fran", "sam"])
def test_page_needs_an_mfa_verified_session(world, name):
    user = world.users[name]
    client = login(Client(), user)  # fran: no second factor yet
    if name == "sam":  # a device, but this session has not passed it
        session = client.session
        del session[DEVICE_ID_SESSION_KEY]
        session.save()

    for response in (client.get(PAGE), create_on_page(client)):
        assert response.status_code == 302
        expected = "/account/mfa/verify/" if name == "sam" else "/account/mfa/setup/"
        assert response.url.startswith(expected)
    assert not ApiToken.objects.exists()


def test_service_refuses_a_session_without_mfa(world):
    with pytest.raises(PermissionDenied):
        tokens.token_create(actor=world.fran, name="x", mfa_verified=False)
    assert not AuthToken.objects.exists()


def test_a_name_is_required(world):
    response = create_on_page(verified(world.bill), name="  ")

    assert response.status_code == 200
    assert "is-invalid" in response.text
    assert not ApiToken.objects.exists()


def test_live_tokens_per_person_are_bounded(world):
    for n in range(tokens.MAX_LIVE_TOKENS):
        page_token(world.bill, name=f"script {n}")

    response = create_on_page(verified(world.bill), name="one too many")

    assert response.status_code == 200
    assert "revoke one you no longer use" in response.text
    assert not ApiToken.objects.filter(name="one too many").exists()


def test_the_list_shows_only_ones_own_tokens(world):
    page_token(world.sam, name="sam's script")
    page_token(world.bill, name="bill's script")

    text = verified(world.bill).get(PAGE).text

    assert "bill&#x27;s script" in text
    assert "sam&#x27;s script" not in text


# --- expiry, listing and last use -----------------------------------------------------


def test_tokens_expire_after_the_configured_days(world, settings):
    settings.API_TOKEN_TTL_DAYS = 7

    record, _ = page_token(world.bill)

    assert record.token is not None
    lifetime = record.expires_at - record.token.created
    assert abs(lifetime - dt.timedelta(days=7)) < dt.timedelta(minutes=1)
    assert record.token.expiry == record.expires_at


def test_an_expired_token_gets_401(world):
    record, plain = page_token(world.bill)
    assert api(plain).get(PATIENTS).status_code == 200

    AuthToken.objects.filter(pk=record.token_id).update(
        expiry=timezone.now() - dt.timedelta(seconds=1)
    )

    response = api(plain).get(PATIENTS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_list_shows_created_expiry_and_last_use(world):
    record, plain = page_token(world.bill, name="reconciliation")
    client = verified(world.bill)
    assert "never" in client.get(PAGE).text

    api(plain).get(PATIENTS)

    record.refresh_from_db()
    assert record.last_used_at is not None
    text = client.get(PAGE).text
    assert "reconciliation" in text
    for moment in (record.created_at, record.expires_at, record.last_used_at):
        local = timezone.localtime(moment)
        assert local.strftime("%m/%d/%Y %H:%M") in text


def test_last_use_is_written_at_most_once_a_minute(world):
    record, plain = page_token(world.bill)
    recent = timezone.now() - dt.timedelta(seconds=30)
    ApiToken.objects.filter(pk=record.pk).update(last_used_at=recent)

    api(plain).get(PATIENTS)
    record.refresh_from_db()
    assert record.last_used_at == recent

    older = timezone.now() - dt.timedelta(minutes=2)
    ApiToken.objects.filter(pk=record.pk).update(last_used_at=older)
    api(plain).get(PATIENTS)
    record.refresh_from_db()
    assert record.last_used_at > older


# --- revocation -----------------------------------------------------------------------


def test_revoke_on_the_page_stops_the_token_at_once(world):
    record, plain = page_token(world.bill)
    client = verified(world.bill)

    response = client.post(f"{PAGE}{record.pk}/revoke/")

    assert response.status_code == 302 and response.url == PAGE
    record.refresh_from_db()
    assert record.revoked_at is not None and record.revoked_by == world.bill
    assert record.token is None and not AuthToken.objects.filter(user=world.bill).exists()
    assert api(plain).get(PATIENTS).status_code == 401
    assert "revoked" in client.get(PAGE).text


def test_revoke_needs_a_step_up(world):
    record, plain = page_token(world.bill)

    response = verified(world.bill, step_up=False).post(f"{PAGE}{record.pk}/revoke/")

    assert response.url.startswith("/account/step-up/")
    record.refresh_from_db()
    assert record.revoked_at is None
    assert api(plain).get(PATIENTS).status_code == 200


def test_a_deactivated_users_token_gets_401_and_is_revoked(world):
    record, plain = page_token(world.bill)

    services.user_set_active(actor=None, user=world.bill, is_active=False)

    assert api(plain).get(PATIENTS).status_code == 401
    record.refresh_from_db()
    assert record.revoked_at is not None and "no access left" in record.revoke_reason
    # Reactivating the account does not bring the token back.
    services.user_set_active(actor=None, user=world.bill, is_active=True)
    assert api(plain).get(PATIENTS).status_code == 401


def test_revoking_the_last_membership_revokes_the_tokens(world):
    _, plain = page_token(world.fran)
    membership = Membership.objects.get(user=world.fran, practice=world.sunrise)

    services.membership_revoke(actor=world.sam, membership=membership)

    assert api(plain).get(PATIENTS).status_code == 401
    assert not ApiToken.objects.filter(user=world.fran, revoked_at__isnull=True).exists()


def test_revoking_the_last_assignment_revokes_the_tokens(world):
    _, vera = page_token(world.vera)
    _, val = page_token(world.val)

    services.assignment_revoke(
        actor=world.sam, assignment=Assignment.objects.get(staff__user=world.vera)
    )
    services.assignment_revoke(
        actor=world.sam,
        assignment=Assignment.objects.get(
            staff__user=world.val, engagement__practice=world.sunrise
        ),
    )

    assert api(vera).get(PATIENTS).status_code == 401
    # Val still works at Maple: one of two assignments ended, the token stays.
    response = api(val).get(PATIENTS)
    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == {world.maple_patient.pk}


def test_an_assignment_ended_by_date_revokes_the_tokens_with_the_job(world):
    _, plain = page_token(world.vera)
    Assignment.objects.filter(staff__user=world.vera).update(
        ends_on=timezone.localdate() - dt.timedelta(days=1)
    )

    services.expire_ended_assignments()

    assert api(plain).get(PATIENTS).status_code == 401


def test_someone_elses_token_cannot_be_revoked(world):
    record, plain = page_token(world.bill)

    response = verified(world.sam).post(f"{PAGE}{record.pk}/revoke/")

    assert response.status_code == 404
    with pytest.raises(PermissionDenied):
        tokens.token_revoke(actor=world.fran, record=record)
    assert api(plain).get(PATIENTS).status_code == 200


# --- MFA: only tokens issued here work ------------------------------------------------


def test_a_knox_token_made_outside_the_service_is_refused(world):
    _, plain = AuthToken.objects.create(user=world.vera)  # e.g. in a shell: no MFA behind it

    assert api(plain).get(PATIENTS).status_code == 401


def test_a_page_token_of_an_mfa_user_works(world):
    response = create_on_page(verified(world.vera))

    assert api(shown_token(response)).get(PATIENTS).status_code == 200


# --- the service-account command ------------------------------------------------------


def test_the_command_issues_a_knox_token_and_retires_its_previous_one(world):
    page_record, page_plain = page_token(world.bill)
    first, second = io.StringIO(), io.StringIO()

    call_command("create_api_token", "bill", stdout=first, stderr=io.StringIO())
    call_command("create_api_token", "bill", stdout=second, stderr=io.StringIO())

    old, new = first.getvalue().strip(), second.getvalue().strip()
    assert api(old).get(PATIENTS).status_code == 401
    assert api(new).get(PATIENTS).status_code == 200
    assert api(page_plain).get(PATIENTS).status_code == 200  # the page's token is left alone
    command = ApiToken.objects.filter(user=world.bill, via=ApiToken.Via.COMMAND)
    assert command.count() == 2 and command.filter(revoked_at__isnull=True).count() == 1
    assert AuthToken.objects.get(digest=hash_token(new)).expiry is not None


# --- tokens from before knox keep working ---------------------------------------------


def test_old_plain_text_tokens_are_migrated_by_digest(world):
    migration = importlib.import_module("practices.migrations.0008_authtoken_to_knox")
    key = secrets.token_hex(20)  # DRF's format: 40 hex characters
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
            "created timestamptz NOT NULL, user_id integer NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, %s, %s)", [key, timezone.now(), world.bill.pk]
        )

    migration.copy_tokens(apps, SimpleNamespace(connection=connection))

    record = ApiToken.objects.get(user=world.bill)
    assert (record.via, record.hint) == (ApiToken.Via.MIGRATED, key[:6])
    assert record.expires_at is not None
    assert api(key).get(PATIENTS).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone() == (0,)  # no plain-text secret left behind


# --- permission matrix: each person's own tokens --------------------------------------


def _verified_session(c: Case) -> None:
    if c.user is None:
        return
    device, _ = TOTPDevice.objects.get_or_create(user=c.user, name="test", confirmed=True)
    session = c.client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def _sams_token(w: Any) -> ApiToken:
    return ApiToken.objects.get(user=w.sam, name="sam's script")


class TestTokenPages(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        page_token(world.sam, name="sam's script")

    endpoints = [
        Endpoint(
            "tokens page",
            "get",
            lambda w: PAGE,
            SIGNED_IN,
            route="account-tokens",
            arrange=_verified_session,
        ),
        Endpoint(
            "create token",
            "post",
            lambda w: PAGE,
            SIGNED_IN,
            data=lambda w: {"name": "matrix token"},
            route="account-tokens",
            arrange=_verified_session,
            done=lambda c: (
                c.user is not None
                and ApiToken.objects.filter(user=c.user, name="matrix token").exists()
            ),
        ),
        # Only its owner may revoke a token: everybody else gets 404 and nothing changes.
        Endpoint(
            "revoke token",
            "post",
            lambda w: f"{PAGE}{_sams_token(w).pk}/revoke/",
            frozenset({"sam"}),
            ok_status=302,
            route="account-token-revoke",
            arrange=_verified_session,
            done=lambda c: _sams_token(c.world).revoked_at is not None,
        ),
    ]
