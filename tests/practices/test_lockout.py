"""Lockout per (account, address) pair, a per-account limit over an hour, and the client
address read only from the trusted proxy header (issue 8, point 5)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
from axes.models import AccessFailureLog
from django.conf import settings as django_settings
from django.test import Client, RequestFactory
from django.utils import timezone

from billing_ops.security import client_ip
from tests.practices.test_auth import PASSWORD, form_login, is_signed_in
from tests.test_deploy_settings import production_env, run

LOGIN_URL = "/account/login/"


def fail(username: str, ip: str, times: int = 1) -> None:
    for _ in range(times):
        form_login(Client(), username, "wrong-password", ip=ip)


class TestPairLock:
    def test_five_failures_by_one_person_do_not_block_a_colleague_at_the_same_address(self, world):
        office = "10.20.0.1"
        fail("fran", office, times=django_settings.AXES_FAILURE_LIMIT)

        colleague = Client()
        response = form_login(colleague, "bill", PASSWORD, ip=office)

        assert response.status_code == 302
        assert is_signed_in(colleague)

    def test_the_failing_account_is_locked_at_that_address(self, world):
        office = "10.20.0.2"
        fail("fran", office, times=django_settings.AXES_FAILURE_LIMIT)

        client = Client()
        response = form_login(client, "fran", PASSWORD, ip=office)

        assert response.status_code == 429
        assert "Too many failed sign-ins" in response.text
        assert not is_signed_in(client)

    def test_the_pair_lock_does_not_follow_the_account_to_another_address(self, world):
        fail("fran", "10.20.0.3", times=django_settings.AXES_FAILURE_LIMIT)

        client = Client()
        assert form_login(client, "fran", PASSWORD, ip="10.20.9.9").status_code == 302
        assert is_signed_in(client)


class TestAccountLimit:
    def test_the_default_is_at_most_a_hundred_an_hour(self):
        assert django_settings.AXES_ACCOUNT_FAILURE_LIMIT == 100

    def test_failures_spread_over_addresses_lock_the_account_everywhere(self, world):
        limit = django_settings.AXES_ACCOUNT_FAILURE_LIMIT
        per_address = django_settings.AXES_FAILURE_LIMIT - 1  # never trips a pair lock
        sent = 0
        address = 0
        while sent < limit:
            address += 1
            batch = min(per_address, limit - sent)
            fail("bill", f"10.30.{address // 250}.{address % 250 + 1}", times=batch)
            sent += batch
        assert AccessFailureLog.objects.filter(username="bill").count() == limit

        fresh = Client()
        response = form_login(fresh, "bill", PASSWORD, ip="10.31.0.1")

        assert response.status_code == 429
        assert "Too many failed sign-ins" in response.text
        assert not is_signed_in(fresh)
        # Other accounts at those addresses are unaffected.
        assert form_login(Client(), "fran", PASSWORD, ip="10.30.0.2").status_code == 302

    def test_one_failure_short_of_the_limit_still_signs_in(self, world, settings):
        settings.AXES_ACCOUNT_FAILURE_LIMIT = 6
        for n in range(5):
            fail("bill", f"10.32.0.{n + 1}")

        client = Client()
        assert form_login(client, "bill", PASSWORD, ip="10.32.1.1").status_code == 302

    def test_unknown_accounts_hit_the_same_limit(self, world, settings):
        settings.AXES_ACCOUNT_FAILURE_LIMIT = 6
        answers = {}
        for name in ("fran", "ghost"):
            for n in range(6):
                fail(name, f"10.33.{n}.{1 if name == 'fran' else 2}")
            answers[name] = form_login(Client(), name, PASSWORD, ip="10.33.9.9").status_code
        assert answers == {"fran": 429, "ghost": 429}

    def test_failures_older_than_an_hour_no_longer_count(self, world, settings):
        settings.AXES_ACCOUNT_FAILURE_LIMIT = 3
        for n in range(3):
            fail("bill", f"10.34.0.{n + 1}")
        assert form_login(Client(), "bill", PASSWORD, ip="10.34.1.1").status_code == 429

        AccessFailureLog.objects.filter(username="bill").update(
            attempt_time=timezone.now() - dt.timedelta(minutes=61)
        )

        assert form_login(Client(), "bill", PASSWORD, ip="10.34.1.1").status_code == 302


class TestClientAddress:
    def request(self, **meta: str):
        return RequestFactory().get("/", **meta)

    def test_without_a_proxy_header_the_socket_address_is_used(self, settings):
        settings.CLIENT_IP_HEADER = None
        assert client_ip(self.request(REMOTE_ADDR="192.0.2.5")) == "192.0.2.5"
        forged = self.request(REMOTE_ADDR="192.0.2.5", HTTP_X_FORWARDED_FOR="198.51.100.1")
        assert client_ip(forged) == "192.0.2.5"

    def test_behind_the_proxy_only_its_header_counts(self, settings):
        settings.CLIENT_IP_HEADER = "X-Forwarded-For"
        settings.TRUSTED_PROXY_COUNT = 1
        proxied = self.request(REMOTE_ADDR="172.18.0.2", HTTP_X_FORWARDED_FOR="203.0.113.7")
        assert client_ip(proxied) == "203.0.113.7"
        # What the client put in the header itself is left of the proxy's entry: ignored.
        spoofed = self.request(
            REMOTE_ADDR="172.18.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7"
        )
        assert client_ip(spoofed) == "203.0.113.7"
        # Not through the proxy: no address rather than the socket's.
        assert client_ip(self.request(REMOTE_ADDR="172.18.0.2")) is None
        garbage = self.request(HTTP_X_FORWARDED_FOR="not-an-address")
        assert client_ip(garbage) is None

    def test_two_trusted_proxies_read_the_second_entry_from_the_right(self, settings):
        settings.CLIENT_IP_HEADER = "X-Forwarded-For"
        settings.TRUSTED_PROXY_COUNT = 2
        chained = self.request(HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9, 10.0.0.3")
        assert client_ip(chained) == "203.0.113.9"
        assert client_ip(self.request(HTTP_X_FORWARDED_FOR="203.0.113.9")) is None

    def test_lockout_behind_the_proxy_is_per_person_not_per_proxy(self, world, settings):
        settings.CLIENT_IP_HEADER = "X-Forwarded-For"
        settings.TRUSTED_PROXY_COUNT = 1
        proxy = "172.18.0.2"

        def login(username: str, password: str, client_address: str, forged: str = ""):
            header = f"{forged}, {client_address}" if forged else client_address
            return Client().post(
                LOGIN_URL,
                {"username": username, "password": password},
                REMOTE_ADDR=proxy,
                HTTP_X_FORWARDED_FOR=header,
            )

        for _ in range(django_settings.AXES_FAILURE_LIMIT):
            login("fran", "wrong-password", "203.0.113.20")

        # Everybody shares the proxy's socket address; only the locked pair is refused,
        # and forging a header entry does not get round it.
        assert login("fran", PASSWORD, "203.0.113.20").status_code == 429
        assert login("fran", PASSWORD, "203.0.113.20", forged="8.8.8.8").status_code == 429
        assert login("bill", PASSWORD, "203.0.113.21").status_code == 302
        failure = AccessFailureLog.objects.filter(username="fran").first()
        assert failure is not None
        assert failure.ip_address == "203.0.113.20"


def test_production_reads_the_client_address_from_the_proxy_header(tmp_path: Path) -> None:
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.CLIENT_IP_HEADER, s.TRUSTED_PROXY_COUNT, s.AXES_CLIENT_IP_CALLABLE)"
    )
    default = run([sys.executable, "-c", code], production_env(tmp_path))
    assert default.returncode == 0, default.stderr
    assert default.stdout.split() == ["X-Forwarded-For", "1", "billing_ops.security.client_ip"]

    custom = production_env(
        tmp_path, DJANGO_CLIENT_IP_HEADER="X-Real-IP", DJANGO_TRUSTED_PROXY_COUNT="2"
    )
    result = run([sys.executable, "-c", code], custom)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["X-Real-IP", "2"]


@pytest.mark.parametrize("value", ["0", "two"])
def test_a_bad_proxy_count_is_refused(tmp_path: Path, value: str) -> None:
    result = run(
        [sys.executable, "-c", "import django; django.setup()"],
        production_env(tmp_path, DJANGO_TRUSTED_PROXY_COUNT=value),
    )
    assert result.returncode != 0
    assert "DJANGO_TRUSTED_PROXY_COUNT" in result.stderr
