"""``POST /api/v1/appeals/{id}/send/`` and ``.../decide/``: the appeal services
(``denials.appeals``) through the API, scoped like the pages (``work_claims``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework.test import APIClient

from claims.models import Claim
from denials.choices import AppealOutcome, DenialStatus
from denials.models import Appeal, Denial
from tests.denials.test_denial_matrix import (
    WORKERS,
    appeal_of,
    build_scene,
    local_today,
    mark_sent,
)
from tests.permission_matrix import Endpoint, PermissionMatrixMixin


class TestAppealActionsApi(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        build_scene(world)

    endpoints = [
        Endpoint(
            "api appeal send",
            "post",
            lambda w: f"/api/v1/appeals/{w.appeal.pk}/send/",
            WORKERS,
            api=True,
            data=lambda w: {"method": "portal"},
            route="api:api-appeal-send",
            done=lambda c: appeal_of(c.world).sent_on is not None,
        ),
        Endpoint(
            "api appeal decide",
            "post",
            lambda w: f"/api/v1/appeals/{w.appeal.pk}/decide/",
            WORKERS,
            api=True,
            data=lambda w: {"outcome": AppealOutcome.UPHELD},
            route="api:api-appeal-decide",
            arrange=mark_sent,
            done=lambda c: appeal_of(c.world).outcome == AppealOutcome.UPHELD,
        ),
    ]


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_send_then_decide_overturned_closes_the_denial(world):
    build_scene(world)
    client = api(world.bill)
    url = f"/api/v1/appeals/{world.appeal.pk}"

    sent = client.post(f"{url}/send/", {"method": "fax"}, format="json")
    assert sent.status_code == 200, sent.content
    assert sent.json()["sent_on"] == local_today().isoformat()
    assert Claim.objects.get(pk=world.claim.pk).status == "appealed"
    again = client.post(f"{url}/send/", {"method": "fax"}, format="json")
    assert again.status_code == 400 and "already sent" in str(again.json())

    decided = client.post(
        f"{url}/decide/",
        {"outcome": AppealOutcome.OVERTURNED, "amount_recovered": "120.00"},
        format="json",
    )
    assert decided.status_code == 200, decided.content
    appeal = Appeal.objects.get(pk=world.appeal.pk)
    assert (appeal.outcome, appeal.amount_recovered) == ("overturned", Decimal("120.00"))
    denial = Denial.objects.get(pk=world.denial.pk)
    assert denial.status != DenialStatus.OPEN and denial.next_action == ""


def test_decide_refuses_what_the_service_refuses(world):
    build_scene(world)
    client = api(world.bill)
    url = f"/api/v1/appeals/{world.appeal.pk}/decide/"

    early = client.post(url, {"outcome": "upheld"}, format="json")
    assert early.status_code == 400 and "Send the appeal" in str(early.json())
    Appeal.objects.filter(pk=world.appeal.pk).update(sent_on=local_today(), method="fax")
    too_much = client.post(url, {"outcome": "partly", "amount_recovered": "500"}, format="json")
    assert too_much.status_code == 400 and "amount_recovered" in too_much.json()
    bad = client.post(url, {"outcome": "maybe"}, format="json")
    assert bad.status_code == 400 and "outcome" in bad.json()
    assert Appeal.objects.get(pk=world.appeal.pk).outcome == ""


def test_another_practice_appeal_is_not_found(world):
    build_scene(world)
    response = api(world.mia).post(
        f"/api/v1/appeals/{world.appeal.pk}/send/", {"method": "fax"}, format="json"
    )
    assert response.status_code == 404
    assert Appeal.objects.get(pk=world.appeal.pk).sent_on is None
