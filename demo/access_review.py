"""Demo: this quarter's access review at each practice (issue 14), open in the manager's
My day; at Sunrise Dental sam.manager has already confirmed the vendor lead's access, so
the page shows a decided line next to the ones still to decide.

A second seed run adds nothing: one review per practice and quarter, the lead's line
confirmed only while it is undecided.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from practices.models import Practice
from sops import access_reviews
from sops.access_review_models import AccessReview, AccessReviewLine

CONFIRMED_AT = {"sunrise-dental": "val.vendorlead"}


def seed_access_reviews(practices: Iterable[Practice]) -> None:
    """Open this quarter's review at each practice with vendor accounts."""
    today = timezone.localdate()
    for practice in practices:
        access_reviews.open_review(practice, today)
        username = CONFIRMED_AT.get(practice.slug)
        review = AccessReview.objects.filter(
            practice=practice, quarter=access_reviews.quarter_of(today)
        ).first()
        if review is None or username is None or review.owner is None:
            continue
        line = review.lines.filter(user__username=username, decision="").first()
        if line is not None and review.lines.filter(decision="").count() > 1:
            access_reviews.access_review_decide(
                actor=review.owner, line=line, decision="confirmed", note="Demo: still needed"
            )


def reset_access_reviews(practices: Iterable[Practice]) -> None:
    """Remove the demo practices' access reviews (inside ``pgtrigger.ignore``)."""
    practices = list(practices)
    AccessReviewLine.objects.filter(review__practice__in=practices).delete()
    AccessReview.objects.filter(practice__in=practices).delete()
