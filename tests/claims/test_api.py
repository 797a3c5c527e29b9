"""The claims API: scope on every endpoint, filters, keyset pages at a constant query count,
writes through the services (field errors 400, stale versions 409, nothing half-saved),
attachments with clinical kinds hidden, and "work next"."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from django.utils import timezone
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

from claims import api, priority, services
from claims import urls as claims_urls
from claims.choices import ActivityKind, AttachmentKind, ClaimStatus, NextAction
from claims.models import Attachment, Claim, ClaimActivity, ClaimLine, ScrubFinding
from tests import factories
from tests.permission_matrix import PERSONAS, Endpoint, PermissionMatrixMixin
from work import services as work_services

CLAIMS = "/api/v1/claims/"
WORK_NEXT = "/api/v1/claims/work-next/"


def local_today() -> dt.date:
    """Today in the practice's time zone, read when a test uses it (a module-level
    constant read at import went stale when a run crossed midnight)."""
    return timezone.localdate()


WORKERS = frozenset({"sam", "bill", "vera", "val"})  # work_claims on Sunrise
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def url(claim: Claim, suffix: str = "") -> str:
    return f"{CLAIMS}{claim.pk}/{suffix}"


def first_claim(w: Any) -> Claim:
    return Claim.objects.filter(practice=w.sunrise).order_by("pk").first()


def ids(response: Any) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def post_json(client: Any, path: str, data: dict[str, Any]) -> Any:
    return client.post(path, data, content_type="application/json")


def patch_json(client: Any, path: str, data: dict[str, Any]) -> Any:
    return client.patch(path, data, content_type="application/json")


def create_payload(w: Any, provider: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "patient": w.sunrise_patient.pk,
        "coverage": w.sunrise_patient.coverages.get().pk,
        "provider": provider.pk,
        "pms_claim_number": "API-1",
        "service_date_from": (local_today() - dt.timedelta(days=5)).isoformat(),
        "lines": [
            {"procedure_code": "d1110", "charge": "120.00"},
            {"procedure_code": "D0120", "charge": "80.50", "tooth": "3", "units": "1"},
        ],
        "next_action": NextAction.CORRECT_AND_RESUBMIT,
        "next_action_due": local_today().isoformat(),
    }
    data.update(overrides)
    return data


def maple_claim(w: Any, make_claim: Any, **overrides: Any) -> Claim:
    overrides.setdefault("owner", w.mia)
    return make_claim(
        actor=w.mia,
        patient=w.maple_patient,
        coverage=factories.CoverageFactory(patient=w.maple_patient),
        provider=factories.ProviderFactory(practice=w.maple),
        **overrides,
    )


# --- permission matrix ----------------------------------------------------------------


class TestClaimApiPermissions(PermissionMatrixMixin):
    """Every endpoint as anonymous, each role, vendor staff with and without insurance
    billing, and the other practice's manager: only Sunrise claim workers get through."""

    @pytest.fixture(autouse=True)
    def _claims(self, world: Any, make_claim: Any) -> None:
        # The first claim (bill's) is the one the endpoints act on; every worker owns one
        # due claim so "work next" has something to hand each of them.
        for owner in ("bill", "sam", "vera", "val"):
            make_claim(owner=world.users[owner])
        factories.PatientFactory(practice=world.sunrise)

    endpoints = [
        Endpoint(
            "list", "get", lambda w: CLAIMS, WORKERS, api=True, marker=lambda w: first_claim(w).pk
        ),
        Endpoint(
            "list my day",
            "get",
            lambda w: f"{CLAIMS}?queue=all-open&status=draft",
            WORKERS,
            api=True,
            marker=lambda w: first_claim(w).pk,
        ),
        Endpoint("detail", "get", lambda w: url(first_claim(w)), WORKERS, api=True),
        Endpoint(
            "patch",
            "patch",
            lambda w: url(first_claim(w)),
            WORKERS,
            api=True,
            data=lambda w: {"version": first_claim(w).version, "next_action": "call_payer"},
        ),
        Endpoint(
            "transition",
            "post",
            lambda w: url(first_claim(w), "transition/"),
            WORKERS,
            api=True,
            data=lambda w: {"version": first_claim(w).version, "to_status": "void"},
        ),
        Endpoint(
            "note",
            "post",
            lambda w: url(first_claim(w), "notes/"),
            WORKERS,
            api=True,
            ok_status=201,
            data=lambda w: {"text": "Called the payer."},
        ),
        Endpoint("activity", "get", lambda w: url(first_claim(w), "activity/"), WORKERS, api=True),
        Endpoint(
            "follow-up",
            "post",
            lambda w: url(first_claim(w), "follow-ups/"),
            WORKERS,
            api=True,
            ok_status=201,
            data=lambda w: {
                "version": first_claim(w).version,
                "channel": "phone",
                "contact": "Ann at Delta",
                "outcome": "In review",
            },
        ),
        Endpoint(
            "attachments", "get", lambda w: url(first_claim(w), "attachments/"), WORKERS, api=True
        ),
        Endpoint(
            "attachment request",
            "post",
            lambda w: url(first_claim(w), "attachments/"),
            WORKERS,
            api=True,
            ok_status=201,
            data=lambda w: {"kind": "eob", "label": "Primary EOB"},
        ),
        Endpoint(
            "work next",
            "post",
            lambda w: WORK_NEXT,
            WORKERS,
            api=True,
            data=lambda w: {"practice": w.sunrise.pk},
        ),
    ]


@pytest.mark.parametrize("persona", PERSONAS)
def test_create_permissions(world, client_for, make_claim, persona):
    """Creating needs work_claims at the patient's practice; the ids of anybody else's
    rows read as "Invalid pk" (400) and nothing is created."""
    user = None if persona == "anonymous" else world.users[persona]
    payload = create_payload(world, make_claim.provider)

    response = post_json(client_for(user), CLAIMS, payload)

    if persona == "anonymous":
        assert response.status_code in (401, 403)
    elif persona in WORKERS:
        assert response.status_code == 201, response.content
        assert Claim.objects.get(pms_claim_number="API-1").owner == user
        return
    else:
        assert response.status_code == 400
        assert "Invalid pk" in response.json()["patient"][0]
    assert not Claim.objects.exists()


def test_other_practice_sees_only_its_own_claims(world, client_for, make_claim):
    sunrise = make_claim()
    maple = maple_claim(world, make_claim)

    assert ids(client_for(world.mia).get(CLAIMS)) == [maple.pk]
    assert set(ids(client_for(world.val).get(CLAIMS))) == {sunrise.pk, maple.pk}
    assert client_for(world.mia).get(url(sunrise)).status_code == 404
    assert client_for(world.bill).get(f"{CLAIMS}99999/").status_code == 404
    # A filter value naming another practice is refused, not silently widened.
    assert client_for(world.bill).get(CLAIMS, {"practice": world.maple.pk}).status_code == 400


# --- list: rows, filters, queues, pages -----------------------------------------------


def test_list_row(world, client_for, make_claim):
    claim = make_claim(
        lines=[{"procedure_code": "D2740", "charge": "1240.00"}],
        next_action_due=local_today() - dt.timedelta(days=3),
    )

    response = client_for(world.bill).get(CLAIMS)

    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert row == {
        "id": claim.pk,
        "practice": world.sunrise.pk,
        "pms_claim_number": claim.pms_claim_number,
        "patient": claim.patient_id,
        "patient_name": str(claim.patient),
        "payer": claim.payer_id,
        "payer_name": claim.payer.name,
        "status": "draft",
        "owner": world.bill.pk,
        "owner_name": "Test " + world.bill.last_name,
        "next_action": "correct_and_resubmit",
        "next_action_due": (local_today() - dt.timedelta(days=3)).isoformat(),
        "wait_reason": "",
        "total_billed": "1240.00",
        "total_allowed": "0.00",
        "total_paid": "0.00",
        "total_adjusted": "0.00",
        "patient_responsibility": "0.00",
        "balance": "1240.00",
        "follow_up_count": 0,
        "priority": claim.priority,
        "priority_explanation": priority.explain(claim),
        "version": 1,
    }
    assert row["priority_explanation"].startswith("$1,240.00 (+12)")
    assert "10 days old (+3)" in row["priority_explanation"]
    assert "3 days overdue" in row["priority_explanation"]


def test_filters_compose(world, client_for, make_claim):
    other_payer = factories.PayerFactory(practice=world.sunrise)
    wanted = make_claim(lines=[{"procedure_code": "D2740", "charge": "500.00"}])
    make_claim(lines=[{"procedure_code": "D2740", "charge": "5000.00"}])  # too much
    make_claim(payer=other_payer, lines=[{"procedure_code": "D2740", "charge": "500.00"}])
    make_claim(lines=[{"procedure_code": "D2740", "charge": "450.00"}])  # stays draft
    for claim in Claim.objects.exclude(total_billed=Decimal("450.00")):
        services.claim_transition(actor=world.bill, claim=claim, to_status=ClaimStatus.READY)
    client = client_for(world.bill)

    response = client.get(
        CLAIMS,
        {
            "status": ["ready", "submitted"],
            "payer": make_claim.payer.pk,
            "amount_min": "100",
            "amount_max": "1000",
        },
    )

    assert response.status_code == 200
    assert ids(response) == [wanted.pk]
    assert len(ids(client.get(CLAIMS, {"status": ["ready", "draft"]}))) == 4
    assert len(ids(client.get(CLAIMS, {"payer": other_payer.pk}))) == 1
    assert ids(client.get(CLAIMS, {"age": "31-60"})) == []
    due = {
        "due_from": local_today().isoformat(),
        "due_to": local_today().isoformat(),
        "owner": world.bill.pk,
    }
    assert len(ids(client.get(CLAIMS, {**due, "next_action": "correct_and_resubmit"}))) == 4
    assert client.get(CLAIMS, {"status": "nonsense"}).status_code == 400


def test_queues(world, client_for, make_claim):
    mine_due = make_claim()
    make_claim(next_action_due=local_today() + dt.timedelta(days=4))
    voided = make_claim()
    services.claim_transition(actor=world.bill, claim=voided, to_status=ClaimStatus.VOID)
    rejected = make_claim()
    for status in (ClaimStatus.READY, ClaimStatus.SUBMITTED, ClaimStatus.REJECTED):
        rejected = services.claim_transition(actor=world.bill, claim=rejected, to_status=status)
    client = client_for(world.bill)

    assert len(ids(client.get(CLAIMS))) == 4  # default: every claim, closed ones too
    assert voided.pk not in ids(client.get(CLAIMS, {"queue": "all-open"}))
    assert set(ids(client.get(CLAIMS, {"queue": "my-day"}))) == {mine_due.pk, rejected.pk}
    assert ids(client.get(CLAIMS, {"queue": "rejections"})) == [rejected.pk]
    assert ids(client_for(world.vera).get(CLAIMS, {"queue": "my-day"})) == []
    assert client.get(CLAIMS, {"queue": "nope"}).status_code == 400


def test_cursor_pages_cover_everything_once_in_priority_order(world, client_for, make_claim):
    for i in range(7):
        make_claim(lines=[{"procedure_code": "D1110", "charge": f"{100 + i * 150}"}])
    client = client_for(world.bill)
    seen: list[dict[str, Any]] = []
    page_url: str | None = f"{CLAIMS}?page_size=3"
    sizes = []
    while page_url:
        body = client.get(page_url).json()
        sizes.append(len(body["results"]))
        seen += body["results"]
        page_url = body["next"]

    assert sizes == [3, 3, 1]
    assert sorted(row["id"] for row in seen) == sorted(Claim.objects.values_list("pk", flat=True))
    ranks = [(row["priority"], row["id"]) for row in seen]
    assert ranks == sorted(ranks, reverse=True)
    assert api.ClaimCursorPagination.page_size == 50


def test_list_query_count_does_not_grow_with_rows(world, client_for, make_claim):
    for _ in range(5):
        make_claim()
    client = client_for(world.bill)
    client.get(CLAIMS)  # warm the session and content types
    with CaptureQueriesContext(connection) as few:
        assert len(ids(client.get(CLAIMS))) == 5
    other_owner = world.vera
    for i in range(35):
        make_claim(owner=other_owner if i % 2 else world.bill)

    with CaptureQueriesContext(connection) as many:
        response = client.get(CLAIMS)

    assert len(ids(response)) == 40
    assert len(many) == len(few), [q["sql"] for q in many]


# --- detail ---------------------------------------------------------------------------


def test_detail_has_lines_findings_and_transitions(world, client_for, make_claim):
    claim = make_claim(
        lines=[
            {"procedure_code": "D2740", "charge": "1000.00", "tooth": "30"},
            {"procedure_code": "D0220", "charge": "35.00"},
        ]
    )
    ScrubFinding.objects.create(
        claim=claim, rule="missing_xray", severity="warning", message="Crown needs an x-ray."
    )

    body = client_for(world.vera).get(url(claim)).json()

    assert [(line["line_number"], line["procedure_code"]) for line in body["lines"]] == [
        (1, "D2740"),
        (2, "D0220"),
    ]
    assert body["lines"][0]["charge"] == "1000.00"
    assert body["findings"][0]["message"] == "Crown needs an x-ray."
    assert body["allowed_transitions"] == ["ready", "void"]
    assert body["attachments"] == []
    assert body["total_billed"] == "1035.00"
    assert body["held_by_me"] is False


# --- create ---------------------------------------------------------------------------


def test_create(world, client_for, make_claim):
    payload = create_payload(
        world, make_claim.provider, owner=world.vera.pk, diagnosis_codes=["K02.52"]
    )

    response = post_json(client_for(world.bill), CLAIMS, payload)

    assert response.status_code == 201, response.content
    body = response.json()
    claim = Claim.objects.get(pk=body["id"])
    assert (claim.status, claim.owner, claim.version) == ("draft", world.vera, 1)
    assert claim.total_billed == Decimal("200.50")
    assert body["total_billed"] == "200.50"
    assert [line.procedure_code for line in claim.lines.all()] == ["D1110", "D0120"]
    assert body["allowed_transitions"] == ["ready", "void"]
    assert claim.diagnosis_codes == ["K02.52"]
    assert claim.history.get().history_user == world.bill
    assert claim.activities.get().kind == ActivityKind.CREATED


@pytest.mark.parametrize(
    "lines",
    [
        [],
        [{"procedure_code": "D1110"}],
        [{"procedure_code": "D1110", "charge": "-5"}],
        [{"procedure_code": "D1110", "charge": "abc"}],
        [{"procedure_code": "D1110", "charge": "10"}, {"procedure_code": "X" * 11, "charge": "1"}],
        [{"procedure_code": "D1110", "charge": "10", "diagnosis_pointers": [0]}],
        "not a list",
    ],
)
def test_create_with_bad_lines_creates_nothing(world, client_for, make_claim, lines):
    payload = create_payload(world, make_claim.provider, lines=lines)

    response = post_json(client_for(world.bill), CLAIMS, payload)

    assert response.status_code == 400
    assert "lines" in response.json()
    assert not Claim.objects.exists()
    assert not ClaimLine.objects.exists()


def test_create_with_coverage_of_another_practice(world, client_for, make_claim):
    maple_coverage = factories.CoverageFactory(patient=world.maple_patient)
    payload = create_payload(world, make_claim.provider, coverage=maple_coverage.pk)

    # bill cannot see Maple at all: the id reads as missing.
    response = post_json(client_for(world.bill), CLAIMS, payload)
    assert response.status_code == 400
    assert "Invalid pk" in response.json()["coverage"][0]

    # val works both practices: the service refuses the mix.
    response = post_json(client_for(world.val), CLAIMS, payload)
    assert response.status_code == 400
    assert response.json()["coverage"] == ["Must belong to Sunrise Dental."]
    assert not Claim.objects.exists()


def test_create_field_errors(world, client_for, make_claim):
    client = client_for(world.val)
    cases = [
        ({"owner": world.fran.pk}, "owner", "Invalid pk"),  # fran works no claims
        ({"owner": world.mia.pk}, "owner", "cannot work claims of Sunrise Dental"),
        ({"next_action": "wait"}, "wait_reason", "Say what we are waiting for"),
        ({"next_action": "dance"}, "next_action", "not a valid choice"),
        ({"service_date_to": "2000-01-01"}, "service_date_to", "before the first"),
        ({"pms_claim_number": ""}, "pms_claim_number", "may not be blank"),
    ]
    for overrides, field, message in cases:
        payload = create_payload(world, make_claim.provider, **overrides)
        response = post_json(client, CLAIMS, payload)
        assert response.status_code == 400, (overrides, response.content)
        assert message in " ".join(response.json()[field]), (overrides, response.json())
    assert not Claim.objects.exists()


def test_create_duplicate_claim_number(world, client_for, make_claim):
    client = client_for(world.bill)
    assert post_json(client, CLAIMS, create_payload(world, make_claim.provider)).status_code == 201

    response = post_json(client, CLAIMS, create_payload(world, make_claim.provider))

    assert response.status_code == 400
    assert "already exists" in str(response.json())
    assert Claim.objects.count() == 1


# --- PATCH ----------------------------------------------------------------------------


def test_patch_sets_owner_and_next_action(world, client_for, make_claim):
    claim = make_claim()

    response = patch_json(
        client_for(world.bill),
        url(claim),
        {
            "version": claim.version,
            "owner": world.vera.pk,
            "next_action": "wait",
            "next_action_due": (local_today() + dt.timedelta(days=14)).isoformat(),
            "wait_reason": "payer reprocessing",
        },
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["owner"], body["next_action"], body["wait_reason"]) == (
        world.vera.pk,
        "wait",
        "payer reprocessing",
    )
    assert body["version"] == claim.version + 1
    claim.refresh_from_db()
    assert claim.owner == world.vera
    assert claim.activities.filter(kind=ActivityKind.NEXT_ACTION, actor=world.bill).exists()


def test_patch_keeps_unsent_fields(world, client_for, make_claim):
    claim = make_claim(
        next_action=NextAction.WAIT,
        wait_reason="EOB",
        next_action_due=local_today() + dt.timedelta(3),
    )

    response = patch_json(
        client_for(world.bill), url(claim), {"version": claim.version, "owner": world.sam.pk}
    )

    assert response.status_code == 200, response.content
    claim.refresh_from_db()
    assert (claim.owner, claim.next_action, claim.wait_reason) == (world.sam, "wait", "EOB")
    assert claim.next_action_due == local_today() + dt.timedelta(3)


def test_patch_with_stale_version_is_409_and_saves_nothing(world, client_for, make_claim):
    claim = make_claim()
    stale = claim.version
    services.claim_set_next_action(
        actor=world.sam, claim=claim, next_action=NextAction.APPEAL, next_action_due=local_today()
    )

    response = patch_json(
        client_for(world.bill),
        url(claim),
        {"version": stale, "next_action": "call_payer", "owner": world.vera.pk},
    )

    assert response.status_code == 409
    body = response.json()
    assert body["current_version"] == stale + 1
    assert "was changed by" in body["detail"]
    claim.refresh_from_db()
    assert (claim.next_action, claim.owner, claim.version) == ("appeal", world.bill, stale + 1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"practice": "other"}, "cannot move to another practice"),
        ({"patient": 1}, "cannot move to another patient"),
        ({"status": "paid"}, "/transition/"),
        ({"total_billed": "1.00"}, "PATCH changes only owner, next_action"),
    ],
)
def test_patch_refuses_fixed_fields(world, client_for, make_claim, change, message):
    claim = make_claim()
    body = {"version": claim.version, "next_action": "call_payer", **change}

    response = patch_json(client_for(world.bill), url(claim), body)

    assert response.status_code == 400
    field = next(iter(change))
    assert message in response.json()[field][0]
    claim.refresh_from_db()
    assert (claim.next_action, claim.version) == ("correct_and_resubmit", 1)


def test_patch_field_errors(world, client_for, make_claim):
    claim = make_claim()
    client = client_for(world.val)
    cases = [
        ({}, "version", "required"),
        ({"version": claim.version}, "non_field_errors", "Send at least one of"),
        ({"version": claim.version, "owner": world.fran.pk}, "owner", "Invalid pk"),
        ({"version": claim.version, "owner": world.mia.pk}, "owner", "cannot work claims"),
        ({"version": claim.version, "next_action": "wait"}, "wait_reason", "waiting for"),
    ]
    for body, field, message in cases:
        response = patch_json(client, url(claim), body)
        assert response.status_code == 400, (body, response.content)
        assert message in " ".join(response.json()[field]), (body, response.json())
    assert patch_json(client, url(claim), [1, 2]).status_code == 400
    claim.refresh_from_db()
    assert claim.version == 1
    assert client.put(url(claim), {}, content_type="application/json").status_code == 405


# --- transitions, notes, activity, follow-ups -----------------------------------------


def test_valid_transition(world, client_for, make_claim):
    claim = make_claim()

    response = post_json(
        client_for(world.vera),
        url(claim, "transition/"),
        {"version": claim.version, "to_status": "ready", "note": "scrubbed"},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["version"]) == ("ready", claim.version + 1)
    assert body["allowed_transitions"] == ["draft", "submitted", "void"]
    entry = claim.activities.get(kind=ActivityKind.STATUS)
    assert (entry.actor, entry.text) == (world.vera, "Draft → Ready. scrubbed")


def test_transition_with_new_next_action(world, client_for, make_claim):
    claim = make_claim()
    services.claim_transition(actor=world.bill, claim=claim, to_status=ClaimStatus.READY)
    claim.refresh_from_db()

    response = post_json(
        client_for(world.bill),
        url(claim, "transition/"),
        {
            "version": claim.version,
            "to_status": "submitted",
            "next_action": "wait",
            "next_action_due": (local_today() + dt.timedelta(days=30)).isoformat(),
            "wait_reason": "payer acknowledgement",
        },
    )

    assert response.status_code == 200, response.content
    claim.refresh_from_db()
    assert (claim.status, claim.next_action, claim.wait_reason) == (
        "submitted",
        "wait",
        "payer acknowledgement",
    )


def test_invalid_transition_explains_and_changes_nothing(world, client_for, make_claim):
    claim = make_claim()
    client = client_for(world.bill)

    response = post_json(
        client, url(claim, "transition/"), {"version": claim.version, "to_status": "paid"}
    )

    assert response.status_code == 400
    assert response.json()["to_status"] == [
        "A draft claim cannot become paid; it can become: Ready, Void."
    ]
    bad = post_json(client, url(claim, "transition/"), {"version": 1, "to_status": "bogus"})
    assert bad.status_code == 400
    stale = post_json(client, url(claim, "transition/"), {"version": 0, "to_status": "void"})
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 1
    claim.refresh_from_db()
    assert (claim.status, claim.version) == ("draft", 1)
    assert not claim.activities.filter(kind=ActivityKind.STATUS).exists()


def test_notes_and_activity_newest_first(world, client_for, make_claim):
    claim = make_claim()
    client = client_for(world.vera)

    response = post_json(client, url(claim, "notes/"), {"text": "  Called Delta, on hold.  "})
    assert response.status_code == 201, response.content
    assert response.json()["text"] == "Called Delta, on hold."
    assert response.json()["actor"] == world.vera.pk
    assert post_json(client, url(claim, "notes/"), {"text": "   "}).status_code == 400
    post_json(client, url(claim, "notes/"), {"text": "second"})

    body = client.get(url(claim, "activity/")).json()

    texts = [row["text"] for row in body["results"]]
    assert texts == ["second", "Called Delta, on hold.", "Created with 1 line(s)."]
    assert body["results"][0]["kind"] == "note"


def test_follow_ups_count(world, client_for, make_claim):
    claim = make_claim()
    client = client_for(world.vera)
    data = {"channel": "phone", "contact": "Ann", "outcome": "In review", "next_step": "Wait"}

    first = post_json(client, url(claim, "follow-ups/"), {**data, "version": 1})
    assert first.status_code == 201, first.content
    assert (first.json()["follow_up_count"], first.json()["version"]) == (1, 2)
    second = post_json(client, url(claim, "follow-ups/"), {**data, "version": 2})
    assert second.json()["follow_up_count"] == 2

    stale = post_json(client, url(claim, "follow-ups/"), {**data, "version": 2})
    assert stale.status_code == 409
    missing = post_json(client, url(claim, "follow-ups/"), {"version": 3, "channel": "phone"})
    assert missing.status_code == 400
    assert set(missing.json()) == {"contact", "outcome"}

    claim.refresh_from_db()
    assert claim.follow_up_count == 2
    entry = claim.activities.filter(kind=ActivityKind.FOLLOW_UP).first()
    assert (entry.channel, entry.contact, entry.outcome) == ("phone", "Ann", "In review")
    row = client.get(CLAIMS).json()["results"][0]
    assert row["follow_up_count"] == 2


# --- attachments ----------------------------------------------------------------------


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def test_attachments_clinical_kinds_hidden_from_vendor_staff(world, client_for, make_claim):
    claim = make_claim()
    bill = client_for(world.bill)

    response = bill.post(
        url(claim, "attachments/"),
        {
            "kind": "narrative",
            "label": "Crown narrative",
            "status": "received",
            "file": upload("n.pdf", PDF),
        },
    )
    assert response.status_code == 201, response.content
    narrative = response.json()
    assert narrative["is_clinical"] is True
    assert narrative["has_file"] is True
    assert narrative["download_url"] == f"/claims/{claim.pk}/attachments/{narrative['id']}/"
    assert bill.post(url(claim, "attachments/"), {"kind": "eob", "label": "EOB"}).status_code == 201

    vera = client_for(world.vera)
    assert [a["kind"] for a in vera.get(url(claim, "attachments/")).json()] == ["eob"]
    assert [a["kind"] for a in vera.get(url(claim)).json()["attachments"]] == ["eob"]
    assert [a["kind"] for a in bill.get(url(claim, "attachments/")).json()] == [
        "narrative",
        "eob",
    ]
    # The page route that serves the file refuses vera the clinical one as well.
    assert vera.get(narrative["download_url"]).status_code == 404
    download = bill.get(narrative["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    download.close()


def test_vendor_staff_cannot_add_clinical_attachment(world, client_for, make_claim):
    claim = make_claim()

    response = client_for(world.vera).post(
        url(claim, "attachments/"),
        {
            "kind": AttachmentKind.XRAY,
            "label": "BWX",
            "status": "received",
            "file": upload("x.pdf", PDF),
        },
    )

    # vera works the claim, so the refusal is about the field, not the claim.
    assert response.status_code == 400
    assert response.json()["kind"] == ["Clinical attachments are handled by the practice."]
    assert not Attachment.objects.exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"file": upload("scan.pdf", b"\x00\x01\x02\xff" * 64)},
            "file",
            "Only PDF, PNG, JPEG, TIFF or plain-text files can be attached.",
        ),
        (
            {"file": upload("big.pdf", PDF + b"0" * (10 * 1024 * 1024))},
            "file",
            "the limit is 10 MB",
        ),
        ({"file": upload("empty.pdf", b"")}, "file", "empty"),
        ({}, "file", "Attach the file, or mark the attachment as requested."),
        ({"kind": "selfie"}, "kind", "not a valid choice"),
        ({"label": ""}, "label", "may not be blank"),
    ],
)
def test_attachment_upload_errors(world, client_for, make_claim, data, field, message):
    claim = make_claim()
    body = {"kind": "eob", "label": "EOB", "status": "received", **data}

    response = client_for(world.bill).post(url(claim, "attachments/"), body)

    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert not Attachment.objects.exists()
    assert not ClaimActivity.objects.filter(kind=ActivityKind.ATTACHMENT).exists()


# --- work next ------------------------------------------------------------------------


def test_work_next_hands_out_then_204_when_the_only_due_claim_is_held(
    world, client_for, make_claim
):
    due = make_claim()
    make_claim(next_action_due=local_today() + dt.timedelta(days=2))  # not due yet
    client = client_for(world.bill)

    first = client.post(WORK_NEXT)

    assert first.status_code == 200, first.content
    assert first.json()["id"] == due.pk
    assert first.json()["held_by_me"] is True
    due.refresh_from_db()
    assert due.locked_by == world.bill
    assert client.post(WORK_NEXT).status_code == 204


def test_two_users_never_get_the_same_claim(world, client_for, make_claim):
    claim = make_claim()
    assert client_for(world.bill).post(WORK_NEXT).json()["id"] == claim.pk
    # Reassigned while bill holds it: vera's day has it, but nobody else gets a held claim.
    work_services.items_bulk_update(actor=world.sam, items={"claim": {claim.pk}}, owner=world.vera)
    vera = client_for(world.vera)

    assert vera.post(WORK_NEXT).status_code == 204

    Claim.objects.filter(pk=claim.pk).update(locked_until=timezone.now() - dt.timedelta(minutes=1))
    handed = vera.post(WORK_NEXT)
    assert handed.status_code == 200
    assert handed.json()["id"] == claim.pk
    claim.refresh_from_db()
    assert claim.locked_by == world.vera


def test_work_next_practice_param(world, client_for, make_claim):
    claim = make_claim()
    maple = maple_claim(world, make_claim, owner=world.val)
    val = client_for(world.val)
    Claim.objects.filter(pk=claim.pk).update(owner=world.val)

    assert val.post(WORK_NEXT, {"practice": world.maple.pk}).json()["id"] == maple.pk
    assert val.post(f"{WORK_NEXT}?practice={world.sunrise.pk}").json()["id"] == claim.pk
    assert client_for(world.bill).post(WORK_NEXT, {"practice": world.maple.pk}).status_code == 404
    assert client_for(world.bill).post(WORK_NEXT, {"practice": "x"}).status_code == 400
    assert client_for(world.fran).post(WORK_NEXT).status_code == 404
    assert client_for(world.mia).post(WORK_NEXT).status_code == 204  # Maple has nothing of hers


@pytest.mark.django_db(transaction=True)
def test_work_next_in_parallel_tabs_never_hands_a_claim_twice(world, client_for, make_claim):
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED concurrency needs PostgreSQL")
    for _ in range(6):
        make_claim()
    clients = [client_for(world.bill) for _ in range(4)] + [client_for(world.vera)]
    results: list[tuple[int, int | None]] = []
    barrier = threading.Barrier(len(clients))
    lock = threading.Lock()

    def worker(client: Any) -> None:
        try:
            barrier.wait()
            response = client.post(WORK_NEXT)
            with lock:
                results.append(
                    (response.status_code, response.json()["id"] if response.content else None)
                )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    handed = [pk for code, pk in results if code == 200]
    assert sorted(code for code, _ in results) == [200, 200, 200, 200, 204]  # vera owns none
    assert len(handed) == len(set(handed)) == 4
    assert Claim.objects.filter(locked_by=world.bill).count() == 4


# --- schema ---------------------------------------------------------------------------


def test_schema_of_the_claims_api_has_no_warnings():
    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("api/v1/", include(claims_urls.api_urlpatterns))])

    schema = generator.get_schema(request=None, public=True)

    assert not GENERATOR_STATS, dict(GENERATOR_STATS._warn_cache)
    paths = schema["paths"]
    assert "/api/v1/claims/work-next/" in paths
    assert set(paths["/api/v1/claims/{id}/"]) == {"get", "patch"}
    params = {p["name"] for p in paths["/api/v1/claims/"]["get"]["parameters"]}
    assert {"queue", "status", "payer", "amount_min", "amount_max", "cursor"} <= params
    assert set(paths["/api/v1/claims/{id}/transition/"]["post"]["responses"]) == {
        "200",
        "400",
        "404",
        "409",
    }
    assert "ClaimStatusEnum" in schema["components"]["schemas"]
