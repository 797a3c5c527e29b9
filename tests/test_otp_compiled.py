"""The session's second-factor device read by a statement compiled once per device model
(``billing_ops.otp``, issue 10, speed) is the device django_otp's ``from_persistent_id``
reads, for every user of the shared world with TOTP and static devices, confirmed or not,
deleted, with legacy and malformed ids; a user whose device is removed between two
requests is asked for the second factor again on the next one."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from billing_ops import otp
from tests.conftest import login

pytestmark = pytest.mark.django_db

USERS = ("sam", "fran", "bill", "mia", "vera", "vic", "val")


def _key(device: Any) -> Any:
    return None if device is None else (type(device), device.pk, device.user_id, device.confirmed)


def _ids(world: Any) -> list[str]:
    ids = []
    for n, name in enumerate(USERS):
        user = getattr(world, name)
        totp = TOTPDevice.objects.create(user=user, name=f"phone {n}", confirmed=n % 2 == 0)
        static = StaticDevice.objects.create(user=user, name=f"codes {n}", confirmed=True)
        ids += [totp.persistent_id, static.persistent_id]
    gone = TOTPDevice.objects.create(user=world.bill, name="gone", confirmed=True)
    ids.append(gone.persistent_id)
    gone.delete()
    return [
        *ids,
        "django_otp.plugins.otp_totp.models.TOTPDevice/1",  # a legacy id
        "otp_totp.totpdevice/abc",
        "otp_totp.totpdevice/99999999999999999999999",
        "nope.model/1",
        "no-slash",
        "auth.user/1",  # a model that is not a device: django_otp's own answer
    ]


def test_the_compiled_read_gives_django_otps_device(world):
    ids = _ids(world)
    middleware = otp.OTPMiddleware(lambda request: None)
    for persistent_id in ids:
        try:
            plain = _key(otp.device_from_persistent_id(persistent_id, plain=True))
        except AttributeError:  # django_otp's answer for a model that is not a device
            plain = AttributeError
        try:
            fast = _key(otp.device_from_persistent_id(persistent_id))
        except AttributeError:
            fast = AttributeError
        assert fast == plain, persistent_id
        normalized = middleware._normalize_persistent_id(persistent_id)
        if plain is not AttributeError:
            assert _key(middleware._device_from_persistent_id(persistent_id)) == _key(
                otp.device_from_persistent_id(normalized, plain=True)
            )
    found = [otp.device_from_persistent_id(i) for i in ids[: 2 * len(USERS)]]
    assert all(device is not None for device in found)
    assert {type(d) for d in found} == {TOTPDevice, StaticDevice}
    assert otp._reads and all(
        statement.ok for read in otp._reads.values() for statement in read._statements.values()
    )


def test_a_removed_device_asks_for_the_second_factor_again(world):
    client = login(Client(), world.sam)  # a manager: a second factor is required
    assert client.get("/queues/my-day/").status_code == 200
    TOTPDevice.objects.filter(user=world.sam).delete()
    response = client.get("/queues/my-day/")
    assert response.status_code == 302 and "/account/mfa/" in response["Location"]


def test_an_unconfirmed_or_foreign_device_does_not_verify(world):
    client = login(Client(), world.sam)
    TOTPDevice.objects.filter(user=world.sam).update(confirmed=False)
    assert client.get("/queues/my-day/").status_code == 302
    client = login(Client(), world.val)
    device = TOTPDevice.objects.get(user=world.val)
    TOTPDevice.objects.filter(pk=device.pk).update(user=world.vera)
    assert client.get("/queues/my-day/").status_code == 302
