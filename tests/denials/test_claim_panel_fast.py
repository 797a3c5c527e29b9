"""The claim page's Denials panel read by one plain statement and rendered without the
request's context processors (issue 10, speed): the same HTML as the scoped ORM query and
the request context (``plain=True``) for every user of the shared world, on a claim
without denials and on one with a claim-level and a line-level denial (one closed)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.utils import timezone

from denials.models import Denial
from denials.panels import claim_denials

pytestmark = pytest.mark.django_db

USERS = ("sam", "fran", "bill", "mia", "vera", "vic", "val")


def _compare(w: Any, claim: Any) -> dict[str, str]:
    shown = {}
    for name in USERS:
        request = RequestFactory().get(f"/claims/{claim.pk}/")
        request.user = get_user_model().objects.get(pk=getattr(w, name).pk)
        fast = claim_denials(request, claim)
        assert fast == claim_denials(request, claim, plain=True), name
        shown[name] = fast
    return shown


def test_the_panel_is_the_same_both_ways(world: Any, make_claim: Any, make_denial: Any) -> None:
    bare = make_claim()
    assert set(_compare(world, bare).values()) == {""}

    claim = make_claim()
    today = timezone.localdate()
    make_denial(claim=claim, carc="50", received_on=today - dt.timedelta(days=5))
    line = claim.lines.order_by("line_number").last()
    on_line = make_denial(
        claim=claim, line=line, carc="16", amount=Decimal("40.00"), received_on=today
    )
    make_denial(claim=make_claim(), carc="197")  # another claim's
    Denial.objects.filter(pk=on_line.pk).update(amount=Decimal("1234.50"))
    shown = _compare(world, claim)
    assert shown["bill"].count('class="list-group-item small"') == 2
    assert f"line {line.line_number}" in shown["bill"] and "$1,234.50" in shown["bill"]
    # Newest received first, as before.
    assert shown["bill"].index(on_line.number) < shown["bill"].index("-50")
    assert shown["fran"] == "" and shown["mia"] == ""  # no claims work at Sunrise
