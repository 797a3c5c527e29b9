"""QA: the weekly sample (configurable size, the job run twice opens one set), recording a
checklist, results per function owner."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from claims.choices import ClaimStatus
from sops import qa
from sops.choices import QaResult, QaStatus
from sops.qa_models import QaPlan, QaReview
from tests.claims import conftest as claim_fixtures
from tests.sops import scene

pytestmark = pytest.mark.django_db
make_claim = claim_fixtures.make_claim

ALL_PASS = {key: {"passed": True, "finding": ""} for key, _ in qa.CHECKLIST}


@pytest.fixture
def qw(world: Any, make_claim: Any) -> Any:
    scene.build(world)
    world.claims = [make_claim(status=ClaimStatus.SUBMITTED) for _ in range(4)]
    make_claim()  # a draft: never sampled
    QaPlan.objects.create(practice=world.sunrise, sample_size=3)
    world.tomorrow = timezone.localdate() + dt.timedelta(days=1)
    return world


def test_samples_the_plans_number_once_a_week(qw):
    assert qa.sample_week(qw.tomorrow) == 3
    assert qa.sample_week(qw.tomorrow) == 0
    reviews = QaReview.objects.filter(practice=qw.sunrise)
    assert reviews.count() == 3
    assert {r.claim_id for r in reviews} <= {c.pk for c in qw.claims}
    # No coding review owner at Sunrise: its manager reviews.
    assert {r.owner for r in reviews} == {qw.sam}
    assert all(r.next_action == "review" and r.is_open for r in reviews)


def test_record_stores_checks_and_the_result_per_function_owner(qw):
    qa.sample_week(qw.tomorrow)
    review = QaReview.objects.filter(practice=qw.sunrise).first()
    with pytest.raises(PermissionDenied):
        qa.qa_review_record(actor=qw.bill, review=review, checks=ALL_PASS)
    failing = {**ALL_PASS, "codes": {"passed": False, "finding": ""}}
    with pytest.raises(ValidationError):
        qa.qa_review_record(actor=qw.sam, review=review, checks=failing)
    failing["codes"]["finding"] = "D2740 billed, D2750 charted"
    done = qa.qa_review_record(actor=qw.sam, review=review, checks=failing)
    assert (done.status, done.result, done.completed_by) == (
        QaStatus.DONE,
        QaResult.FAIL,
        qw.sam,
    )
    assert done.checks["codes"] == {"passed": False, "finding": "D2740 billed, D2750 charted"}
    assert done.next_action == "" and done.next_action_due is None
    assert done.function_owner is None  # Sunrise has no claim submission function


def test_a_zero_plan_samples_nothing(qw):
    QaPlan.objects.filter(practice=qw.sunrise).update(sample_size=0)
    assert qa.sample_week(qw.tomorrow) == 0
