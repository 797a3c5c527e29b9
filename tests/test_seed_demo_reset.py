"""`manage.py seed_demo --reset` (issue 9): a clean demo, second factors and passwords too."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from claims import services
from claims.models import Claim, ClaimActivity
from demo.management.commands.seed_demo import DEMO_PASSWORD

pytestmark = pytest.mark.slow
User = get_user_model()


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_reset_gives_a_clean_demo(db):
    seed()
    claims = Claim.objects.count()
    sam = User.objects.get(username="sam.manager")
    TOTPDevice.objects.create(user=sam, name="Authenticator app", confirmed=True)
    sam.set_password("someone-changed-it-1")
    sam.save()
    bill = User.objects.get(username="bill.biller")
    claim = Claim.objects.filter(practice__slug="sunrise-dental").order_by("pk").first()
    services.claim_add_note(actor=bill, claim=claim, text="left over from the last demo")

    out = seed("--reset")

    assert "Demo reset: 2 practices emptied, 1 second factors" in out
    assert not TOTPDevice.objects.filter(user=sam).exists()
    sam.refresh_from_db()
    assert sam.check_password(DEMO_PASSWORD)
    assert not ClaimActivity.objects.filter(text="left over from the last demo").exists()
    # the same demo again
    assert Claim.objects.count() == claims
    assert "bill.biller" in out
