"""The claim page's Escalations panel written in Python (issue 10, speed): the same HTML as
``sops/claim_panel.html`` with the full ``readable`` condition (``plain=True``), for every
user of the shared world, on a claim without escalations and on one with open, answered,
routine and patient-impact escalations whose text needs escaping; its raise form's CSRF
token is accepted."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from sops import escalation_services as services
from sops.escalation_models import Escalation
from sops.panels import claim_escalations
from tests.claims import conftest as claim_fixtures
from tests.conftest import login
from tests.sops import scene

pytestmark = pytest.mark.django_db
make_claim = claim_fixtures.make_claim

USERS = ("sam", "fran", "bill", "mia", "vera", "vic", "val")
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]*)"')


@pytest.fixture
def sw(world: Any, make_claim: Any) -> Any:
    scene.build(world)
    world.claim = make_claim()
    world.other_claim = make_claim()
    return world


def _raise(w: Any, actor: Any, claim: Any, **overrides: Any) -> Escalation:
    fields: dict[str, Any] = {
        "actor": actor,
        "subject_type": "claim",
        "subject_id": claim.pk,
        "function_kind": "claim_follow_up",
        "question": "Other coverage on the date of service?",
        "deadline": timezone.localdate() + dt.timedelta(days=2),
    }
    fields.update(overrides)
    return services.escalation_raise(**fields)


def _both(user: Any, claim: Any) -> tuple[str, str]:
    """The panel both ways for one request of ``user``, CSRF tokens blanked (each
    ``get_token`` call masks the request's secret afresh; the last test posts one)."""
    request = RequestFactory().get(f"/claims/{claim.pk}/")
    request.user = user
    fast = claim_escalations(request, claim)
    plain = claim_escalations(request, claim, plain=True)
    assert len(TOKEN.findall(fast)) == len(TOKEN.findall(plain))
    return TOKEN.sub("TOKEN", fast), TOKEN.sub("TOKEN", plain)


def _compare(w: Any, claim: Any) -> dict[str, str]:
    shown = {}
    for name in USERS:
        user = get_user_model().objects.get(pk=getattr(w, name).pk)
        fast, plain = _both(user, claim)
        assert fast == plain, name
        shown[name] = fast
    return shown


def test_a_claim_without_escalations_shows_the_same_raise_form(sw: Any) -> None:
    shown = _compare(sw, sw.claim)
    assert 'id="escalation-form"' in shown["bill"]
    assert f'name="subject_id" value="{sw.claim.pk}"' in shown["bill"]
    assert shown["fran"] == ""  # no claims work at Sunrise: no panel
    assert shown["mia"] == ""  # another practice


def test_escalations_of_every_kind_render_as_the_template_does(sw: Any) -> None:
    _raise(sw, sw.vera, sw.claim, question='Is <b>"this"</b> & that covered?')
    _raise(sw, sw.sam, sw.claim, deadline=None, patient_impact="Crown <today> & tomorrow")
    _raise(sw, sw.bill, sw.claim, deadline=None, is_routine=True, question="Which fax?")
    answered = _raise(sw, sw.vera, sw.claim, question="Secondary payer?")
    services.escalation_answer(
        actor=sw.bill, escalation=answered, answer="Yes: <Cigna>\nsince 2024 & still\r\nvalid"
    )
    _raise(sw, sw.vera, sw.other_claim, question="About the other claim")
    shown = _compare(sw, sw.claim)
    assert "Is &lt;b&gt;&quot;this&quot;&lt;/b&gt; &amp; that covered?" in shown["bill"]
    assert "Yes: &lt;Cigna&gt;<br>since 2024 &amp; still<br>valid" in shown["bill"]
    assert "About the other claim" not in shown["bill"]
    assert shown["bill"].count('class="list-group-item"') == 4
    # The owner without a full name is shown by username, both ways.
    get_user_model().objects.filter(pk=sw.bill.pk).update(first_name="", last_name="")
    shown = _compare(sw, sw.claim)
    assert " · bill · by " in shown["vera"]


def test_the_pages_raise_form_posts_with_its_token(sw: Any) -> None:
    client = login(Client(enforce_csrf_checks=True), sw.bill)
    page = client.get(reverse("claim-detail", args=[sw.claim.pk]))
    assert page.status_code == 200
    form = page.text[page.text.index('id="escalation-form"') :]
    token = TOKEN.search(form)
    assert token is not None
    response = client.post(
        reverse("escalation-raise"),
        {
            "csrfmiddlewaretoken": token.group(1),
            "subject_type": "claim",
            "subject_id": sw.claim.pk,
            "function_kind": "claim_follow_up",
            "question": "Posted from the panel?",
            "deadline": (timezone.localdate() + dt.timedelta(days=3)).isoformat(),
        },
    )
    assert response.status_code == 302
    assert Escalation.objects.filter(subject_id=sw.claim.pk, question="Posted from the panel?")
