"""The demo's access reviews (demo/access_review.py): sam.manager has this quarter's review
of Sunrise Dental open in My day, the vendor lead's access confirmed and vera's still to
decide; a second seed run adds nothing, and ``--reset`` opens it afresh."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction

from sops.access_review_models import AccessReview, AccessReviewLine
from tests.conftest import login


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """Seed once for the module, rolled back after its last test."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", stdout=StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def seeded(demo: None, db: Any) -> None:
    return demo


def _sunrise() -> AccessReview:
    return AccessReview.objects.get(practice__slug="sunrise-dental")


def test_sam_has_one_open_review_in_my_day(seeded: None, client: Any) -> None:
    review = _sunrise()
    assert review.is_open and review.owner.username == "sam.manager"
    decisions = {line.user.username: line.decision for line in review.lines.all()}
    assert decisions == {"vera.vendor": "", "val.vendorlead": "confirmed"}
    login(client, review.owner)
    page = client.get("/queues/my-day/")
    assert f"/sops/access-review/{review.pk}/" in page.text
    detail = client.get(f"/sops/access-review/{review.pk}/")
    assert "vera.vendor" in detail.text and "Demo: still needed" in detail.text


def test_a_second_seed_adds_nothing_and_reset_opens_it_afresh(seeded: None) -> None:
    before = (AccessReview.objects.count(), AccessReviewLine.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (AccessReview.objects.count(), AccessReviewLine.objects.count()) == before
    old = _sunrise().pk
    call_command("seed_demo", "--reset", stdout=StringIO())
    review = _sunrise()
    assert review.pk != old and review.is_open
    assert get_user_model().objects.get(username="vera.vendor").is_active
