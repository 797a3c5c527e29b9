"""Step-up authentication (issue 8, point 10): sensitive actions ask again for the
password or a fresh TOTP code when the last confirmation is older than STEP_UP_MAX_AGE."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views import View
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIRequestFactory

from practices.models import Assignment, Membership
from practices.stepup import (
    SESSION_STEP_UP_AT,
    StepUpFresh,
    StepUpRequiredMixin,
    step_up_is_fresh,
    step_up_required,
)
from tests.conftest import login
from tests.permission_matrix import SIGNED_IN, Endpoint, PermissionMatrixMixin

PASSWORD = "test-pass-123"  # tests/factories.py
STEP_UP = "/account/step-up/"


def not_stepped_up(user: Any) -> Client:
    return login(Client(), user, step_up=False)


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def wrong_code_for(device: TOTPDevice) -> str:
    accepted = {
        f"{totp(device.bin_key, drift=drift):06d}"
        for drift in range(-device.tolerance - 1, device.tolerance + 2)
    }
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in accepted)


def age_step_up(client: Client, seconds: int) -> None:
    session = client.session
    session[SESSION_STEP_UP_AT] = int(time.time()) - seconds
    session.save()


def fran_membership(world: Any) -> Membership:
    return Membership.objects.get(user=world.fran, practice=world.sunrise)


def vera_assignment(world: Any) -> Assignment:
    return Assignment.objects.get(staff__user=world.vera, engagement__practice=world.sunrise)


# --- the sensitive actions refuse without a fresh step-up --------------------------------


def test_revoke_membership_without_step_up_redirects_and_changes_nothing(world):
    sam = not_stepped_up(world.sam)
    membership = fran_membership(world)

    response = sam.post(
        f"/access/memberships/{membership.pk}/revoke/", HTTP_REFERER="http://testserver/access/"
    )

    assert response.status_code == 302
    target = urlsplit(response.url)
    assert target.path == STEP_UP
    assert parse_qs(target.query)["next"] == ["http://testserver/access/"]
    membership.refresh_from_db()
    assert membership.is_active


def test_revoke_assignment_without_step_up_redirects_and_changes_nothing(world):
    sam = not_stepped_up(world.sam)
    assignment = vera_assignment(world)

    response = sam.post(f"/access/assignments/{assignment.pk}/revoke/")

    assert response.status_code == 302
    assert urlsplit(response.url).path == STEP_UP
    assignment.refresh_from_db()
    assert assignment.revoked_at is None


def test_a_stale_step_up_is_asked_again(world, settings):
    settings.STEP_UP_MAX_AGE = 300
    sam = login(Client(), world.sam)
    age_step_up(sam, 301)
    membership = fran_membership(world)

    response = sam.post(f"/access/memberships/{membership.pk}/revoke/")

    assert urlsplit(response.url).path == STEP_UP
    membership.refresh_from_db()
    assert membership.is_active


def test_the_max_age_is_a_setting(world, settings):
    settings.STEP_UP_MAX_AGE = 3600
    sam = login(Client(), world.sam)
    age_step_up(sam, 1800)
    membership = fran_membership(world)

    response = sam.post(f"/access/memberships/{membership.pk}/revoke/")

    assert response.status_code == 302 and response.url == "/access/"
    membership.refresh_from_db()
    assert not membership.is_active


def test_outsiders_get_404_not_a_step_up_prompt(world):
    membership = fran_membership(world)

    for user in (world.fran, world.mia):  # another role; another practice's manager
        response = not_stepped_up(user).post(f"/access/memberships/{membership.pk}/revoke/")
        assert response.status_code == 404

    membership.refresh_from_db()
    assert membership.is_active


def test_the_audit_export_asks_for_a_step_up_and_comes_back(world):
    export = reverse("audit-export")
    sam = not_stepped_up(world.sam)

    refused = sam.get(export)

    assert refused.status_code == 302
    target = urlsplit(refused.url)
    assert target.path == STEP_UP
    [back] = parse_qs(target.query)["next"]
    assert back == export
    assert sam.post(STEP_UP, {"password": PASSWORD, "next": back}).url == export
    allowed = sam.get(export)
    assert allowed.status_code == 200
    assert allowed["Content-Type"].startswith("text/csv")
    # Others still get the 404 first.
    assert not_stepped_up(world.bill).get(export).status_code == 404


def test_signing_in_and_the_mfa_code_count_as_a_step_up(world):
    client = Client()
    signed_in = client.post(
        "/account/login/", {"username": "sam", "password": PASSWORD}, REMOTE_ADDR="10.7.0.1"
    )
    assert signed_in.status_code == 302
    assert SESSION_STEP_UP_AT in client.session  # the password was just given
    age_step_up(client, 3600)
    device = TOTPDevice.objects.create(user=world.sam, name="phone", confirmed=True)

    verified = client.post("/account/mfa/verify/", {"token": code_for(device), "next": "/"})

    assert verified.status_code == 302
    membership = fran_membership(world)
    client.post(f"/access/memberships/{membership.pk}/revoke/")
    membership.refresh_from_db()
    assert not membership.is_active


# --- the step-up page ------------------------------------------------------------------


def test_password_step_up_then_the_revoke_works(world):
    sam = not_stepped_up(world.sam)
    membership = fran_membership(world)

    confirmed = sam.post(STEP_UP, {"password": PASSWORD, "next": "/access/"})

    assert confirmed.status_code == 302 and confirmed.url == "/access/"
    response = sam.post(f"/access/memberships/{membership.pk}/revoke/")
    assert response.status_code == 302 and response.url == "/access/"
    membership.refresh_from_db()
    assert not membership.is_active
    assert membership.history.latest().history_user == world.sam


def test_totp_step_up_then_the_revoke_works(world):
    sam = not_stepped_up(world.sam)
    device = TOTPDevice.objects.get(user=world.sam)
    assignment = vera_assignment(world)

    page = sam.get(STEP_UP, {"next": "/access/"})
    assert 'name="code"' in page.text  # the code is offered to users with a device
    confirmed = sam.post(STEP_UP, {"code": code_for(device), "next": "/access/"})

    assert confirmed.status_code == 302 and confirmed.url == "/access/"
    sam.post(f"/access/assignments/{assignment.pk}/revoke/")
    assignment.refresh_from_db()
    assert assignment.revoked_at is not None


def test_wrong_password_is_refused_with_a_clear_error(world):
    sam = not_stepped_up(world.sam)

    response = sam.post(STEP_UP, {"password": "not-the-password", "next": "/access/"})

    assert response.status_code == 200
    assert "That password is not right" in response.text
    assert SESSION_STEP_UP_AT not in sam.session
    membership = fran_membership(world)
    sam.post(f"/access/memberships/{membership.pk}/revoke/")
    membership.refresh_from_db()
    assert membership.is_active


def test_wrong_or_replayed_code_is_refused(world):
    sam = not_stepped_up(world.sam)
    device = TOTPDevice.objects.get(user=world.sam)

    code = code_for(device)
    assert sam.post(STEP_UP, {"code": code}).status_code == 302
    other = not_stepped_up(world.sam)
    replayed = other.post(STEP_UP, {"code": code})
    assert replayed.status_code == 200
    assert "That code did not match" in replayed.text
    assert SESSION_STEP_UP_AT not in other.session

    wrong = other.post(STEP_UP, {"code": wrong_code_for(device)})
    assert wrong.status_code == 200
    assert "That code did not match" in wrong.text
    assert SESSION_STEP_UP_AT not in other.session


def test_nothing_entered_is_refused(world):
    sam = not_stepped_up(world.sam)

    response = sam.post(STEP_UP, {"password": "", "code": ""})

    assert response.status_code == 200
    assert "Enter your password or a code" in response.text
    assert SESSION_STEP_UP_AT not in sam.session


def test_a_user_without_a_device_is_offered_the_password_only(world):
    fran = not_stepped_up(world.fran)  # front desk: no second factor required

    page = fran.get(STEP_UP)
    assert 'name="code"' not in page.text
    code_only = fran.post(STEP_UP, {"code": "123456"})
    assert code_only.status_code == 200
    assert SESSION_STEP_UP_AT not in fran.session


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "http://evil.example/access/", "javascript:x"],
)
def test_open_redirect_is_refused(world, target):
    sam = not_stepped_up(world.sam)

    response = sam.post(f"{STEP_UP}?next={target}", {"password": PASSWORD, "next": target})

    assert response.status_code == 302
    assert response.url == "/"
    assert SESSION_STEP_UP_AT in sam.session  # the confirmation counted; only next was dropped


def test_anonymous_is_sent_to_sign_in(db):
    response = Client().post(STEP_UP, {"password": PASSWORD})

    assert response.status_code == 302
    assert response.url.startswith("/account/login/")


# --- the decorator, the mixin and the DRF permission -----------------------------------


def _request(user: Any, method: str = "get", stepped_up_ago: int | None = None) -> HttpRequest:
    request = getattr(RequestFactory(), method)("/some/export/?page=2")
    request.user = user
    request.session = SessionStore()
    if stepped_up_ago is not None:
        request.session[SESSION_STEP_UP_AT] = int(time.time()) - stepped_up_ago
    return request


@step_up_required
def _export(request: HttpRequest) -> HttpResponse:
    return HttpResponse("rows")


class _ExportView(StepUpRequiredMixin, View):
    step_up_methods = frozenset({"POST"})

    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("form")

    def post(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("done")


def test_decorator_sends_a_get_back_to_itself(world):
    refused = _export(_request(world.bill))
    assert refused.status_code == 302
    assert parse_qs(urlsplit(refused["Location"]).query)["next"] == ["/some/export/?page=2"]

    assert _export(_request(world.bill, stepped_up_ago=10)).content == b"rows"
    assert _export(_request(world.bill, stepped_up_ago=301)).status_code == 302


def test_mixin_asks_only_for_the_named_methods(world):
    view = _ExportView.as_view()

    assert view(_request(world.bill)).content == b"form"
    refused = view(_request(world.bill, "post"))
    assert refused.status_code == 302
    assert urlsplit(refused["Location"]).path == STEP_UP
    assert view(_request(world.bill, "post", stepped_up_ago=5)).content == b"done"


def test_drf_permission_needs_a_fresh_session_step_up(world):
    from rest_framework.request import Request

    def drf_request(stepped_up_ago: int | None, auth: Any = None) -> Request:
        raw = APIRequestFactory().get("/api/v1/x/")
        raw.user = world.bill
        raw.session = SessionStore()
        if stepped_up_ago is not None:
            raw.session[SESSION_STEP_UP_AT] = int(time.time()) - stepped_up_ago
        request = Request(raw)
        request.user = world.bill
        request.auth = auth
        return request

    permission = StepUpFresh()
    assert not permission.has_permission(drf_request(None), None)
    assert not permission.has_permission(drf_request(301), None)
    assert permission.has_permission(drf_request(5), None)
    assert permission.has_permission(drf_request(None, auth=object()), None)  # a token


def test_fresh_means_within_max_age_and_not_in_the_future(world, settings):
    settings.STEP_UP_MAX_AGE = 60
    assert step_up_is_fresh(_request(world.bill, stepped_up_ago=60))
    assert not step_up_is_fresh(_request(world.bill, stepped_up_ago=61))
    assert not step_up_is_fresh(_request(world.bill, stepped_up_ago=-3600))


# --- permission matrix: the step-up page is every signed-in user's own ------------------


class TestStepUpPage(PermissionMatrixMixin):
    endpoints = [
        Endpoint("step-up page", "get", lambda w: STEP_UP, SIGNED_IN, route="step-up"),
    ]
