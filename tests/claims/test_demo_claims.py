"""The demo claims of `seed_demo`: the next-action invariant, every status, full days,
timelines that follow the status machine, and money that adds up."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterator
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from claims import scrubber
from claims.choices import (
    OPEN_STATUSES,
    PAYER_AR_STATUSES,
    TRANSITIONS,
    ActivityKind,
    ClaimStatus,
    NextAction,
)
from claims.models import Claim, ClaimActivity, ClaimLine
from claims.priority import compute
from claims.queues import CLAIM
from practices.models import FeeScheduleLine, Practice
from tests.conftest import login
from work.selectors import my_day_of_type
from work.services import check_next_action

User = get_user_model()


def my_day(user):  # noqa: ANN001, ANN201
    return my_day_of_type(CLAIM, user, timezone.localdate())


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    """Seed once for the module, inside a transaction rolled back after its last test
    (each test runs in a savepoint of it)."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        call_command("seed_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def seeded(demo: str, db: Any) -> str:
    return demo


def user(username: str) -> Any:
    return User.objects.get(username=username)


def test_every_claim_keeps_the_next_action_invariant(seeded: str) -> None:
    failures = []
    claims = Claim.objects.all()
    for claim in claims:
        try:
            check_next_action(claim)
        except ValidationError as exc:
            failures.append((claim.pms_claim_number, claim.status, exc.messages))
    assert failures == []
    open_claims = claims.filter(status__in=OPEN_STATUSES)
    assert open_claims.count() > 1000
    assert not open_claims.filter(owner__isnull=True).exists()


def test_demo_drafts_are_prepared_not_corrected(seeded: str) -> None:
    """Issue 9: a draft never sent is "prepare and submit", not "correct and resubmit"."""
    drafts = Claim.objects.filter(status=ClaimStatus.DRAFT)
    actions = Counter(drafts.values_list("next_action", flat=True))
    assert actions[NextAction.CORRECT_AND_RESUBMIT] == 0
    assert actions[NextAction.PREPARE_AND_SUBMIT] > actions[NextAction.REQUEST_INFO_PRACTICE] > 0


def test_every_status_in_every_practice(seeded: str) -> None:
    for practice in Practice.objects.all():
        statuses = Counter(Claim.objects.filter(practice=practice).values_list("status", flat=True))
        assert set(statuses) == set(ClaimStatus.values), practice
        assert sum(statuses.values()) == 1500
        # A year of work: most claims are done, and every queue has something in it.
        assert statuses[ClaimStatus.CLOSED] > 400
        assert min(statuses.values()) >= 20


def test_my_day_is_full_for_the_billers(seeded: str) -> None:
    today = timezone.localdate()
    bill, vera = my_day(user("bill.biller")), my_day(user("vera.vendor"))
    assert 40 <= bill.count() <= 80
    assert 40 <= vera.count() <= 80
    assert my_day(user("val.vendorlead")).exists()
    assert my_day(user("sam.manager")).exists()
    assert my_day(user("mia.manager")).exists()
    assert set(vera.values_list("practice__slug", flat=True)) == {"sunrise-dental"}
    assert set(bill.values_list("practice__slug", flat=True)) == {"sunrise-dental"}
    # Vendor staff own only claims of practices they are assigned to.
    assert not Claim.objects.filter(
        owner__username="vera.vendor", practice__slug="maple-family-medicine"
    ).exists()
    oldest = Claim.objects.order_by("service_date_from").first()
    assert oldest is not None and (today - oldest.service_date_from).days <= 366


def test_queue_page_renders_the_demo(seeded: str, client: Any) -> None:
    bill = user("bill.biller")
    login(client, bill)
    today = timezone.localdate()
    response = client.get("/queues/my-day/")
    assert response.status_code == 200
    assert "SD-0" in response.content.decode()
    mine = [item for item, _why in response.context["rows"]]
    assert mine, "bill's day is empty"
    assert all(c.owner_id == bill.pk and c.next_action_due <= today for c in mine)
    response = client.get("/queues/payer-ar/")
    assert response.status_code == 200
    rows = [item for item, _why in response.context["rows"]]
    assert rows, "the demo's payer AR queue is empty"
    assert {c.status for c in rows} <= set(PAYER_AR_STATUSES)
    # ranked: the page lists the claims highest priority first
    assert [c.priority for c in rows] == sorted((c.priority for c in rows), reverse=True)


def test_timelines_follow_the_status_machine(seeded: str) -> None:
    entries: dict[int, list[tuple[str, dict]]] = defaultdict(list)
    for claim_id, kind, data in ClaimActivity.objects.order_by("at", "pk").values_list(
        "claim_id", "kind", "data"
    ):
        entries[claim_id].append((kind, data))
    claims = Claim.objects.values_list(
        "pk", "status", "follow_up_count", "submission_count", "next_action", "next_action_due"
    )
    for pk, status, follow_ups, submissions, next_action, next_action_due in claims:
        timeline = entries[pk]
        assert timeline[0][0] == ActivityKind.CREATED
        moves = [data for kind, data in timeline if kind == ActivityKind.STATUS]
        assert moves[0] == {"from": None, "to": ClaimStatus.DRAFT}
        for before, after in zip(moves, moves[1:], strict=False):
            assert after["from"] == before["to"]
            if after.get("source") == "payment" and after["to"] == ClaimStatus.IN_ADJUDICATION:
                continue  # a reversal takes the payment back: the payer adjudicates again
            assert after["to"] in TRANSITIONS[after["from"]], (pk, after)
        assert moves[-1]["to"] == status
        assert sum(m["to"] == ClaimStatus.SUBMITTED for m in moves) == submissions
        assert sum(kind == ActivityKind.FOLLOW_UP for kind, _d in timeline) == follow_ups
        if status in OPEN_STATUSES:
            # Open: a next action, set on the timeline at least once (a posting or an
            # appeal sets it with the move it makes).
            assert ActivityKind.NEXT_ACTION in {kind for kind, _d in timeline}, pk
            assert next_action and next_action_due is not None, pk


def test_money_dates_and_priority_add_up(seeded: str) -> None:
    charges: dict[int, Decimal] = defaultdict(Decimal)
    for claim_id, charge in ClaimLine.objects.values_list("claim_id", "charge"):
        charges[claim_id] += charge
    for claim in Claim.objects.select_related("payer"):
        assert claim.total_billed == charges[claim.pk] > 0
        settled = claim.total_paid + claim.total_adjusted + claim.patient_responsibility
        assert settled <= claim.total_billed
        assert claim.total_paid <= claim.total_allowed
        if claim.status in (ClaimStatus.PAID, ClaimStatus.PARTIALLY_PAID):
            assert claim.total_paid > 0 and claim.total_allowed > 0
        if claim.status in (ClaimStatus.DRAFT, ClaimStatus.READY, ClaimStatus.SUBMITTED):
            assert claim.total_paid == 0
        if claim.status == ClaimStatus.CLOSED:
            assert claim.total_billed - settled == 0  # nothing left at stake
        days = claim.payer.timely_filing_days
        assert claim.timely_filing_deadline == claim.service_date_from + dt.timedelta(days)
        assert claim.priority == compute(claim).score
        assert (claim.first_submitted_at is None) == (claim.submission_count == 0)
        assert claim.created_at <= claim.updated_at
    assert Claim.history.filter(history_user__isnull=True).count() == Claim.objects.count()
    assert ClaimLine.history.count() == ClaimLine.objects.count()


def test_lines_use_the_practice_codes(seeded: str) -> None:
    for practice in Practice.objects.all():
        codes = set(
            FeeScheduleLine.objects.filter(practice=practice).values_list(
                "procedure_code", flat=True
            )
        )
        lines = ClaimLine.objects.filter(claim__practice=practice)
        assert set(lines.values_list("procedure_code", flat=True)) == codes
    dental = ClaimLine.objects.filter(claim__practice__slug="sunrise-dental")
    assert dental.exclude(tooth="").exists() and dental.exclude(surfaces="").exists()
    assert not Claim.objects.filter(practice__slug="sunrise-dental").exclude(diagnosis_codes=[])
    medical = Claim.objects.filter(practice__slug="maple-family-medicine").prefetch_related("lines")
    for claim in medical:
        assert claim.diagnosis_codes
        lines = list(claim.lines.all())
        assert scrubber.missing_diagnosis_pointer(claim, lines, claim.service_date_from) == []


def test_payer_mix_is_weighted(seeded: str) -> None:
    mix = Counter(Claim.objects.values_list("payer__name", flat=True))
    assert mix["Delta Dental"] > mix["MetLife Dental"] > mix["Guardian"]
    assert mix["Blue Cross Blue Shield"] > mix["Aetna"]
