"""The Denials queue (rank, filters, one row per denied claim in My day) and the API's
behaviour beyond the permission matrix (filters, PATCH, conflicts, appeal create)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from denials import services
from denials.choices import DenialCategory, NextAction, RootCause
from denials.models import Appeal
from practices.choices import AccessAction
from practices.models import PhiAccessLog
from work.choices import WAIT

pytestmark = pytest.mark.django_db


def local_today() -> dt.date:
    """Today in the practice's time zone, read when a test uses it (a constant read at
    import goes stale when a run crosses midnight)."""
    return timezone.localdate()


def test_rank_is_amount_times_urgency_of_the_deadline(world: Any, make_denial: Any) -> None:
    big_far = make_denial(amount="5000.00", received_on=local_today())  # 90 days left
    big_near = make_denial(
        carc="4", amount="5000.00", received_on=local_today() - dt.timedelta(days=85)
    )
    small_near = make_denial(
        carc="16", amount="50.00", received_on=local_today() - dt.timedelta(days=85)
    )
    assert big_near.priority > big_far.priority > small_near.priority
    assert "5 days to appeal deadline" in big_near.priority_explanation


def test_queue_page_filters_by_category_route_carc_and_payer(
    world: Any, make_claim: Any, make_denial: Any, client_for: Any
) -> None:
    coding = make_denial(carc="4")
    necessity = make_denial(carc="50")
    client = client_for(world.bill)

    def shown(query: str) -> set[str]:
        page = client.get(f"/queues/denials/{query}").content.decode()
        return {d.number for d in (coding, necessity) if f">{d.number}<" in page}

    assert shown("") == {coding.number, necessity.number}
    assert shown(f"?category={DenialCategory.CODING}") == {coding.number}
    assert shown("?route=practice") == {necessity.number}
    assert shown("?carc=50") == {necessity.number}
    assert shown(f"?payer={make_claim.payer.pk}") == {coding.number, necessity.number}


def test_my_day_shows_the_denial_not_its_claim(
    world: Any, make_denial: Any, client_for: Any
) -> None:
    denial = make_denial(received_on=local_today() - dt.timedelta(days=89))  # due today (deadline)
    services.denial_request_records(
        actor=world.bill, denial=denial, what="Notes", due=local_today()
    )
    page = client_for(world.bill).get("/queues/my-day/").content.decode()
    assert f">{denial.number}<" in page
    assert f">{denial.claim.pms_claim_number}</a>" not in page  # the claim waits on it


def test_api_lists_filters_and_patches(world: Any, make_denial: Any, client_for: Any) -> None:
    coding, necessity = make_denial(carc="4"), make_denial(carc="50")
    client = client_for(world.vera)
    body = client.get("/api/v1/denials/", {"category": "coding"}).json()
    assert [row["id"] for row in body["results"]] == [coding.pk]
    assert body["results"][0]["claim_number"] == coding.claim.pms_claim_number
    assert "patient" not in body["results"][0]

    response = client.patch(
        f"/api/v1/denials/{necessity.pk}/",
        {
            "version": necessity.version,
            "root_cause": RootCause.DOCUMENTATION,
            "next_action": NextAction.WAIT,
            "next_action_due": (local_today() + dt.timedelta(days=5)).isoformat(),
            "wait_reason": "the practice's notes",
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    necessity.refresh_from_db()
    assert necessity.root_cause == RootCause.DOCUMENTATION
    assert (necessity.next_action, necessity.wait_reason) == (WAIT, "the practice's notes")

    stale = client.patch(
        f"/api/v1/denials/{necessity.pk}/",
        {"version": 1, "root_cause": RootCause.PAYER},
        content_type="application/json",
    )
    assert stale.status_code == 409
    assert stale.json()["current_version"] == necessity.version


def test_api_patch_refuses_an_invalid_next_action_and_changes_nothing(
    world: Any, make_denial: Any, client_for: Any
) -> None:
    denial = make_denial()
    response = client_for(world.bill).patch(
        f"/api/v1/denials/{denial.pk}/",
        {"version": denial.version, "root_cause": "payer", "next_action": WAIT},
        content_type="application/json",
    )
    assert response.status_code == 400
    denial.refresh_from_db()
    assert denial.root_cause == ""  # all or nothing


def test_api_creates_an_appeal_with_a_drafted_letter(
    world: Any, make_denial: Any, client_for: Any
) -> None:
    denial = make_denial(amount=Decimal("300.00"))
    response = client_for(world.bill).post(
        "/api/v1/appeals/", {"denial": denial.pk}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    appeal = Appeal.objects.get(pk=response.json()["id"])
    assert appeal.created_by == world.bill
    assert "$300.00" in appeal.letter


def test_denials_api_reads_are_logged_as_phi_reads_of_the_claims_patients(
    world: Any, client_for: Any, make_denial: Any
) -> None:
    denial = make_denial()
    client = client_for(world.bill)

    assert client.get("/api/v1/denials/").status_code == 200
    assert client.get(f"/api/v1/denials/{denial.pk}/").status_code == 200
    rows = list(PhiAccessLog.objects.filter(user=world.bill).order_by("pk"))
    assert [(r.what, r.patient_ids, r.action) for r in rows] == [
        ("denials API list", [denial.claim.patient_id], AccessAction.API),
        ("denials API retrieve", [denial.claim.patient_id], AccessAction.API),
    ]
    assert client_for(world.mia).get(f"/api/v1/denials/{denial.pk}/").status_code == 404
    assert not PhiAccessLog.objects.filter(user=world.mia).exists()
