"""Password checks per client address per minute (issue 10: Argon2 costs ~127 ms of CPU a
sign-in; a burst from one address must not hold the web workers away from page requests).

Each test signs in from its own address, so the shared cache's counters never meet."""

from __future__ import annotations

import pytest
from axes.models import AccessFailureLog
from django.test import Client

from billing_ops.security import THROTTLED_MESSAGE
from practices.stepup import SESSION_STEP_UP_AT
from tests.practices.test_auth import PASSWORD, form_login, is_signed_in
from tests.practices.test_step_up import STEP_UP, not_stepped_up

LIMIT = 3


@pytest.fixture
def low_limit(settings):
    settings.PASSWORD_CHECKS_PER_MINUTE = LIMIT


def test_the_default_is_thirty_a_minute():
    from billing_ops.settings import base

    assert base.PASSWORD_CHECKS_PER_MINUTE == 30


def test_beyond_the_limit_sign_in_answers_429_without_checking_the_password(
    world, low_limit, django_assert_max_num_queries
):
    address = "10.77.0.1"
    for _ in range(LIMIT):
        assert form_login(Client(), "fran", "wrong-password", ip=address).status_code == 200
    failures_before = AccessFailureLog.objects.count()

    client = Client()
    response = form_login(client, "fran", PASSWORD, ip=address)  # the right password

    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert THROTTLED_MESSAGE in response.text.replace("&#x27;", "'")
    assert not is_signed_in(client)
    # Refused before authenticate(): axes saw no attempt, so nothing counts against fran.
    assert AccessFailureLog.objects.count() == failures_before


def test_another_address_is_not_held_back(world, low_limit):
    for _ in range(LIMIT + 1):
        form_login(Client(), "fran", "wrong-password", ip="10.77.0.2")

    colleague = Client()
    response = form_login(colleague, "bill", PASSWORD, ip="10.77.0.3")

    assert response.status_code == 302
    assert is_signed_in(colleague)


def test_the_next_minute_the_address_may_sign_in_again(world, low_limit, monkeypatch):
    import billing_ops.security as security

    now = 1_800_000_000.0
    monkeypatch.setattr(security.time, "time", lambda: now)
    for _ in range(LIMIT):
        form_login(Client(), "fran", "wrong-password", ip="10.77.0.4")
    assert form_login(Client(), "bill", PASSWORD, ip="10.77.0.4").status_code == 429

    now += 60
    client = Client()
    assert form_login(client, "bill", PASSWORD, ip="10.77.0.4").status_code == 302
    assert is_signed_in(client)


def test_step_up_password_checks_count_too(world, low_limit):
    sam = not_stepped_up(world.sam)
    address = "10.77.0.5"
    for _ in range(LIMIT):
        sam.post(STEP_UP, {"password": "not-the-password", "next": "/"}, REMOTE_ADDR=address)

    response = sam.post(STEP_UP, {"password": PASSWORD, "next": "/"}, REMOTE_ADDR=address)

    assert response.status_code == 200
    assert THROTTLED_MESSAGE in response.text.replace("&#x27;", "'")
    assert SESSION_STEP_UP_AT not in sam.session
